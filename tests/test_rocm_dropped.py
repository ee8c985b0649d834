"""AMD GPUs current ROCm no longer runs (gfx8): one KB answer (rigfit/kb/rocm_support.py) for doctor and plan,
on real rocminfo outputs (tests/fixtures/real/rocminfo) and the X5670 + RX 460 capture."""

from __future__ import annotations

import shutil
from pathlib import Path

from rigfit.kb.rocm_support import rocm_support
from rigfit.plan.device import assess_gpus
from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.profile import Finding, Profile
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES

ROCMINFO = FIXTURES / "real" / "rocminfo"


def profile_from_rocminfo(name: str, tmp: Path) -> Profile:
    (tmp / "commands").mkdir(parents=True)
    shutil.copy(ROCMINFO / name, tmp / "commands" / "rocminfo.out")
    return probe_machine(CaptureSource(tmp), torch_check=False)


def dropped(profile: Profile) -> list[Finding]:
    return [f for f in findings_for(profile) if f.id == "gpu.rocm_dropped"]


def test_kb_routes() -> None:
    assert rocm_support("gfx803").route == "community"  # ROCm 5.7 community build, no official wheel
    assert rocm_support("gfx802").route == "none"
    assert rocm_support("gfx801").route == "none"
    assert rocm_support("gfx1030").route == "native"
    assert rocm_support("gfx1010").route == "override"
    assert rocm_support("gfx701").route == "none"  # Hawaii: ROCm 1.9 was the last, no torch build ever
    assert rocm_support("gfx90a0").route == "unknown"  # not in rocm.yaml: unknown, never guessed


def test_tonga_gfx802_is_a_gpu_blocker_in_doctor_and_plan(tmp_path: Path) -> None:
    """rocminfo from ROCm/ROCm#880 (R9 M295X, gfx802): no torch build runs it; the CPU still does."""
    profile = profile_from_rocminfo("gfx802-r9-m295x-rocm27-rock-not-loaded.txt", tmp_path)
    text = rocm_support("gfx802").dropped_text()
    [finding] = dropped(profile)
    assert finding.severity == "blocker" and finding.blocks == "gpu"
    assert text in finding.message and "Vulkan" in (finding.fix or "")
    [gpu] = assess_gpus(profile)
    assert not gpu.usable
    assert any(text in b.message for b in gpu.blockers)


def test_polaris_gfx803_with_atomics_gets_the_community_build_and_the_same_words(tmp_path: Path) -> None:
    """Two RX 480 on a PCIe 3.0 Xeon (real rocminfo): ROCm dropped gfx803 after 5.7, the community build still runs
    it. Doctor warns, the plan picks the community build, and both say it with the same KB text."""
    profile = profile_from_rocminfo("gfx803-2x-rx480-xeon-e5-2650v2-rocm18-oldformat.txt", tmp_path)
    text = rocm_support("gfx803").dropped_text()
    assert "5.7" in text and "torch 2.3.0" in text
    findings = dropped(profile)
    # the two identical cards are one finding naming both (one finding per problem and GPU model)
    assert len(findings) == 1 and findings[0].message.startswith("2x ")
    assert all(f.severity == "warning" and text in f.message for f in findings)
    gpus = assess_gpus(profile)
    assert all(g.backend == "rocm" for g in gpus)
    reasons = [r.text for g in gpus for r in g.reasons]
    assert any(text in r for r in reasons)
    assert not any("official ROCm wheels" in r and "own kernels" in r for r in reasons)


def test_x58_capture_says_both_atomics_and_dropped_support() -> None:
    """The X5670 + RX 460 capture: the atomics blocker stays, and the end of ROCm support is said too."""
    profile = probe_machine(CaptureSource(FIXTURES / "machines" / "x5670-rx460-gfx803-x58"), torch_check=False)
    ids = [f.id for f in findings_for(profile)]
    assert "gpu.pcie_atomics_rejected" in ids
    [finding] = dropped(profile)
    assert finding.severity == "warning" and "ROCm 5.7" in finding.message


def test_x58_plan_names_the_end_of_support_behind_the_atomics_blocker() -> None:
    """Plan on the same capture: the atomics blocker, and the same end-of-support text doctor prints."""
    profile = probe_machine(CaptureSource(FIXTURES / "machines" / "x5670-rx460-gfx803-x58"), torch_check=False)
    [gpu] = assess_gpus(profile)
    [blocker] = gpu.blockers
    assert blocker.id == "pcie-atomics-rejected"
    assert rocm_support("gfx803").dropped_text() in blocker.message
