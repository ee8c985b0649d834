"""Golden plans: each real machine capture (tests/fixtures/machines/<name>/) replayed through doctor's probes and the
planner, checked against the decisions its seed reached by hand (or better). Facts the capture does not hold but the
machine's EXPECTED.yaml states (`stated_not_in_capture`, e.g. VRAM) are added explicitly where a decision needs them.

A capture whose probed GPUs disagree with its EXPECTED.yaml fails here too (with the probe mismatch), since a golden
plan made from the wrong facts proves nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from rigfit.plan.knowledge import wheel
from rigfit.plan.model import Plan, PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import probe_machine
from rigfit.probe.profile import GpuInfo, Profile
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES

MACHINES = FIXTURES / "machines"
GIB = 2**30


def probed(name: str) -> Profile:
    directory = MACHINES / name
    expected = yaml.safe_load((directory / "EXPECTED.yaml").read_text())["doctor"]
    profile = probe_machine(CaptureSource(directory), torch_check=False)
    want = expected.get("gpu_count", 0)
    if len(profile.gpus) != want:
        pytest.fail(f"{name}: probes found {len(profile.gpus)} GPU(s), EXPECTED.yaml says {want}")
    for i, gpu in enumerate(expected.get("gpus", [])):
        for key in ("gfx", "compute_capability"):
            if gpu.get(key) and getattr(profile.gpus[i], key) != gpu[key]:
                pytest.fail(f"{name}: gpu[{i}].{key} probed as {getattr(profile.gpus[i], key)}, expected {gpu[key]}")
    return profile


def with_stated_vram(profile: Profile, gib: int) -> Profile:
    """VRAM the seed states but the capture does not hold (EXPECTED.yaml stated_not_in_capture.vram/gpu)."""
    if profile.gpus[0].vram_bytes is None:
        profile.gpus[0].vram_bytes = gib * GIB
    return profile


def macpro(plan: Plan) -> None:
    assert plan.backend == "rocm" and plan.device.gfx == "gfx1032"
    assert plan.torch.source == "source-build"  # no AVX: official ROCm wheels SIGILL
    assert plan.env["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert plan.precision == "fp16" and "--no-half" not in plan.ui_flags and "--all-in-fp32" not in plan.ui_flags
    assert "--attention-pytorch" in plan.ui_flags and "--skip-install" in plan.ui_flags
    assert {m.id: m.verdict for m in plan.models}["sd15"] == "ok"
    # issue 10: the old answer (the Flux how-to in every 8 GB plan) was wrong: it comes only with --model flux
    assert not any(w.id == "flux-8gb" for w in plan.warnings)
    assert any("westmere" in c for c in plan.checks)


def rx5500xt(plan: Plan) -> None:
    assert plan.backend == "rocm" and (plan.torch.version, plan.torch.variant) == ("1.13.1", "rocm5.2")
    assert plan.env["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert "--medvram" in plan.ui_flags and "--upcast-sampling" in plan.ui_flags and "--no-half" not in plan.ui_flags


def x58(plan: Plan) -> None:
    assert plan.backend == "cpu" and plan.torch.variant == "cpu" and plan.precision == "fp32"
    atomics = next(b for b in plan.blockers if b.id == "pcie-atomics-rejected")
    assert "cannot help" in atomics.fix and "Vulkan" in atomics.fix


def with_stated_nvidia_gpu(profile: Profile) -> Profile:
    """Seed 003 states an NVIDIA pod (model and driver unknown: no nvidia-smi was quoted, none from RunPod found)."""
    if not profile.gpus:
        profile.gpus.append(GpuInfo(vendor="nvidia"))
    return profile


def runpod(plan: Plan) -> None:
    assert plan.backend == "cuda" and (plan.torch.version, plan.torch.variant) == ("2.1.0", "cu121")
    assert plan.torch.torchvision == "0.16.0"
    assert any("py310_cu121_pyt210" in step for step in plan.torch.install)  # the official pytorch3d wheel
    assert any(w.id == "driver-unknown" and "nvidia-smi" in w.fix for w in plan.warnings)  # what to check on the pod
    assert plan.python.current and plan.python.current.startswith("3.10") and plan.python.ok


def rtx5090(plan: Plan) -> None:
    assert plan.backend == "cuda" and plan.torch.variant in ("cu128", "cu130")
    assert plan.memory_mode == "high" and "--medvram" not in plan.ui_flags and "--lowvram" not in plan.ui_flags


def rx6800xt_igpu(plan: Plan) -> None:
    assert plan.backend == "rocm" and plan.device.gfx == "gfx1030"
    assert plan.env.get("HIP_VISIBLE_DEVICES") == "0" and "HSA_OVERRIDE_GFX_VERSION" not in plan.env
    assert plan.precision == "fp16" and not any("vram" in f for f in plan.ui_flags)


def gtx950m(plan: Plan) -> None:
    assert plan.backend == "cuda" and plan.device.compute_capability == "5.0"
    assert plan.torch.variant == "cu118"  # newest line with sm_50 kernels that driver 460 (CUDA 11.2) runs
    assert plan.torch.kb and "5.0" in wheel(plan.torch.kb).cuda_archs
    assert "--medvram" in plan.ui_flags and plan.memory_mode != "high"  # 4 GB


def rx7900xtx_igpu(plan: Plan) -> None:
    assert plan.backend == "rocm" and plan.device.gfx == "gfx1100" and not plan.device.integrated
    assert plan.env.get("HIP_VISIBLE_DEVICES") == "0" and "HSA_OVERRIDE_GFX_VERSION" not in plan.env
    assert plan.precision == "fp16" and not {"--lowvram", "--medvram", "--novram"} & set(plan.ui_flags)  # 24 GB


def this_machine(plan: Plan) -> None:
    assert plan.backend == "cpu" and plan.torch.variant == "cpu" and plan.device.kind == "cpu"
    assert plan.precision == "bf16"  # avx512_bf16 is native here; without it the plan must say fp32 (rules tests)


def h200(plan: Plan) -> None:
    assert plan.backend == "cuda" and plan.device.compute_capability == "9.0"
    assert plan.torch.variant in ("cu126", "cu128", "cu130")
    assert plan.torch.kb and "9.0" in wheel(plan.torch.kb).cuda_archs  # the wheel has Hopper kernels
    assert plan.memory_mode == "high" and not {"--lowvram", "--medvram", "--novram"} & set(plan.ui_flags)
    assert plan.precision == "fp16" and "--no-half" not in plan.ui_flags


def h200_hidden(plan: Plan) -> None:
    h200(plan)  # the GPU is there: only the environment hides it, and the plan says so
    assert any(
        w.id == "gpu-hidden-by-selection-variable" and "unset CUDA_VISIBLE_DEVICES" in w.fix for w in plan.warnings
    )


def apu(plan: Plan) -> None:
    assert plan.backend == "cpu"
    assert any("9.0.0" in a.why_not for a in plan.decision("device").alternatives)


CASES: dict[str, tuple[PlanOptions, Callable[[Profile], Profile], Callable[[Plan], None]]] = {
    "macpro51-westmere-rx6600xt": (PlanOptions(ui="forge"), lambda p: with_stated_vram(p, 8), macpro),
    "rx5500xt-debian11-a1111-docker": (PlanOptions(ui="a1111"), lambda p: with_stated_vram(p, 8), rx5500xt),
    "x5670-rx460-gfx803-x58": (PlanOptions(ui="a1111"), lambda p: p, x58),
    "runpod-pytorch3d-cuda121": (PlanOptions(ui="comfyui", extras=["pytorch3d"]), with_stated_nvidia_gpu, runpod),
    "rtx5090-desktop": (PlanOptions(ui="comfyui"), lambda p: p, rtx5090),
    "rx6800xt-r7-7700x-raphael-igpu": (PlanOptions(ui="a1111"), lambda p: p, rx6800xt_igpu),
    "apu-only-r5-5500u-gfx90c": (PlanOptions(ui="comfyui"), lambda p: p, apu),
    "this-machine-cpu-only": (PlanOptions(ui="forge"), lambda p: p, this_machine),
    "gtx950m-laptop": (PlanOptions(ui="a1111"), lambda p: p, gtx950m),
    "rx7900xtx-raphael-igpu": (PlanOptions(ui="comfyui"), lambda p: p, rx7900xtx_igpu),
    "h200-cuda-container": (PlanOptions(ui="forge"), lambda p: p, h200),
    "h200-cuda-visible-devices-empty": (PlanOptions(ui="forge"), lambda p: p, h200_hidden),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_plan(name: str) -> None:
    options, stated, check = CASES[name]
    profile = stated(probed(name))
    check(make_plan(profile, options))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_golden_warning_says_the_fix(name: str) -> None:
    options, stated, _ = CASES[name]
    plan = make_plan(stated(probed(name)), options)
    for advice in plan.warnings:
        assert advice.id and advice.message.strip() and advice.fix.strip(), advice
    assert (plan.python.message is None) == (plan.python.how is None)


def test_every_machine_capture_has_a_golden_plan() -> None:
    names = {p.name for p in Path(MACHINES).iterdir() if p.is_dir()} if MACHINES.exists() else set()
    assert names <= set(CASES), f"add a golden plan for {sorted(names - set(CASES))}"
