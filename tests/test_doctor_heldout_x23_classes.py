"""Classes found by the held-out round heldx23 (issue 10) in `rigfit doctor --from FILE`:

- docker compose puts "service-1  | " before every line of a container's output: the UI's start-up lines behind it
  are read as if printed bare (the GPU, its VRAM);
- a UI that started twice in one paste (a restart loop, a relaunch, the log pasted twice) prints the same
  "Device: cuda:0 NAME" line twice: one card, not two;
- ComfyUI's and Forge's "Total VRAM N MB, total RAM M MB" line gives the machine's RAM when no /proc/meminfo was
  pasted (said as read from the UI's line; available RAM stays unknown)."""

from __future__ import annotations

from tests.doctor_paste_helpers import pasted_profile

COMPOSE = "heldx23-12-ai-dock-forge-compose-prefix-gtx1660super-5927mb-restart-loop.txt"
A100 = "heldx23-09-comfyui-a100-80gb-novram-cuda-device-1-banner.txt"
BILBOX = "../../logs/unrelated/comfyui-venv-startup-bilbox.txt"


def test_compose_prefixed_start_up_lines_are_read() -> None:
    [gpu] = pasted_profile(COMPOSE).gpus  # its start-up printed twice (a restart loop): one card
    assert (gpu.vendor, gpu.name, gpu.vram_bytes) == ("nvidia", "NVIDIA GeForce GTX 1660 SUPER", 5927 * 2**20)


def test_a_start_up_printed_twice_is_one_device() -> None:
    [gpu] = pasted_profile(BILBOX).gpus
    assert (gpu.name, gpu.vram_bytes) == ("NVIDIA GeForce RTX 3070 Ti", 8192 * 2**20)


def test_the_ui_start_up_line_gives_the_total_ram() -> None:
    for name, mib in [(A100, 1031746), (BILBOX, 32585), (COMPOSE, 32010)]:
        profile = pasted_profile(name)
        assert profile.memory.total_bytes == mib * 2**20, name
        assert profile.memory.available_bytes is None, name
        assert any("total RAM" in w for w in profile.warnings), name
