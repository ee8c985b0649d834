"""Classes found by the held-out round heldd15 (issue 10), the first one fed the way a user does it: each real paste
given whole to `rigfit doctor --from FILE`, no capture, no slot (tests/fixtures/doctor/pasted/, SOURCES.md).

- kohya_ss's (and SD.Next's installer's) "Torch detected GPU: NAME VRAM N Arch (M, m) Cores C" lines, one per
  device, wrapped by rich onto an indented next line, and the "Torch 2.1.2+cu118" line before them;
- rocminfo's CPU agent named when the paste is grepped or cut before the agent's "Device Type" (the first agent is
  the CPU), and the placeholder name "CPU" (WSL) never taken for a model;
- recognition: ollama's Go standard-log lines ("2024/11/24 09:11:28 routes.go:1197: INFO server config"), llama.cpp's
  "ggml_init_cublas: no CUDA devices found", /etc/os-release, sycl-ls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.cli import app
from rigfit.probe.gather import findings_for
from rigfit.probe.paste_source import recognised_tools
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import pasted_profile

PASTED = FIXTURES / "doctor" / "pasted"
runner = CliRunner()
MIB = 2**20


def _tools(name: str) -> set[str]:
    return {t.id for t in recognised_tools((PASTED / name).read_text(encoding="utf-8"))}


def test_kohya_torch_detected_gpu_wrapped_line_is_the_gpu_torch_sees() -> None:
    profile = pasted_profile("kohya-gui-sh-nvcc-11.5-startup--rtx3090-24150.txt")
    assert [(g.name, g.compute_capability, g.vram_bytes) for g in profile.gpus] == [
        ("NVIDIA GeForce RTX 3090", "8.6", 24150 * MIB)
    ]
    assert profile.torch is not None and (profile.torch.version, profile.torch.cuda) == ("2.1.2+cu118", "11.8")
    # the system CUDA toolkit (nvcc 11.5) is no driver: nothing is claimed about the driver
    assert profile.nvidia_driver is None


def test_one_installer_line_per_device_two_same_gpus_are_two() -> None:
    profile = pasted_profile("kohya-kaggle-startup--2x-tesla-t4-15102.txt")
    assert [(g.name, g.compute_capability, g.vram_bytes) for g in profile.gpus] == [
        ("Tesla T4", "7.5", 15102 * MIB),
        ("Tesla T4", "7.5", 15102 * MIB),
    ]


def test_an_sdnext_start_up_cut_before_its_torch_lines_names_no_gpu() -> None:
    profile = pasted_profile("sdnext-startup-linux-cut-at-packages--no-gpu-line.txt")
    assert profile.gpus == [] and profile.torch is None


@pytest.mark.parametrize(
    ("name", "model"),
    [
        # grepped Name lines: the first (non-gfx) agent is the CPU
        ("rocminfo-grep-name-lines--i7-9700-gfx1100-rx7900xtx.txt", "Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz"),
        # cut at the CPU agent's Uuid / empty Uuid, before its Device Type line
        (
            "pip-list-torch-2.4.0-rocm6.1-plus-rocminfo-cut-in-cpu-agent--xeon-e5-2620v4.txt",
            "Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz",
        ),
        (
            "issue-form-gpu-marketing-name-gfx1102-plus-rocminfo-support-cut--7840hs.txt",
            "AMD Ryzen 7 7840HS w/ Radeon 780M Graphics",
        ),
        ("rocminfo-agents-cut-in-cpu-pool--i7-9700.txt", "Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz"),
        # WSL's rocminfo names its CPU agent "CPU": no model
        ("rocminfo-wsl-prompt-cut-in-cpu-agent--cpu-unnamed.txt", None),
    ],
)
def test_rocminfo_cpu_agent_names_the_cpu(name: str, model: str | None) -> None:
    assert pasted_profile(name).cpu.model == model


def test_the_grepped_gpu_agent_is_still_the_gpu() -> None:
    profile = pasted_profile("rocminfo-grep-name-lines--i7-9700-gfx1100-rx7900xtx.txt")
    assert [(g.name, g.gfx) for g in profile.gpus] == [("Radeon RX 7900 XTX", "gfx1100")]


def test_ollama_go_log_line_alone_is_recognised_and_claims_nothing() -> None:
    name = "ollama-server-config-debian-cut--no-device.txt"
    assert _tools(name) == {"llm-runtime-devices"}
    profile = pasted_profile(name)
    assert profile.gpus == [] and profile.cpu.model is None


def test_os_release_and_old_ggml_line_are_recognised() -> None:
    name = "uname-m-etc-release-popos-llamacpp-cut-at-ggml-init.txt"
    assert _tools(name) == {"llm-runtime-devices", "os-release", "uname-m"}
    profile = pasted_profile(name)
    assert (profile.os.distro_id, profile.os.distro_version, profile.os.pretty_name) == (
        "pop",
        "22.04",
        "Pop!_OS 22.04 LTS",
    )
    assert profile.gpus == []


def test_doctor_json_from_the_file_as_the_user_gives_it(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["doctor", "--from", str(PASTED / "kohya-kaggle-startup--2x-tesla-t4-15102.txt"), "--json"]
    )
    data = json.loads(result.output)
    assert [g["name"] for g in data["profile"]["gpus"]] == ["Tesla T4", "Tesla T4"]


@pytest.mark.parametrize(
    "text",
    [
        # lines that look alike but are no such output (a shell variable, a Go program's own log, a bracketed list)
        "PRETTY_NAME is what you want to print\n",
        "[INFO] GPU arch: gfx1032\n",
        "2024/11/24 09:11:28 starting server\n",
    ],
)
def test_look_alikes_are_not_recognised(text: str) -> None:
    assert recognised_tools(text) == []


@pytest.mark.parametrize(
    ("name", "backend"),
    [
        ("uname-m-etc-release-popos-llamacpp-cut-at-ggml-init.txt", "CUDA"),
        ("ollama-rocm-docker-inference-compute-gfx1100-744c-20gib-plus-lsmod-ls-sys-module.txt", "ROCm"),
    ],
)
def test_llm_runtime_finding_no_device_is_a_finding_with_its_fix(name: str, backend: str) -> None:
    profile = pasted_profile(name)
    assert [(f.kind, f.detail) for f in profile.gpu_faults] == [("runtime_no_device", backend)]
    found = [f for f in findings_for(profile) if f.id == "gpu.runtime_no_device"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert ("rocminfo" if backend == "ROCm" else "nvidia-smi") in found[0].fix


def test_a_runtime_that_found_its_devices_is_no_finding() -> None:
    profile = pasted_profile("ollama-ps-plus-nvidia-smi-570.153.02--rtx5090-32607mib-cut.txt")
    assert profile.gpu_faults == []
