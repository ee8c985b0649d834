"""doctor: torch's own capability warning (leftover12, issue 10) says the installed torch has no kernels for the card.
The finding names the card, its capability, the range that torch supports, and the fix from the same torch_wheels.yaml
lines `rigfit plan` picks from (rigfit/kb/cuda_support.py): plan and doctor name the same torch line, or the same
"no official wheel" text."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import findings_for
from rigfit.probe.profile import Profile, TorchInfo
from rigfit.probe.torch_probe import torch_findings
from tests.test_doctor_heldout_d import assembled

FORGE_NEO = "forge-neo-torch-warning-gtx1060-sm61-min-7.5--windows.txt"  # (7.5) - (12.0) range form
GT710 = "../logs/cuda-cc-too-old--a1111-gt710.txt"  # "The minimum cuda capability supported by this library is 3.7."
RTX5080 = "../logs/sm-not-compatible--rtx5080-sm120.txt"  # "supports CUDA capabilities sm_50 ... sm_90."
GTX1070TI = "../logs/sm-not-compatible--gtx1070ti-sm61-cu111.txt"  # a cu111 list without sm_60/sm_61


def _finding(tmp_path: Path, paste: str):
    profile = assembled(tmp_path, {"nvidia-smi": paste})
    found = [f for f in findings_for(profile) if f.id == "torch.no-kernels-for-gpu"]
    assert len(found) == 1, [f.id for f in findings_for(profile)]
    return profile, found[0]


@pytest.mark.parametrize(
    ("paste", "card", "supports", "line"),
    [
        (FORGE_NEO, "NVIDIA GeForce GTX 1060 (compute capability 6.1, sm_61)", "compute capability 7.5 to 12.0",
         "torch-2.13-cu126"),
        (RTX5080, "NVIDIA GeForce RTX 5080 Laptop GPU (compute capability 12.0, sm_120)",
         "sm_50 sm_60 sm_61 sm_70 sm_75 sm_80 sm_86 sm_90", "torch-2.13-cu130"),
        (GTX1070TI, "GeForce GTX 1070 Ti (compute capability 6.1, sm_61)", "sm_50 sm_70 sm_80 sm_86",
         "torch-2.13-cu126"),
    ],
)  # fmt: skip
def test_the_warning_becomes_a_finding_with_the_plans_torch_line(
    tmp_path: Path, paste: str, card: str, supports: str, line: str
) -> None:
    profile, finding = _finding(tmp_path, paste)
    assert card in finding.message and f"it supports {supports}," in finding.message
    assert finding.kb == [line]
    assert f"--index-url https://download.pytorch.org/whl/{line.rsplit('-', 1)[1]}" in finding.fix
    assert make_plan(profile, PlanOptions()).torch.kb == line  # one fact, one answer


def test_a_card_no_current_wheel_runs_gets_the_plans_own_answer(tmp_path: Path) -> None:
    """GT 710 (sm_35): no torch_wheels.yaml line has its kernels; doctor's fix is the plan's blocker text."""
    profile, finding = _finding(tmp_path, GT710)
    assert "GeForce GT 710 (compute capability 3.5, sm_35)" in finding.message
    assert "compute capability 3.7 and up" in finding.message
    blocker = next(b for b in make_plan(profile, PlanOptions()).blockers if b.id == "cuda-arch-unsupported")
    assert finding.fix == blocker.fix and finding.kb == []


def test_a_live_torch_arch_list_that_covers_the_card_says_nothing() -> None:
    """torch.cuda.get_arch_list() of a live probe is read the same way; a covered card (sm_86 by sm_80 cubins, sm_120
    by compute_90 PTX) gets no finding, a ROCm gfx list is not judged."""
    from rigfit.probe.profile import GpuInfo

    for cc, arch_list in (("8.6", ["sm_50", "sm_80"]), ("12.0", ["sm_90", "compute_90"]), ("8.6", ["gfx1100"])):
        gpus = [GpuInfo(vendor="nvidia", name="a card", compute_capability=cc)]
        profile = Profile(gpus=gpus, torch=TorchInfo(version="2.5.1+cu124", cuda="12.4", arch_list=arch_list))
        assert not [f for f in torch_findings(profile) if f.id == "torch.no-kernels-for-gpu"], arch_list
    gpus = [GpuInfo(vendor="nvidia", name="a card", compute_capability="8.6")]
    profile = Profile(gpus=gpus, torch=TorchInfo(version="2.5.1+cu124", cuda="12.4", arch_list=["sm_50", "sm_70"]))
    assert [f.id for f in torch_findings(profile)] == ["torch.no-kernels-for-gpu"]
