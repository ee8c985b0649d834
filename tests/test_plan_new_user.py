"""Plans tried as a new user would (issue 10): each test failed before its fix, on the real machine captures."""

from __future__ import annotations

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from tests.test_plan_golden import probed


def test_pytorch3d_on_driver_460_takes_the_cu118_line_the_driver_runs() -> None:
    """GTX 950M, driver 460.32.03 (CUDA 11.2): pytorch3d 0.7.5 has wheels for torch 2.1.0 cu118 and cu121; only cu118
    runs on a driver older than 525.60.13."""
    plan = make_plan(probed("gtx950m-laptop"), PlanOptions(ui="a1111", extras=["pytorch3d"]))
    assert (plan.torch.version, plan.torch.variant) == ("2.1.0", "cu118")
    assert any("py310_cu118_pyt210" in step for step in plan.torch.install)
    assert not any("525.60.13" in r.text for d in plan.decisions for r in d.reasons if d.topic == "torch")


def test_runpod_cuda_torch_without_visible_gpu_is_kept_not_replaced_by_a_cpu_build() -> None:
    """Seed 003's pod: torch 2.1.0+cu121 installed, no nvidia-smi in the capture. The plan must not install CPU torch
    2.13, compile pytorch3d (no nvcc on the pod) and keep torch-2.1-only pins; it keeps the CUDA build and its wheel."""
    plan = make_plan(probed("runpod-pytorch3d-cuda121"), PlanOptions(ui="comfyui", extras=["pytorch3d"]))
    assert (plan.torch.version, plan.torch.variant) == ("2.1.0", "cu121")
    assert not any("pip install torch" in step for step in plan.torch.install)  # kept, not reinstalled
    assert any("py310_cu121_pyt210" in step for step in plan.torch.install)  # the prebuilt pytorch3d wheel
    assert not any("git+https://github.com/facebookresearch/pytorch3d" in step for step in plan.torch.install)
    warning = next(w for w in plan.warnings if w.id == "cuda-torch-no-gpu-visible")
    assert "docker container" in warning.message and "--gpus all" in warning.fix and "nvidia-smi" in warning.fix
    assert not any(w.id == "extras-need-cuda" for w in plan.warnings)


def test_runpod_doctor_is_not_silent_about_the_cuda_torch_without_gpu() -> None:
    from rigfit.plan.summary import doctor_summary

    lines, findings = doctor_summary(probed("runpod-pytorch3d-cuda121"))
    assert any(f.id == "plan.cuda-torch-no-gpu-visible" and f.severity == "warning" for f in findings)
    assert "torch 2.1.0+cu121" in lines[0]


def test_the_flux_how_to_comes_only_when_flux_is_asked_for() -> None:
    """The 751-character Flux paragraph was in every 8 GB report; the models table still says Flux does not fit."""
    plain = make_plan(probed("macpro51-westmere-rx6600xt"), PlanOptions(ui="forge"))
    assert not any("flux" in w.id for w in plain.warnings)
    assert {m.id: m.verdict for m in plain.models}["flux-dev"] == "no"
    asked = make_plan(probed("macpro51-westmere-rx6600xt"), PlanOptions(ui="forge", models=["flux"]))
    assert any(w.id == "flux-8gb" for w in asked.warnings)
