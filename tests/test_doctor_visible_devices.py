"""A device-selection variable (CUDA_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES) that hides every GPU:
read on a real H200 captured with CUDA_VISIBLE_DEVICES="" (torch 2.11.0+cu130 imported and saw no GPU there), and the
same machine captured without it."""

from __future__ import annotations

import pytest

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.profile import Profile
from rigfit.probe.report import facts_by_section
from rigfit.probe.source import CaptureSource
from rigfit.probe.visible_devices import visible_count
from tests.conftest import FIXTURES

MACHINES = FIXTURES / "machines"
HIDDEN = "gpu.hidden-by-selection-variable"


def probed(name: str) -> Profile:
    return probe_machine(CaptureSource(MACHINES / name), torch_check=False)


@pytest.mark.parametrize(
    ("value", "present", "visible"),
    [
        ("", 1, 0),
        ("-1", 2, 0),
        ("none", 1, 0),
        ("0", 1, 1),
        ("1", 1, 0),  # an index past the last GPU
        ("0,2,-1,1", 3, 2),  # CUDA's own example: read up to the first invalid entry
        ("1,0", 2, 2),
        (" 0 ", 1, 1),
        ("0,0", 1, 1),
        ("GPU-8a2b1c3d-0000-1111-2222-333344445555", 1, None),  # a UUID a capture cannot check
    ],
)
def test_visible_count_follows_the_runtime_rule(value: str, present: int, visible: int | None) -> None:
    assert visible_count(value, present) == visible


def test_an_empty_cuda_visible_devices_is_the_cause_of_a_torch_that_sees_no_gpu() -> None:
    profile = probed("h200-cuda-visible-devices-empty")
    assert profile.device_selection.get("CUDA_VISIBLE_DEVICES") == ""
    assert profile.torch is not None and profile.torch.gpu_available is False and len(profile.gpus) == 1
    found = {f.id: f for f in findings_for(profile)}
    assert HIDDEN in found and "torch.no-gpu-visible" not in found  # the cause, not the symptom
    assert "CUDA_VISIBLE_DEVICES=''" in found[HIDDEN].message and "unset CUDA_VISIBLE_DEVICES" in found[HIDDEN].fix
    plan = make_plan(profile, PlanOptions(ui="forge"))
    advice = next(w for w in plan.warnings if w.id == "gpu-hidden-by-selection-variable")
    assert advice.fix == found[HIDDEN].fix  # one fact, one answer: doctor and plan give the same fix


def test_the_same_machine_without_the_variable_has_no_such_finding() -> None:
    profile = probed("h200-cuda-container")
    assert "CUDA_VISIBLE_DEVICES" not in profile.device_selection
    assert HIDDEN not in {f.id for f in findings_for(profile)}
    assert not any(w.id == "gpu-hidden-by-selection-variable" for w in make_plan(profile, PlanOptions()).warnings)


def test_rocm_variables_hide_amd_gpus_only() -> None:
    """HIP reads HIP_VISIBLE_DEVICES (and CUDA_VISIBLE_DEVICES); NVIDIA's runtime never reads the ROCm ones."""
    amd = probed("rx6800xt-r7-7700x-raphael-igpu")
    amd.device_selection = {"HIP_VISIBLE_DEVICES": "5"}
    assert [f.message.split("=")[0] for f in findings_for(amd) if f.id == HIDDEN] == ["HIP_VISIBLE_DEVICES"]
    amd.device_selection = {"HIP_VISIBLE_DEVICES": "0"}
    assert HIDDEN not in {f.id for f in findings_for(amd)}
    nvidia = probed("h200-cuda-container")
    nvidia.device_selection = {"ROCR_VISIBLE_DEVICES": ""}
    assert HIDDEN not in {f.id for f in findings_for(nvidia)}


def test_rocm_device_node_is_reported_only_where_rocm_matters() -> None:
    """/dev/kfd 'missing' on the NVIDIA-only H200 said nothing useful (read there); an AMD machine keeps the line."""
    assert not any("/dev/kfd" in line for line in facts_by_section(probed("h200-cuda-container"))["permissions"])
    amd = facts_by_section(probed("rx6800xt-r7-7700x-raphael-igpu"))["permissions"]
    assert "/dev/kfd: ok" in amd
