"""The classes round heldd8 added, each on real pastes beyond the held-out one that showed it (issue 10):
display adapters that compute nothing, lscpu flag lines wrapped at a word boundary or inside a word, and
/proc/cpuinfo pasted as `grep "model name"` lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.kb.display_adapters import display_adapter, display_adapters
from rigfit.probe.cpu_text import flag_states, parse_cpuinfo, parse_lscpu, x86_64_level
from rigfit.probe.gather import findings_for
from tests.conftest import FIXTURES
from tests.test_doctor_heldout_d import assembled

DOCTOR = FIXTURES / "doctor"


def _text(name: str) -> str:
    return (DOCTOR / name).read_text(encoding="utf-8")


def test_a_vm_with_a_gpu_passed_through_keeps_the_gpu_and_drops_the_virtual_vga(tmp_path: Path) -> None:
    profile = assembled(tmp_path, {"lspci": "lspci-nn-proxmox-std-vga-and-rtx3080-passthrough.txt"})
    assert [(g.pci_id, g.compute_capability) for g in profile.gpus] == [("10de:2206", "8.6")]
    assert [d.adapter for d in profile.display_only] == ["qemu-std-vga"]
    assert "gpu.display_only" not in {f.id for f in findings_for(profile)}


def test_a_vm_with_only_its_virtual_vga_is_told_to_pass_a_gpu_through(tmp_path: Path) -> None:
    profile = assembled(tmp_path, {"lspci": "lspci-nnk-virtualbox-vga-only.txt"})
    assert profile.gpus == []
    finding = next(f for f in findings_for(profile) if f.id == "gpu.display_only")
    assert "VirtualBox" in finding.message and "computes nothing" in finding.message
    assert finding.fix is not None and "pass a real GPU through" in finding.fix


def test_hyper_v_virtual_vga_is_a_vm_display_not_wsl(tmp_path: Path) -> None:
    """Microsoft's vendor id is WSL's adapter and Hyper-V's VGA alike: the latter is a VM's display adapter."""
    profile = assembled(tmp_path, {"lspci": "lspci-vnn-hyperv-virtual-vga--azure.txt"})
    assert profile.gpus == [] and [d.adapter for d in profile.display_only] == ["hyperv-vga"]
    assert not any("WSL" in w for w in profile.warnings)
    assert "gpu.display_only" in {f.id for f in findings_for(profile)}


def test_display_adapters_match_by_id_or_by_whole_name_only() -> None:
    assert all(a.devices and a.names for a in display_adapters())
    assert display_adapter("1a03:2000", None) is not None  # ASPEED BMC
    assert display_adapter(None, "VMware SVGA II Adapter") is not None  # lshw prints no id
    assert display_adapter("10de:2206", "NVIDIA GeForce RTX 3080") is None
    assert display_adapter("1002:7480", None) is None
    assert display_adapter(None, "Bochsman 3000") is None


def test_a_wrap_between_two_flags_at_the_widest_line_is_not_joined() -> None:
    """The i5-2400 paste: its first flag line is the widest and ends with "ssse3", the next starts with "cx16"."""
    cpu = parse_lscpu(_text("lscpu-tree-flags-wrapped--i5-2400-avx-no-avx2.txt"))
    assert cpu.flags is not None and {"ssse3", "cx16"} <= set(cpu.flags) and "ssse3cx16" not in cpu.flags
    assert x86_64_level(cpu.flags, cpu.flags_complete) == 2


def test_a_wrap_inside_a_flag_is_still_joined() -> None:
    """A fixed-width terminal cut words: "ss|e2", "nonstop|_tsc", "ibrs_enha|nced", "rdsee|d"."""
    cpu = parse_lscpu(_text("lscpu-fixed-width-wrap-midword--i7-12700-vm.txt"))
    assert cpu.flags is not None
    assert {"sse2", "nonstop_tsc", "tsc_deadline_timer", "ibrs_enhanced", "rdseed", "vaes"} <= set(cpu.flags)
    assert not {"e2", "_tsc", "nced"} & set(cpu.flags)
    assert x86_64_level(cpu.flags, cpu.flags_complete) == 3


def test_no_xsave_means_no_avx_and_nothing_built_on_it() -> None:
    """A QEMU guest without xsave: Linux clears AVX (cpuid-deps) and keeps f16c; AVX2 is absent with it though the
    paste is cut before where avx2 would be printed."""
    cpu = parse_lscpu(_text("lscpu-qemu-vm-no-avx-cut--xeon-gold-6146.txt"))
    states, problems = flag_states(cpu.flags, cpu.flags_complete)
    assert (states["f16c"], states["avx"], states["avx2"], states["fma"]) == (True, False, False, False)
    assert problems == []


def test_grepped_model_name_lines_count_the_cpus() -> None:
    cpu = parse_cpuinfo(_text("cpuinfo-grep-and-block-cut--i3-m370-no-avx.txt"))
    assert (cpu.threads, cpu.cores, cpu.sockets) == (4, 2, 1)
    # one block alone still counts nothing
    one_block = _text("cpuinfo-grep-and-block-cut--i3-m370-no-avx.txt").split("$ cat /proc/cpuinfo\n")[1]
    assert parse_cpuinfo(one_block).threads is None


@pytest.mark.parametrize(
    "paste",
    [
        "nvidia-smi-exe-wddm-460--rtx207x-elided.txt",
        "nvidia-smi-quoted-wddm--gtx1080ti-531.txt",
        "nvidia-smi-q-i0-4-attached-wddm--gtx1080ti-442.txt",
        "nvidia-smi-591-powershell-wddm--rtx4050-elided-6g.txt",
    ],
)
def test_nvidia_smi_from_windows_says_the_machine_is_windows(tmp_path: Path, paste: str) -> None:
    """Windows' nvidia-smi.exe prints the driver model (WDDM/TCC) where Linux's prints Persistence-M."""
    profile = assembled(tmp_path, {"nvidia-smi": paste})
    assert profile.os.system == "Windows"
    assert "system.not_linux" in {f.id for f in findings_for(profile)}


@pytest.mark.parametrize("paste", ["nvidia-smi-wsl-537--gtx1650-elided.txt", "nvidia-smi-535-vm-bus--rtx3060-12g.txt"])
def test_nvidia_smi_from_wsl_or_linux_says_nothing_of_windows(tmp_path: Path, paste: str) -> None:
    profile = assembled(tmp_path, {"nvidia-smi": paste})
    assert profile.os.system is None
    assert "system.not_linux" not in {f.id for f in findings_for(profile)}
