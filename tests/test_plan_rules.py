"""Rule-level tests of the planner on hand-built profiles: each asserts a decision and the reason behind it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.kb.measured import BenchConfig, VerifiedFacts
from rigfit.plan.model import Advice, PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.profile import CpuInfo, GpuInfo, MemoryInfo, Profile, PythonInfo
from rigfit.records import replace
from tests import plan_profiles as machines


def kb_cited(plan, topic: str) -> set[str]:
    d = plan.decision(topic)
    assert d is not None, topic
    return {k for r in d.reasons for k in r.kb}


def advice(plan, advice_id: str) -> Advice:
    found = [a for a in plan.warnings if a.id == advice_id]
    assert found, f"no {advice_id} advice in {[a.id for a in plan.warnings]}"
    return found[0]


# ---- Mac Pro 5,1: Westmere (no AVX) + RX 6600 XT (gfx1032) + PCIe 2.0, Forge -------------------------------------
def test_macpro_builds_torch_from_source_for_gfx1030_with_override() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(ui="forge"))
    assert plan.backend == "rocm"
    assert plan.torch.source == "source-build"
    # one recipe, from rigfit/kb/torch_build/: the command explain prints for the same SIGILL (test_build_torch.py)
    assert any(step.startswith("rigfit build-torch") and "--rocm gfx1030" in step for step in plan.torch.install)
    assert plan.env["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert {"gfx1032", "torch-source-rocm-noavx"} <= kb_cited(plan, "torch")
    assert any("cpu.avx=False" in f for r in plan.decision("torch").reasons for f in r.facts)
    assert any("--cpu westmere" in c for c in plan.checks)


def test_macpro_keeps_fp16_and_says_why_full_precision_is_wasteful() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(ui="forge"))
    assert plan.precision == "fp16"
    alternatives = plan.decision("precision").alternatives
    assert any("--no-half" in a.choice and "twice the memory" in a.why_not for a in alternatives)


def test_macpro_uses_forge_flags_not_a1111_ones() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(ui="forge"))
    assert "--attention-pytorch" in plan.ui_flags and "--skip-install" in plan.ui_flags
    for a1111_only in ("--medvram", "--no-half", "--precision", "--opt-sdp-attention", "--upcast-sampling"):
        assert a1111_only not in plan.ui_flags
    assert any("does not read" in r.text and "--no-half" in r.text for r in plan.decision("ui_flags").reasons)


def test_macpro_models_and_bus_warnings() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(ui="forge", models=["flux"]))
    verdict = {m.id: m.verdict for m in plan.models}
    assert verdict["sd15"] == "ok" and verdict["sdxl"] in ("ok", "tight") and verdict["flux-dev"] == "no"
    flux = advice(plan, "flux-8gb")
    assert flux.message.startswith("Flux on 8 GiB") and "flux1-dev-Q4_K_S.gguf" in flux.fix
    assert "models/Stable-diffusion" in flux.fix and "--always-offload-from-vram" in flux.fix  # Forge's own words
    bus = advice(plan, "pcie-slow-link")
    assert "PCIe link 5 GT/s x16" in bus.message and "16 GT/s" in bus.message
    assert "Keep one checkpoint loaded" in bus.fix and "--medvram" not in bus.fix
    assert "venv" in plan.decision("python").reasons[0].text  # PEP 668: venv, not --break-system-packages


def test_user_override_is_kept_and_disagreement_reported() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(user_env={"HSA_OVERRIDE_GFX_VERSION": "10.3.1"}))
    assert "HSA_OVERRIDE_GFX_VERSION" not in plan.env
    assert plan.env_kept == {"HSA_OVERRIDE_GFX_VERSION": "10.3.1"}
    differs = advice(plan, "user-env-differs")
    assert "10.3.1" in differs.message and "kept" in differs.message
    assert "export HSA_OVERRIDE_GFX_VERSION=10.3.0" in differs.fix


# ---- RX 5500 XT (gfx1012, RDNA1), A1111 --------------------------------------------------------------------------
def test_rdna1_gets_torch_113_rocm52_override_and_upcast_not_no_half() -> None:
    plan = make_plan(machines.rx5500xt(), PlanOptions(ui="a1111"))
    assert (plan.backend, plan.torch.version, plan.torch.variant) == ("rocm", "1.13.1", "rocm5.2")
    assert plan.torch.index_url == "https://download.pytorch.org/whl/rocm5.2"
    assert plan.env["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert "--upcast-sampling" in plan.ui_flags and "--no-half-vae" in plan.ui_flags
    assert "--no-half" not in plan.ui_flags
    assert "--medvram" in plan.ui_flags  # 8 GB without SDPA attention (torch 1.13)
    assert "--opt-sub-quad-attention" in plan.ui_flags
    assert "prec-amd-rdna1" in kb_cited(plan, "precision")
    assert any("bench" in c for c in plan.checks)  # unreliable override: measure it


def test_rdna1_python_312_needs_another_python() -> None:
    profile = machines.rx5500xt()
    profile.python.version = "3.12.3"
    plan = make_plan(profile, PlanOptions(ui="a1111"))
    assert plan.python.ok is False
    assert "3.12.3" in (plan.python.message or "") and "uv python install 3.10" in (plan.python.how or "")


# ---- dual X5670 + RX 460 (gfx803) on X58: atomics rejected -------------------------------------------------------
def test_gfx803_without_atomics_falls_back_to_cpu_fp32_and_says_moving_cannot_help() -> None:
    plan = make_plan(machines.x58_rx460(), PlanOptions(ui="a1111"))
    assert plan.backend == "cpu" and plan.device.kind == "cpu"
    assert (plan.torch.version, plan.torch.variant) == ("2.13.0", "cpu")
    assert plan.precision == "fp32"
    blocker = next(b for b in plan.blockers if b.id == "pcie-atomics-rejected")
    assert blocker.blocks == "gpu" and "cannot help" in blocker.fix and "Vulkan" in blocker.fix
    assert "--use-cpu" in plan.ui_flags and "--no-half" in plan.ui_flags
    assert any("Vulkan" in a.choice for a in plan.decision("backend").alternatives)


def test_gfx803_on_a_pcie3_platform_suggests_moving_the_card() -> None:
    profile = machines.x58_rx460()
    profile.cpu = machines.HASWELL
    plan = make_plan(profile)
    blocker = next(b for b in plan.blockers if b.id == "pcie-atomics-rejected")
    assert "Move the card" in blocker.fix


# ---- RunPod NVIDIA pod, Python 3.10, needs pytorch3d -------------------------------------------------------------
def test_runpod_pytorch3d_pins_torch_210_cu121_and_the_seed_pins() -> None:
    plan = make_plan(machines.runpod(), PlanOptions(ui="comfyui", extras=["pytorch3d"]))
    assert (plan.backend, plan.torch.version, plan.torch.variant) == ("cuda", "2.1.0", "cu121")
    assert plan.torch.torchvision == "0.16.0"
    assert {"huggingface_hub<0.26", "transformers<4.39", "pytorch3d==0.7.5"} <= set(plan.pins)
    assert any("py310_cu121_pyt210" in cmd for cmd in plan.torch.install)
    assert "extra-pytorch3d" in kb_cited(plan, "torch")


def test_runpod_without_extras_takes_the_newest_line_the_121_driver_runs() -> None:
    plan = make_plan(machines.runpod())
    assert plan.torch.variant == "cu126" and plan.torch.version == "2.13.0"
    assert any("minor-version compatibility" in r.text for r in plan.decision("torch").reasons)


def test_pytorch3d_without_a_visible_gpu_warns() -> None:
    plan = make_plan(machines.runpod(with_gpu=False), PlanOptions(extras=["pytorch3d"]))
    assert plan.backend == "cpu"
    need_cuda = advice(plan, "extras-need-cuda")
    assert "nvidia-smi" in need_cuda.fix and "rigfit plan --with pytorch3d" in need_cuda.fix
    assert "pytorch3d.git@v0.7.5" in need_cuda.fix and "extra-pytorch3d" in need_cuda.kb
    # the CUDA/torch-2.1 wheel cannot go on this torch: the plan compiles it instead
    assert not any("fbaipublicfiles" in cmd for cmd in plan.torch.install)
    assert any("pytorch3d.git@v0.7.5" in cmd for cmd in plan.torch.install)


def test_python_range_shared_by_torch_line_and_extra_is_stated_once() -> None:
    plan = make_plan(machines.runpod(), PlanOptions(ui="comfyui", extras=["pytorch3d"]))
    assert plan.python.required is not None and plan.python.required.count(">=3.8") <= 1


# ---- CPU only, EPYC with avx512_bf16 -----------------------------------------------------------------------------
def test_cpu_with_native_bf16_uses_bf16_and_without_uses_fp32() -> None:
    plan = make_plan(machines.epyc_cpu_only(), PlanOptions(ui="comfyui"))
    assert (plan.backend, plan.precision) == ("cpu", "bf16")
    assert "--cpu" in plan.ui_flags and "--bf16-unet" in plan.ui_flags
    no_bf16 = machines.epyc_cpu_only()
    no_bf16.cpu = replace(no_bf16.cpu, avx512_bf16=False)
    plan = make_plan(no_bf16, PlanOptions(ui="comfyui"))
    assert plan.precision == "fp32" and "prec-cpu-no-bf16" in kb_cited(plan, "precision")


def test_a1111_has_no_bf16_so_cpu_falls_back_to_fp32() -> None:
    plan = make_plan(machines.epyc_cpu_only(), PlanOptions(ui="a1111"))
    assert plan.precision == "fp32"


# ---- GTX 950M 2 GB (Maxwell sm_50) -------------------------------------------------------------------------------
def test_maxwell_gets_the_newest_line_with_sm50_and_low_vram() -> None:
    plan = make_plan(machines.gtx950m(), PlanOptions(ui="a1111"))
    assert plan.torch.variant == "cu126" and "5.0" in "".join(plan.decision("torch").reasons[0].facts)
    assert plan.memory_mode == "low" and "--lowvram" in plan.ui_flags
    assert any("sm_50" in a.why_not for a in plan.decision("torch").alternatives)


def test_maxwell_with_an_old_driver_gets_cu118() -> None:
    profile = machines.gtx950m()
    profile.nvidia_driver, profile.cuda_driver_version = "470.256.02", "11.4"
    plan = make_plan(profile)
    assert plan.torch.variant == "cu118"


# ---- RTX 5090 (sm_120) -------------------------------------------------------------------------------------------
def test_rtx5090_needs_cu128_or_newer() -> None:
    plan = make_plan(machines.rtx5090())
    assert plan.torch.variant == "cu130"
    plan = make_plan(machines.rtx5090(driver="570.133.07", cuda="12.8"))
    assert plan.torch.variant == "cu128"
    assert plan.memory_mode == "high"


# ---- 7900 XTX + Raphael iGPU -------------------------------------------------------------------------------------
def test_discrete_card_chosen_igpu_hidden_no_override() -> None:
    plan = make_plan(machines.xtx_raphael(), PlanOptions(ui="comfyui"))
    assert plan.device.gfx == "gfx1100" and plan.device.index == 1
    assert plan.env.get("HIP_VISIBLE_DEVICES") == "0"  # KFD node order: the 7900 XTX is node 1, the iGPU node 2
    assert "HSA_OVERRIDE_GFX_VERSION" not in plan.env
    assert plan.torch.variant == "rocm7.2"
    assert any("integrated" in a.why_not for a in plan.decision("device").alternatives)


def test_stale_override_on_a_native_card_is_reported() -> None:
    plan = make_plan(machines.xtx_raphael(), PlanOptions(user_env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}))
    stale = advice(plan, "stale-override")
    assert "needs no override" in stale.message and "unset HSA_OVERRIDE_GFX_VERSION" in stale.fix


# ---- APU only (gfx90c) -------------------------------------------------------------------------------------------
def test_apu_with_unreliable_override_stays_on_cpu_until_verified() -> None:
    plan = make_plan(machines.apu_only())
    assert plan.backend == "cpu"
    assert any("9.0.0" in a.why_not for a in plan.decision("device").alternatives)
    verified = VerifiedFacts(env_dir="/x", device="cuda:0", ops_ok=True, precision_ok={"fp16": True})
    plan = make_plan(machines.apu_only(), verified=verified)
    assert plan.backend == "rocm" and plan.env["HSA_OVERRIDE_GFX_VERSION"] == "9.0.0"
    assert plan.memory_mode == "low" and "shared" in advice(plan, "integrated-gpu-shared-memory").message


# ---- measurements beat the KB ------------------------------------------------------------------------------------
def test_measured_fp16_nan_switches_to_upcast() -> None:
    verified = VerifiedFacts(env_dir="/x", device="cuda:0", precision_ok={"fp16": False, "fp32": True})
    plan = make_plan(machines.macpro(), PlanOptions(ui="a1111"), verified)
    assert plan.precision_detail.startswith("fp16 weights, sampling upcast")
    assert plan.decision("precision").basis == "measured"
    assert "--upcast-sampling" in plan.ui_flags


def test_measured_fp16_ok_lifts_the_rdna1_upcast() -> None:
    verified = VerifiedFacts(env_dir="/x", device="cuda:0", precision_ok={"fp16": True})
    plan = make_plan(machines.rx5500xt(), PlanOptions(ui="a1111"), verified)
    assert plan.precision_detail == "fp16" and "--upcast-sampling" not in plan.ui_flags


def test_bench_best_config_wins() -> None:
    best = BenchConfig(dtype="fp32", attention="subquad", memory_mode="lowvram")
    plan = make_plan(
        machines.macpro(), PlanOptions(ui="a1111"), VerifiedFacts(env_dir="/x", device="cuda:0", best=best)
    )
    assert (plan.precision, plan.attention, plan.memory_mode) == ("fp32", "subquad", "low")


def test_user_asking_for_fp32_is_told_the_cost() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(ui="a1111", full_precision=True))
    assert plan.precision == "fp32" and "--no-half" in plan.ui_flags
    assert any("twice the memory" in r.text for r in plan.decision("precision").reasons)


# ---- UI vocabularies ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ui", "expect", "absent"),
    [
        ("forge", "--always-low-vram", "--lowvram"),
        ("a1111", "--lowvram", "--always-low-vram"),
        ("comfyui", "--lowvram", "--medvram"),
        ("sdnext", "--lowvram", "--always-low-vram"),
    ],
)
def test_low_vram_in_each_ui_vocabulary(ui: str, expect: str, absent: str) -> None:
    plan = make_plan(machines.gtx950m(), PlanOptions(ui=ui))  # type: ignore[arg-type]
    assert expect in plan.ui_flags and absent not in plan.ui_flags


def test_invokeai_gets_settings_not_flags() -> None:
    plan = make_plan(machines.gtx950m(), PlanOptions(ui="invokeai"))
    assert plan.ui_config["enable_partial_loading"] == "true"
    assert plan.ui_config["precision"] == "float16"
    assert not any(f.startswith("--") and "vram" in f for f in plan.ui_flags)


def test_pydantic_pin_only_for_forge() -> None:
    assert "pydantic<2.11" in make_plan(machines.gtx950m(), PlanOptions(ui="forge")).pins
    assert "pydantic<2.11" not in make_plan(machines.gtx950m(), PlanOptions(ui="comfyui")).pins


# ---- robustness: any profile, even mostly unknown, plans without raising -----------------------------------------
maybe_bool = st.none() | st.booleans()
gpu = st.builds(
    GpuInfo,
    vendor=st.sampled_from([None, "amd", "nvidia", "intel"]),
    gfx=st.sampled_from([None, "gfx803", "gfx1012", "gfx1032", "gfx1100", "gfx1103", "gfx90c", "gfx600", "gfx1036"]),
    compute_capability=st.sampled_from([None, "3.5", "5.0", "6.1", "7.5", "8.6", "12.0", "garbage"]),
    vram_bytes=st.none() | st.integers(0, 96 * 2**30),
    integrated=maybe_bool,
    driver=st.sampled_from([None, "amdgpu", "radeon", "nvidia", "nouveau"]),
    atomics_rejected=maybe_bool,
)
profiles = st.builds(
    Profile,
    cpu=st.builds(
        CpuInfo,
        arch=st.sampled_from([None, "x86_64", "aarch64"]),
        avx=maybe_bool,
        sse4_1=maybe_bool,
        avx512_bf16=maybe_bool,
        x86_64_level=st.none() | st.integers(1, 4),
    ),
    memory=st.builds(MemoryInfo, total_bytes=st.none() | st.integers(0, 2**40)),
    gpus=st.lists(gpu, max_size=3),
    nvidia_driver=st.sampled_from([None, "470.1", "530.30.02", "595.71.05", "?"]),
    cuda_driver_version=st.sampled_from([None, "11.4", "12.1", "13.2", "x"]),
    kfd_access=st.sampled_from([None, "ok", "permission_denied", "missing"]),
    python=st.builds(PythonInfo, version=st.sampled_from([None, "3.8.10", "3.10.12", "3.12.3", "3.14.0", "junk"])),
)


@settings(max_examples=150, deadline=None)
@given(
    profile=profiles,
    ui=st.sampled_from(["forge", "a1111", "comfyui", "sdnext", "invokeai"]),
    extras=st.sampled_from([[], ["pytorch3d"]]),
)
def test_any_profile_plans_without_raising(profile: Profile, ui: str, extras: list[str]) -> None:
    plan = make_plan(profile, PlanOptions(ui=ui, extras=extras))  # type: ignore[arg-type]
    assert plan.backend in ("cuda", "rocm", "cpu")
    assert plan.decision("torch") is not None and plan.reasons
    for blocker in plan.blockers:
        assert blocker.fix


# ---- warnings are advice: what is wrong and the exact fix, in the chosen UI's words --------------------------------
@pytest.mark.parametrize(("ui", "flag"), [("a1111", "--medvram"), ("comfyui", "--lowvram"), ("forge", "--always-")])
def test_unknown_vram_advice_names_where_it_is_read_and_the_uis_oom_flag(ui: str, flag: str) -> None:
    profile = machines.macpro()
    profile.gpus[0].vram_bytes = None
    plan = make_plan(profile, PlanOptions(ui=ui))
    unknown = advice(plan, "vram-unknown")
    assert "rigfit doctor" in unknown.fix and "mem_info_vram_total" in unknown.fix and flag in unknown.fix


def test_flux_advice_on_a1111_points_to_a_ui_that_loads_flux() -> None:
    plan = make_plan(machines.macpro(), PlanOptions(ui="a1111", models=["flux"]))
    assert "does not load Flux" in advice(plan, "flux-8gb").fix and "--ui forge" in advice(plan, "flux-8gb").fix


def test_bench_attention_without_a_ui_flag_is_reported_not_adopted() -> None:
    best = BenchConfig(dtype="bf16", attention="classic", channels_last=True)
    plan = make_plan(machines.epyc_cpu_only(), PlanOptions(), VerifiedFacts(env_dir="/x", device="cpu", best=best))
    assert plan.attention == "sdpa" and plan.precision == "bf16"
    assert any("'classic'" in r.text for r in plan.decision("attention").reasons)
