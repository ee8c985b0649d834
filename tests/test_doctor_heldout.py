"""Doctor on held-out pastes (issue 10, xcases): real outputs collected after the parsers were written and scored
before the fixes they led to (docs/explain.md). Each names what the paste shows, and says nothing it does not show."""

from __future__ import annotations

from pathlib import Path

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import findings_for
from tests.conftest import FIXTURES
from tests.test_doctor_pastes import finding, pasted

DOCTOR = FIXTURES / "doctor"


def test_nvidia_smi_no_devices_is_a_blocker_with_its_fix(tmp_path: Path) -> None:
    profile = pasted(tmp_path, nvidia_smi=DOCTOR / "nvidia-smi-no-devices--rtx5090-rebar.txt")
    found = finding(profile, "gpu.nvidia_no_devices")
    assert found.severity == "blocker" and "Resizable BAR" in (found.fix or "")


def test_rm_init_adapter_failure_says_why_nvidia_smi_sees_no_device(tmp_path: Path) -> None:
    profile = pasted(
        tmp_path,
        nvidia_smi=DOCTOR / "nvidia-smi-no-devices--rtx5090-rebar.txt",
        dmesg=DOCTOR / "dmesg-rminitadapter-failed--rtx5090-rebar.txt",
    )
    found = [f for f in findings_for(profile) if f.id == "gpu.nvidia_no_devices"]
    assert len(found) == 1 and "RmInitAdapter" in found[0].message


def test_old_nvidia_smi_table_without_cuda_column(tmp_path: Path) -> None:
    profile = pasted(tmp_path, nvidia_smi=DOCTOR / "nvidia-smi-titan-xp--driver384.txt")
    (gpu,) = profile.gpus
    assert gpu.name == "TITAN Xp" and profile.nvidia_driver == "384.66" and gpu.vram_bytes == 12174 * 2**20


def test_compute_ring_timeout_is_a_finding(tmp_path: Path) -> None:
    for name in ("dmesg-compute-ring-timeout--gfx1201.txt", "dmesg-ring-timeout--rx5700xt-popos.txt"):
        (tmp_path / name).mkdir()
        profile = pasted(tmp_path / name, dmesg=DOCTOR / name)
        assert finding(profile, "gpu.ring_timeout").severity == "warning"


def test_plain_lspci_3d_controllers_named_only_by_number(tmp_path: Path) -> None:
    """`lspci` prints '3D controller' (a class name starting with a digit) and an old pci.ids 'Device 1db6'."""
    profile = pasted(
        tmp_path,
        lspci=DOCTOR / "lspci-3d-controller--device-1db6.txt",
        dmesg=DOCTOR / "dmesg-nouveau-probe--three-gpus.txt",
    )
    assert [(g.vendor, g.pci_id) for g in profile.gpus] == [("nvidia", "10de:1db6")] * 2
    assert all("V100" in (g.name or "") for g in profile.gpus)
    assert finding(profile, "gpu.nouveau_holds_nvidia").severity == "blocker"


def test_unnamed_amd_device_is_looked_up_by_its_number(tmp_path: Path) -> None:
    profile = pasted(tmp_path, lspci=DOCTOR / "lspci-vvv-unnamed--device-73df.txt")
    (gpu,) = profile.gpus
    assert (gpu.pci_id, gpu.gfx, gpu.name) == ("1002:73df", "gfx1031", "AMD Radeon RX 6700 XT")


def test_a_cut_lspci_v_block_does_not_claim_no_driver(tmp_path: Path) -> None:
    """The paste stops before 'Kernel driver in use': the driver is unknown, not missing."""
    for name in ("lspci-v-cut--rx580-2048sp.txt", "lspci-vvv-unnamed--device-73df.txt"):
        (tmp_path / name).mkdir()
        profile = pasted(tmp_path / name, lspci=DOCTOR / name)
        assert profile.gpus[0].driver_bound is None
        assert "gpu.amd_no_driver" not in {f.id for f in findings_for(profile)}


def test_gfx7_apu_is_named_and_the_plan_says_rocm_never_ran_it(tmp_path: Path) -> None:
    profile = pasted(tmp_path, lspci=DOCTOR / "lspci-mm--kaveri-apu.txt")
    (gpu,) = profile.gpus
    assert gpu.gfx == "gfx700" and "Kaveri" in (gpu.name or "")
    dropped = finding(profile, "gpu.rocm_dropped")
    assert "gfx700" in dropped.message and "Vulkan" in (dropped.fix or "")
    plan = make_plan(profile, PlanOptions())
    assert plan.backend == "cpu" and plan.blockers


def test_navi31_from_lspci_nn(tmp_path: Path) -> None:
    profile = pasted(tmp_path, lspci=DOCTOR / "lspci-nn--navi31.txt")
    (gpu,) = profile.gpus
    assert (gpu.gfx, gpu.pci_id) == ("gfx1100", "1002:744c")


def test_plan_agrees_with_doctor_when_nouveau_holds_the_cards(tmp_path: Path) -> None:
    """One fact, one answer: doctor's nouveau blocker is the plan's too, with the same fix."""
    profile = pasted(
        tmp_path,
        lspci=DOCTOR / "lspci-3d-controller--device-1db6.txt",
        dmesg=DOCTOR / "dmesg-nouveau-probe--three-gpus.txt",
    )
    plan = make_plan(profile, PlanOptions())
    blocker = next(b for b in plan.blockers if b.id == "nouveau-holds-nvidia")
    assert plan.backend == "cpu"
    assert blocker.fix == finding(profile, "gpu.nouveau_holds_nvidia").fix
