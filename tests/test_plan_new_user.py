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


def _doctor(name: str) -> list:
    from rigfit.plan.summary import doctor_summary
    from rigfit.probe.gather import findings_for

    profile = probed(name)
    return findings_for(profile, also=doctor_summary(profile)[1])


def test_x58_doctor_and_plan_agree_that_no_slot_routes_atomics() -> None:
    """Seed 004 (dual X5670 on X58, RX 460): doctor told the user to move the card to a PCIe 3.0 slot while the plan
    said no slot on that board routes atomics. Both now come from rigfit.probe.pcie_slots."""
    plan = make_plan(probed("x5670-rx460-gfx803-x58"), PlanOptions(ui="forge"))
    plan_fix = next(b.fix for b in plan.blockers if b.id == "pcie-atomics-rejected")
    found = {f.id: f for f in _doctor("x5670-rx460-gfx803-x58")}
    for fix in (plan_fix, found["gpu.pcie_atomics_rejected"].fix, found["gpu.pcie_slow_link"].fix):
        assert "moving the card cannot help" in fix and "Move the card" not in fix and "move the card there" not in fix


def test_macpro_plan_mentions_the_pcie2_link_doctor_warns_about_once() -> None:
    """Mac Pro 5,1 (PCIe 2.0, width not in the pasted lspci): doctor warned, the plan said nothing."""
    plan = make_plan(probed("macpro51-westmere-rx6600xt"), PlanOptions(ui="forge"))
    bus = next(w for w in plan.warnings if w.id == "pcie-slow-link")
    assert "5 GT/s" in bus.message and "moving the card cannot help" in bus.fix
    found = _doctor("macpro51-westmere-rx6600xt")
    links = [f for f in found if "slow" in f.id and "link" in f.id]
    assert [f.id for f in links] == ["gpu.pcie_slow_link"]  # one fact, reported once
    assert "moving the card cannot help" in links[0].fix


def test_measured_bf16_on_a1111_keeps_its_fp32_flags_and_says_why() -> None:
    """After `rigfit bench` measured bf16 fastest on a CPU, `plan --ui a1111` dropped --no-half and gave no bf16 flag
    (A1111 has none): the UI then ran fp16 on the CPU. The measured setting it cannot express changes nothing."""
    from rigfit.kb.measured import BenchConfig, VerifiedFacts
    from tests import plan_profiles as machines

    verified = VerifiedFacts(env_dir="/x", device="cpu", best=BenchConfig(dtype="bf16"))
    plan = make_plan(machines.epyc_cpu_only(), PlanOptions(ui="a1111"), verified)
    assert plan.precision == "fp32" and "--no-half" in plan.ui_flags
    decision = plan.decision("precision")
    assert decision is not None and any("no bf16 mode" in r.text for r in decision.reasons)
    assert any("--bf16-unet" in a.choice for a in decision.alternatives)  # ComfyUI can run what was measured
    comfy = make_plan(machines.epyc_cpu_only(), PlanOptions(ui="comfyui"), verified)
    assert comfy.precision == "bf16" and "--bf16-unet" in comfy.ui_flags


def test_rx5500xt_forge_gets_told_its_torch_floor_and_the_route_that_works() -> None:
    """Seed 002 (RX 5500 XT, gfx1012): torch 1.13.1+rocm5.2 is the line known to run on the card; Forge needs torch
    2.1+ (its launcher installs 2.3.1, its backend uses the float8 dtypes), A1111 ran on 1.13.1 there."""
    profile = probed("rx5500xt-debian11-a1111-docker")
    forge = make_plan(profile, PlanOptions(ui="forge"))
    assert forge.torch.version == "1.13.1"
    floor = next(w for w in forge.warnings if w.id == "ui-needs-newer-torch")
    assert ">= 2.1" in floor.message and "1.13.1+rocm5.2" in floor.message
    assert "rigfit plan --ui a1111" in floor.fix and "rigfit bench" in floor.fix
    a1111 = make_plan(profile, PlanOptions(ui="a1111"))
    assert not any(w.id == "ui-needs-newer-torch" for w in a1111.warnings)
    unknown_floor = make_plan(profile, PlanOptions(ui="comfyui"))  # no known floor: nothing guessed
    assert not any(w.id == "ui-needs-newer-torch" for w in unknown_floor.warnings)
