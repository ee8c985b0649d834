"""Doctor on what people really paste (issue 10): broken GPU states are findings with their fix, never silence, and a
GPU known only from the kernel log is a GPU in the profile. Each case is a real output (tests/fixtures/SOURCES.md)
put into a capture the way `rigfit doctor --from` reads one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.explain.match import explain_stream
from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.profile import Finding, Profile
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES

DOCTOR = FIXTURES / "doctor"
LOGS = FIXTURES / "logs"


def pasted(tmp_path: Path, **outputs: Path) -> Profile:
    """A capture holding only the pasted outputs (command name -> fixture), probed like `doctor --from`."""
    (tmp_path / "commands").mkdir()
    (tmp_path / "rigfit-capture.json").write_text(json.dumps({"rigfit_version": "test", "assembled": True}))
    for command, fixture in outputs.items():
        name = command.replace("_", "-")
        (tmp_path / "commands" / f"{name}.out").write_text(fixture.read_text(encoding="utf-8"))
        (tmp_path / "commands" / f"{name}.rc").write_text("0\n")
    return probe_machine(CaptureSource(tmp_path), torch_check=False)


def finding(profile: Profile, finding_id: str) -> Finding:
    found = {f.id: f for f in findings_for(profile)}
    assert finding_id in found, sorted(found)
    return found[finding_id]


@pytest.mark.parametrize(
    ("command", "fixture", "finding_id", "severity", "fix_has"),
    [
        (
            "nvidia_smi",
            LOGS / "nvidia-smi-no-driver--cluster-after-upgrade.txt",
            "gpu.nvidia_driver_not_loaded",
            "blocker",
            "sudo modprobe nvidia",
        ),
        (
            "nvidia_smi",
            LOGS / "nvml-driver-mismatch--taskcluster.txt",
            "gpu.nvidia_driver_mismatch",
            "blocker",
            "Reboot",
        ),
        (
            "dmesg",
            LOGS / "nouveau-in-use--dmesg-nvrm-probe.txt",
            "gpu.nouveau_holds_nvidia",
            "blocker",
            "blacklist nouveau",
        ),
        ("dmesg", LOGS / "kfd-unsupported-asic--rx560-rocm19.txt", "gpu.kfd_unsupported_asic", "blocker", "Vulkan"),
        (
            "rocminfo",
            DOCTOR / "rocminfo-kfd-einval--rx9070xt-rocm722.txt",
            "rocm.kfd_open_failed",
            "blocker",
            "render group does not help",
        ),
        (
            "dmesg",
            DOCTOR / "dmesg-ring-timeout--rx6800-blender.txt",
            "gpu.ring_timeout",
            "warning",
            "HSA_OVERRIDE_GFX_VERSION",
        ),
        ("dmesg", DOCTOR / "dmesg-fallen-off-bus--optimus-laptop.txt", "gpu.nvidia_fallen_off_bus", "blocker", "power"),
    ],
)
def test_broken_gpu_state_is_a_finding_with_its_fix(
    tmp_path: Path, command: str, fixture: Path, finding_id: str, severity: str, fix_has: str
) -> None:
    found = finding(pasted(tmp_path, **{command: fixture}), finding_id)
    assert found.severity == severity and found.fix and fix_has in found.fix.replace("\n", " ")


def test_kfd_refusing_pitcairn_is_said_once_not_as_a_permission_problem(tmp_path: Path) -> None:
    """ROCm#2232: R7 370 (Pitcairn, GCN 1): dmesg 'PITCAIRN not supported in kfd' and rocminfo ENOMEM on /dev/kfd."""
    profile = pasted(
        tmp_path,
        dmesg=DOCTOR / "dmesg-kfd-not-supported--pitcairn-r7-370.txt",
        rocminfo=DOCTOR / "rocminfo-kfd-enomem--pitcairn-r7-370.txt",
        lspci=DOCTOR / "lspci-grep-vga--pitcairn-r7-370.txt",
    )
    refused = finding(profile, "gpu.kfd_unsupported_asic")
    assert "PITCAIRN" in refused.message and "GCN 1/2" in (refused.fix or "")
    ids = {f.id for f in findings_for(profile)}
    assert "rocm.kfd_open_failed" not in ids and not any("permission" in i for i in ids)


def test_permission_denied_is_not_read_as_a_wedged_kfd(tmp_path: Path) -> None:
    profile = pasted(tmp_path, rocminfo=LOGS / "kfd-permission-denied--docker-render-group.txt")
    assert not any(f.kind == "kfd_open_failed" for f in profile.gpu_faults)


def test_gpu_known_only_from_the_kernel_log_is_in_the_profile_and_the_plan_says_why(tmp_path: Path) -> None:
    """ROCm#1214: only 'kfd kfd: amdgpu: skipped device 1002:67df, PCI rejects atomics' was pasted."""
    profile = pasted(tmp_path, dmesg=LOGS / "pcie-atomics-rejected--rx580-x58-dmesg.txt")
    assert len(profile.gpus) == 1
    gpu = profile.gpus[0]
    assert (gpu.vendor, gpu.pci_id, gpu.gfx, gpu.atomics_rejected) == ("amd", "1002:67df", "gfx803", True)
    assert gpu.name and "580" in gpu.name and "Polaris" in gpu.name
    assert finding(profile, "gpu.pcie_atomics_rejected").severity == "blocker"
    plan = make_plan(profile, PlanOptions())
    assert plan.backend == "cpu"
    blocker = next(b for b in plan.blockers if b.id == "pcie-atomics-rejected")
    assert "580" in blocker.message and "Vulkan" in blocker.fix and "atomics" in blocker.fix


def test_a_kernel_rejection_does_not_duplicate_a_listed_gpu() -> None:
    profile = probe_machine(CaptureSource(FIXTURES / "machines" / "x5670-rx460-gfx803-x58"), torch_check=False)
    assert [g.pci_id for g in profile.gpus] == ["1002:67ef"]


def test_rocminfo_grep_gfx_lists_both_gpus(tmp_path: Path) -> None:
    profile = pasted(tmp_path, rocminfo=DOCTOR / "rocminfo-grep-i-gfx--rx6800xt-raphael.txt")
    assert sorted(g.gfx for g in profile.gpus if g.gfx) == ["gfx1030", "gfx1036"]
    plan = make_plan(profile, PlanOptions())
    assert plan.backend == "rocm" and plan.device.gfx == "gfx1030"  # the discrete card, not the Raphael iGPU


def test_rocminfo_grep_name_keeps_marketing_names_and_leaves_out_the_cpu(tmp_path: Path) -> None:
    profile = pasted(tmp_path, rocminfo=DOCTOR / "rocminfo-grep-name--rx6800xt-raphael.txt")
    assert [(g.name, g.gfx) for g in profile.gpus] == [
        ("AMD Radeon RX 6800 XT", "gfx1030"),
        ("AMD Radeon Graphics", "gfx1036"),
    ]


def test_nvidia_smi_cut_at_the_left_edge_keeps_every_fact(tmp_path: Path) -> None:
    profile = pasted(tmp_path, nvidia_smi=DOCTOR / "nvidia-smi-cut-left--rtx5090.txt")
    assert [(g.name, g.bdf, g.vram_bytes) for g in profile.gpus] == [
        ("NVIDIA GeForce RTX 5090", "0000:c5:00.0", 32607 * 2**20)
    ]
    assert (profile.nvidia_driver, profile.cuda_driver_version) == ("595.71.05", "13.2")


def test_nvidia_smi_cut_at_the_right_edge_reads_the_gpu_and_guesses_nothing_cut(tmp_path: Path) -> None:
    """The cut header ends in 'Driver Version: 595.71.0' (of 595.71.05): unknown, never the wrong driver."""
    profile = pasted(tmp_path, nvidia_smi=DOCTOR / "nvidia-smi-cut-right--rtx5090.txt")
    assert [g.name for g in profile.gpus] == ["NVIDIA GeForce RTX 5090"]
    assert profile.gpus[0].vram_bytes is None and profile.gpus[0].bdf is None
    assert profile.nvidia_driver is None and profile.cuda_driver_version is None


@pytest.mark.parametrize(
    ("fixture", "process", "gib"),
    [
        ("syslog-oom-killer--a1111-python3.10-13gib.txt", "python3.10", "12.9"),
        ("dmesg-oom-killer--python-12gib.txt", "python", "12.3"),
    ],
)
def test_kernel_oom_killer_names_the_process_its_ram_and_the_fix_explain_gives(
    tmp_path: Path, fixture: str, process: str, gib: str
) -> None:
    """A1111#2858 (syslog) and QAConv#19 (dmesg): 'Out of memory: Killed process N (python3.10) ... anon-rss:...kB'
    is a RAM finding naming the process and what it held; its fix is explain's for the same line (one KB entry)."""
    profile = pasted(tmp_path, dmesg=DOCTOR / fixture)
    found = finding(profile, "memory.out_of_ram")
    assert found.severity == "warning" and found.group == "memory"
    assert f": {process}, which held {gib} GiB of RAM" in found.message
    with (DOCTOR / fixture).open("rb") as stream:
        top = explain_stream(stream).explanations[0]
    assert top.id == "cpu-out-of-memory" and found.fix and found.fix in top.fix
    assert "swapon" in found.fix


def test_a_containers_memory_limit_is_not_read_as_the_system_running_out(tmp_path: Path) -> None:
    """'Memory cgroup out of memory' is a container's limit (another fix): no system out-of-RAM finding."""
    text = (
        (DOCTOR / "dmesg-oom-killer--python-12gib.txt")
        .read_text(encoding="utf-8")
        .replace("Out of memory: Killed", "Memory cgroup out of memory: Killed")
    )
    cgroup = tmp_path / "cgroup.txt"
    cgroup.write_text(text, encoding="utf-8")
    (tmp_path / "capture").mkdir()
    profile = pasted(tmp_path / "capture", dmesg=cgroup)
    assert "memory.out_of_ram" not in {f.id for f in findings_for(profile)}
