"""The classes round heldd9 added (issue 10), each on real outputs beyond the held-out paste that showed it missing:
`nvidia-smi -q -x` (also pasted through a web form's entities), lscpu listing several core types, every Xid of a
kernel log named by kind with the fix of the gravest, amdgpu page faults of a program (the copy engines' own fix),
the driver version from the kernel log's NVRM loading line, and clinfo's NVIDIA platform cut before its devices."""

from __future__ import annotations

from pathlib import Path

from rigfit.kb.nvidia_xids import xid_group, xid_groups
from rigfit.probe.cpu_text import parse_lscpu
from rigfit.probe.fault_findings import gpu_fault_findings
from rigfit.probe.gpu.faults import kernel_faults
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.renderers import clinfo_cuda_platform, parse_named_gpus
from rigfit.probe.gpu.runtimes import nvidia_module_loaded
from rigfit.probe.profile import Profile
from tests.conftest import FIXTURES

DOCTOR = FIXTURES / "doctor"
LOGS = FIXTURES / "logs"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _findings(text: str) -> dict[str, str]:
    profile = Profile()
    profile.gpu_faults = kernel_faults(text)
    return {f.id: f"{f.message} || {f.fix}" for f in gpu_fault_findings(profile)}


def test_a_web_forms_entities_are_undone_in_any_paste() -> None:
    lines = clean_lines(_text(DOCTOR / "nvidia-smi-q-x-html-escaped-wsl--rtx4090-591.txt"))
    assert "<driver_version>591.74</driver_version>" in [ln.strip() for ln in lines]
    assert not any("&gt;" in ln or "&nbsp;" in ln for ln in lines)


def test_nvidia_smi_xml_gives_the_gpu_driver_and_cuda_and_leaves_cut_memory_unknown() -> None:
    smi = parse_nvidia_smi(_text(DOCTOR / "nvidia-smi-q-x-html-escaped-wsl--rtx4090-591.txt"))
    assert (smi.driver_version, smi.cuda_version, smi.attached) == ("591.74", "13.1", 1)
    assert [(g.name, g.bdf, g.memory_total_mib) for g in smi.gpus] == [
        ("NVIDIA GeForce RTX 4090", "0000:01:00.0", None)
    ]


def test_lscpu_with_several_core_types_names_them_and_leaves_cores_unknown_when_one_is_cut() -> None:
    cut = parse_lscpu(_text(DOCTOR / "lscpu-aarch64-two-clusters-wrapped-midword--a510-a710.txt"))
    assert (cut.model, cut.threads, cut.cores, cut.sockets) == ("Cortex-A510 + Cortex-A710", 8, None, 1)
    assert {"sha512", "flagm2", "atomics"} <= set(cut.flags or [])
    # one core type: unchanged (the Snapdragon paste lists one "Model name")
    one = parse_lscpu(_text(DOCTOR / "lscpu-aarch64-wrapped-flags--snapdragon.txt"))
    assert one.model == "Cortex-A510"
    # "Model name: -" blocks (RK3588): the SoC from "Model", as before
    assert parse_lscpu(_text(DOCTOR / "lscpu-model-name-dash--rk3588-cut.txt")).model == "Rockchip RK3588"


def test_every_xid_of_the_log_is_named_and_the_gravest_kind_gets_its_fix() -> None:
    faults = kernel_faults(_text(DOCTOR / "dmesg-T-grep-nvrm-xid-43-31-94--535-three-gpus.txt"))
    assert [f.detail for f in faults if f.kind == "nvidia_xid"] == ["43, 31, 94"]
    text = _findings(_text(DOCTOR / "dmesg-T-grep-nvrm-xid-43-31-94--535-three-gpus.txt"))["gpu.nvidia_xid"]
    assert "Xid 43, 31: a program's GPU work failed" in text and "Xid 94: a GPU memory (ECC) error" in text
    assert "nvidia-smi -q -d ECC" in text.split(" || ")[1]  # the memory fix outranks the program's
    # an Xid 13 alone (another machine's journal): the program's fix
    alone = _findings(_text(DOCTOR / "journal-xid13-graphics-exception.txt"))["gpu.nvidia_xid"]
    assert "CUDA_LAUNCH_BLOCKING=1" in alone.split(" || ")[1]


def test_xid_groups_do_not_overlap() -> None:
    numbers = [n for group in xid_groups() for n in group.xids]
    assert len(numbers) == len(set(numbers))
    assert xid_group(79) is not None and xid_group(1) is None


def test_a_programs_gpu_page_fault_is_a_finding_and_the_copy_engines_get_their_own_fix() -> None:
    sdma = _findings(_text(DOCTOR / "dmesg-amdgpu-gfxhub-page-fault-sdma1-blank-lines.txt"))["gpu.page_fault"]
    assert "HSA_ENABLE_SDMA=0" in sdma
    # a shader client (TCP) on another machine's journal: the general fix, no SDMA advice
    tcp = _findings(_text(LOGS / "amd-page-fault--comfyui-9070xt-journal.txt"))["gpu.page_fault"]
    assert "HSA_ENABLE_SDMA" not in tcp and "HSA_OVERRIDE_GFX_VERSION" in tcp
    # vmid 0 is the driver's own address space: after a ring reset it is no program's fault
    assert "gpu.page_fault" not in _findings(_text(DOCTOR / "dmesg-compute-ring-timeout--gfx1201.txt"))


def test_the_kernel_logs_nvrm_loading_line_gives_the_driver_version() -> None:
    assert nvidia_module_loaded(_text(DOCTOR / "dmesg-T-grep-nvrm-xid-43-31-94--535-three-gpus.txt")) == "535.183.01"
    assert nvidia_module_loaded(_text(DOCTOR / "dmesg-fallen-off-bus-multiline--10de-26b5.txt")) == "570.158.01"
    assert nvidia_module_loaded(_text(DOCTOR / "journal-comfyui-service-startup-no-kernel-lines.txt")) is None


def test_clinfos_nvidia_platform_gives_the_cuda_level_but_no_gpu() -> None:
    text = _text(DOCTOR / "clinfo-platform-only-cut--nvidia-cuda-12.8.txt")
    assert clinfo_cuda_platform(text) == "12.8"
    assert parse_named_gpus(text) == []
    # an Intel platform (another clinfo paste) has no CUDA level
    assert clinfo_cuda_platform(_text(DOCTOR / "clinfo-quoted--arc-a770-56a0.txt")) is None


def test_wsls_nvidia_smi_is_told_by_its_own_version_beside_the_windows_drivers() -> None:
    """Under WSL the header pairs the Linux-side tool's version with the Windows driver's ("NVIDIA-SMI 565.51.01 ...
    Driver Version: 565.90"); on Linux and on Windows they are the same release, and a header cut at the right edge
    leaves a prefix of it, not another release."""
    for name in (
        "nvidia-smi-565-wsl-container--rtx3090.txt",
        "nvidia-smi-wsl-537--gtx1650-elided.txt",
        "nvidia-smi-wsl-cuda-err--rtx3060-elided.txt",
    ):
        assert parse_nvidia_smi(_text(DOCTOR / name)).wsl, name
    for name in (
        "nvidia-smi-cut-right--rtx5090.txt",
        "nvidia-smi-591-powershell-wddm--rtx4050-elided-6g.txt",
        "nvidia-smi-545-cut--a100-pcie-40gb.txt",
    ):
        assert not parse_nvidia_smi(_text(DOCTOR / name)).wsl, name
