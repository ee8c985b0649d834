"""The classes round heldd7 (issue 10) fixed, each checked beyond the held-out pastes where a real output was found:
nvidia-smi 610's "KMD Version / CUDA UMD Version" header, GPU listings by PCI id (a display-class modalias, a
vendor:device pair beside a GPU word) and eglinfo pasted where lspci goes, glxinfo's dedicated video memory,
rocm-smi's "Device Name" on entries without a Device ID, /proc/cpuinfo cut inside a later processor block or pasted
as one block, the BSDs' "amd64", and an amdgpu reset that failed."""

from __future__ import annotations

from pathlib import Path

from rigfit.probe.cpu_text import parse_cpuinfo, parse_lscpu
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.faults import kernel_faults
from rigfit.probe.gpu.id_listings import parse_id_listings
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.nvidia_smi_cut import with_cut_rows
from tests.doctor_helpers import pasted, read


def test_the_610_header_names_the_driver_and_cuda_and_a_cut_one_names_neither() -> None:
    text = read("nvidia-smi-610-kmd-umd-header--rtx3080-elided-16g.txt")
    out = parse_nvidia_smi(text)
    assert (out.driver_version, out.cuda_version) == ("610.43.03", "13.3")
    header = next(ln for ln in text.splitlines() if "KMD Version" in ln)
    cut = text.replace(header, header[: header.index("13.3") + 3])  # the selection stopped inside "13.3"
    assert with_cut_rows(parse_nvidia_smi(cut), cut).cuda_version is None


# a blog post on Linux hardware facts from /sys (it links https://github.com/jouyouyun/hardware; SOURCES.md): a
# ThinkPad's GPU and sound card uevents
UEVENT_GPU = """DRIVER=nouveau
PCI_CLASS=30000
PCI_ID=10DE:0A75
PCI_SUBSYS_ID=17AA:3957
PCI_SLOT_NAME=0000:02:00.0
MODALIAS=pci:v000010DEd00000A75sv000017AAsd00003957bc03sc00i00
"""
UEVENT_SOUND = """DRIVER=snd_hda_intel
PCI_CLASS=40300
PCI_ID=8086:1E20
PCI_SUBSYS_ID=17AA:21FA
PCI_SLOT_NAME=0000:00:1b.0
MODALIAS=pci:v00008086d00001E20sv000017AAsd000021FAbc04sc03i00
"""


def test_a_uevent_names_its_gpu_by_modalias_and_a_sound_cards_ids_are_no_gpu() -> None:
    (gpu,) = parse_id_listings(UEVENT_GPU)
    assert (gpu.vendor_id, gpu.device_id, gpu.bdf) == ("10de", "0a75", "0000:02:00.0")
    assert parse_id_listings(UEVENT_SOUND) == []
    assert [g.device_id for g in parse_id_listings(UEVENT_GPU + "\n" + UEVENT_SOUND)] == ["0a75"]


def test_listings_by_id_are_read_only_where_lspci_and_the_renderer_tools_found_nothing(tmp_path: Path) -> None:
    lact = pasted(tmp_path / "lact", "lspci", read("lact-cli-info--7900xtx-744c.txt"))
    assert [(g.pci_id, g.bdf, g.gfx) for g in lact.gpus] == [("1002:744c", "0000:03:00.0", "gfx1100")]
    usb_only = pasted(tmp_path / "usb", "lspci", read("dmesg-usb-ata-only--no-gpu-lines.txt"))
    assert usb_only.gpus == []
    lspci = pasted(tmp_path / "lspci", "lspci", read("lspci-nn--navi31.txt"))
    assert len(lspci.gpus) == 1


def test_eglinfo_names_the_nvidia_gpu_and_its_driver_never_llvmpipe(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "lspci", read("eglinfo-B--rtx3090-565-and-llvmpipe.txt"))
    assert [g.name for g in profile.gpus] == ["NVIDIA GeForce RTX 3090"]
    assert profile.nvidia_driver == "565.57.01"


def test_rocm_smi_entries_without_a_device_id_keep_their_device_name(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "rocm-smi", read("rocm-smi-i-partitions-cut--mi300x-74a1.txt"))
    assert {g.name for g in profile.gpus} == {"AMD Instinct MI300X"} and {g.gfx for g in profile.gpus} == {"gfx942"}


def test_cpuinfo_flags_come_from_a_whole_block_when_a_later_one_is_cut() -> None:
    cpu = parse_cpuinfo(read("cpuinfo-two-processors-cut--xeon-e5-2660v3.txt"))
    assert cpu.flags_complete and "avx2" in (cpu.flags or [])
    # the same paste cut in its first block keeps the flags unknown past the cut
    whole = read("cpuinfo-two-processors-cut--xeon-e5-2660v3.txt")
    first_flags = next(ln for ln in whole.splitlines() if ln.startswith("flags"))
    cut_first = whole[: whole.index(first_flags) + 60]
    assert not parse_cpuinfo(cut_first).flags_complete


def test_one_pasted_processor_block_is_no_thread_count_and_a_board_trailer_ends_the_list() -> None:
    assert parse_cpuinfo(read("cpuinfo-one-processor--nvidia-carmel-0x4e.txt")).threads is None
    assert parse_cpuinfo(read("cpuinfo-rpi4-aarch64-no-model-name.txt")).threads == 4


def test_the_bsd_amd64_architecture_is_x86_64() -> None:
    cpu = parse_lscpu(read("lscpu-openbsd-clone-amd64-flags-cut--fx8370.txt"))
    assert cpu.arch == "x86_64" and cpu.isa == "x86"


def test_a_failed_amdgpu_recovery_is_a_blocker_and_a_recovered_ring_reset_is_not(tmp_path: Path) -> None:
    failed = pasted(tmp_path / "failed", "dmesg", read("journal-ring-timeout-recovery-failed--gfx6-m370x.txt"))
    assert "gpu.reset_failed" in {f.id for f in findings_for(failed)}
    # the ring reset failed there, but the full GPU reset that followed succeeded
    recovered = kernel_faults(read("dmesg-ring-timeout--rx5700xt-popos.txt"))
    assert "gpu_reset_failed" not in {f.kind for f in recovered}
