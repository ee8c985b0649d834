"""The classes round heldd10 added (issue 10), each checked on real outputs beyond the held-out paste that showed
it missing: a line pasted as inline code, an `nvidia-smi -q` block cut above its "GPU 0000..." header, a rocminfo
paste cut inside its last Chip ID, glxinfo's dedicated "Video memory", and the NVRM lines that name the GPU the
running driver drives."""

from __future__ import annotations

from pathlib import Path

from rigfit.probe.gpu.kernel_log import parse_kernel_log
from rigfit.probe.gpu.lspci import parse_lspci
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.renderers import parse_named_gpus
from rigfit.probe.gpu.rocminfo import parse_rocminfo
from tests.conftest import FIXTURES

DOCTOR = FIXTURES / "doctor"


def _text(name: str, folder: Path = DOCTOR) -> str:
    return (folder / name).read_text(encoding="utf-8")


def test_a_line_pasted_as_inline_code_is_read_like_the_bare_line() -> None:
    wrapped = _text("lspci-one-line-backticks--cmp-50hx-tu102.txt")
    bare = wrapped.strip().strip("`") + "\n"
    assert [ln for ln in clean_lines(wrapped) if ln] == [ln for ln in clean_lines(bare) if ln] == [bare.strip()]
    (device,) = [d for d in parse_lspci(wrapped) if d.is_gpu]
    assert (device.slot, device.vendor) == ("0000:04:00.0", "nvidia")
    # a lone backtick (a chat's inline-code opener on its own line) is no output line
    assert clean_lines(_text("journal-no-host-ring-gfx-timeout-mode2-reset-succeeded--no-id.txt"))[0].startswith(
        "Jan 02"
    )


def test_nvidia_smi_q_cut_above_its_header_still_gives_the_gpu_by_its_pci_block() -> None:
    smi = parse_nvidia_smi(_text("nvidia-smi-q-mid-cut-no-name--10de-1401.txt"))
    assert [(g.name, g.bdf, g.pci_id, g.memory_total_mib) for g in smi.gpus] == [
        (None, "0000:01:00.0", "10de:1401", None)
    ]
    assert smi.driver_version is None
    # whole -q blocks: one GPU each, as before (their PCI block, when pasted, adds the id to the same GPU)
    for name, expected in (("nvidia-smi-q--gtx780.txt", 1), ("nvidia-smi-q-8-attached-one-shown--v100-sxm2.txt", 1)):
        assert len(parse_nvidia_smi(_text(name)).gpus) == expected


def test_a_chip_id_cut_on_the_last_line_is_no_id_but_whole_numbers_stay() -> None:
    (cut,) = parse_rocminfo(_text("rocminfo-agent2-only-chip-id-cut--gfx1032-rx6600xt.txt")).gpus
    assert (cut.gfx, cut.marketing_name, cut.chip_id) == ("gfx1032", "AMD Radeon RX 6600 XT", None)
    # a paste ending on a line with no self-checking form (BDFID) keeps it; a whole listing keeps every chip id
    (mid,) = parse_rocminfo(_text("real/rocminfo/gfx1100-rx7900xtx-agent-excerpt-mid-output.txt", FIXTURES)).gpus
    assert (mid.chip_id, mid.bdf) == ("744c", "0000:23:00.0")
    whole = parse_rocminfo(_text("real/rocminfo/gfx1032-rx6600xt-ryzen5-3600-rocm501.txt", FIXTURES))
    assert [g.chip_id for g in whole.gpus] == ["73ff"]


def test_glxinfo_video_memory_is_vram_only_on_a_card_without_unified_memory_outside_wsl() -> None:
    def memory(name: str) -> list[int | None]:
        return [g.memory_total_mib for g in parse_named_gpus(_text(name))]

    assert memory("glxinfo-B--rx6600-navi23-73ff-8192mb.txt") == [8192]
    assert memory("glxinfo-B--arc-a750-56a1.txt") == [8128]  # "Unified memory: no"
    assert memory("glxinfo-cut--uhd620-5917.txt") == [None]  # "Unified memory: yes": shared
    assert memory("glxinfo-B-wsl-d3d12--arc-a380.txt") == [None]  # WSL's D3D12 layer: shared, whatever it says
    # radeonsi's "(navi23, LLVM ..., DRM ..., kernel)" is the renderer's, not the card's name
    assert [g.name for g in parse_named_gpus(_text("glxinfo-B--rx6600-navi23-73ff-8192mb.txt"))] == [
        "AMD Radeon RX 6600"
    ]


def test_nvrm_lines_of_the_running_driver_name_the_gpus_it_drives() -> None:
    one = parse_kernel_log(_text("dmesg-nvrm-xid31-mmu-fault-python--no-model.txt"))
    assert [(g.bdf, g.driver, g.bound) for g in one.gpus] == [("0000:01:00.0", "nvidia", True)]
    three = parse_kernel_log(_text("dmesg-T-grep-nvrm-xid-43-31-94--535-three-gpus.txt"))
    assert [g.bdf for g in three.gpus] == ["0000:00:05.0", "0000:00:07.0", "0000:00:08.0"]
    # Xid 79: the bus lost the GPU, so the driver does not hold it
    lost = parse_kernel_log(_text("xid79--popos-journal-fallen-off-bus.txt", FIXTURES / "logs"))
    assert [g.bound for g in lost.gpus] == [False]
    # a log with NVRM's load line only names no GPU
    assert parse_kernel_log(_text("dmesg-nvrm-open-530-chipset-error-prime-fence--optimus.txt")).gpus == []
