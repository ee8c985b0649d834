"""Class analyzers build the cause and fix from the facts of the log and the knowledge base, not from fixed text."""

from __future__ import annotations

from rigfit.explain.match import Explanation, explain_text
from rigfit.kb.loader import by_id
from rigfit.plan.knowledge import gfx_targets, pins
from rigfit.probe.profile import CpuInfo, Profile
from tests.conftest import FIXTURES

LOGS = FIXTURES / "logs"


def top(text: str, profile: Profile | None = None) -> Explanation:
    explanations = explain_text(text, profile).explanations
    assert explanations, "nothing matched"
    return explanations[0]


def log(name: str) -> str:
    return (LOGS / name).read_text(encoding="utf-8")


def test_kornia_fix_is_the_planners_pin() -> None:
    """explain and plan give one answer: the kornia fix text comes from pins.yaml."""
    known = by_id(pins())
    e = top(log("kornia-pyramid-pad--comfyui-ltxvideo.txt"))
    assert e.id == "kornia-pyramid-import"
    assert known["pin-kornia-pad"].fix in e.fix
    assert f"kornia{known['pin-kornia-old-torch'].spec}" in e.fix
    assert "kornia==0.8.2" not in e.fix.replace('"', "")


def test_resolver_conflict_names_both_requirements_and_who_asked() -> None:
    e = top(log("pip-conflict--ipp-al-torch1102.txt"))
    assert "torch==1.10.2" in e.cause and "torchvision 0.11.2" in e.cause and "torch==1.10.1" in e.cause


def test_a_synthetic_conflict_on_another_package_is_read_the_same_way() -> None:
    text = (
        "ERROR: Cannot install gradio==3.41.2 and gradio-client==1.3.0 because these package versions have "
        "conflicting dependencies.\nThe conflict is caused by:\n    The user requested gradio-client==1.3.0\n"
        "    gradio 3.41.2 depends on gradio-client==0.5.0\n"
    )
    e = top(text)
    assert e.id == "pip-resolver-conflict"
    assert e.facts["package"] == "gradio-client"
    assert {e.facts["requirement_a"], e.facts["requirement_b"]} == {"gradio-client==1.3.0", "gradio-client==0.5.0"}


def test_module_not_found_maps_the_import_name_to_its_package_and_env() -> None:
    text = (
        'File "/home/me/sd/venv/lib/python3.10/site-packages/foo/bar.py", line 3, in <module>\n'
        "ModuleNotFoundError: No module named 'cv2'\n"
    )
    e = top(text)
    assert e.facts["package"] == "opencv-python"
    assert "/home/me/sd/venv/bin/python -m pip install opencv-python" in e.fix


def test_removed_name_says_which_release_removed_it() -> None:
    e = top("AttributeError: module 'PIL.Image' has no attribute 'ANTIALIAS'\n")
    assert e.id == "python-name-version-mismatch"
    assert "Pillow 10.0 removed it" in e.cause and "LANCZOS" in e.fix


def test_compute_capability_picks_the_wheel_line_that_has_code_for_it() -> None:
    text = (
        "NVIDIA GeForce GTX 1080 with CUDA capability sm_61 is not compatible with the current PyTorch installation.\n"
        "The current PyTorch install supports CUDA capabilities sm_75 sm_80 sm_86 sm_90 sm_100 sm_120.\n"
    )
    explanations = explain_text(text).explanations
    analyzer = next(e for e in explanations if e.id == "cuda-arch-missing")
    assert analyzer.facts["cc"] == "6.1"
    assert "whl/cu126" in analyzer.fix and "older than the oldest" in analyzer.cause


def test_gfx_without_kernels_on_windows_gets_no_linux_override() -> None:
    """The HIP SDK on Windows does not read HSA_OVERRIDE_GFX_VERSION: its rocBLAS needs a library for the gfx, and an
    APU's iGPU (gfx1103, rocm.yaml has an override for Linux) may be the device picked instead of a dGPU (heldx 15)."""
    e = top(log("rocblas-tensile--hip-sdk-gfx1103.txt"))
    assert e.facts["gfx"] == "gfx1103" and gfx_targets()["gfx1103"].override
    assert "export HSA_OVERRIDE_GFX_VERSION" not in e.fix and "Linux ROCm only" in e.cause
    assert "rocblas library" in e.fix and "HIP_VISIBLE_DEVICES" in e.fix
    igpu = top(log("rocblas-tensile--hip-sdk-gfx1036-zluda.txt"))
    assert igpu.facts["gfx"] == "gfx1036" and "integrated GPU" in igpu.cause


def test_oom_reads_model_and_flags_in_use() -> None:
    e = top(log("cuda-oom--a1111-sysinfo-medvram-8gb.txt"))
    assert e.id == "gpu-out-of-memory" and "--lowvram" in e.fix and "already on" in e.fix
    sdxl = top(log("comfyui-oom--sdxl-dora-4070ti.txt"))
    assert sdxl.facts["model"] == "sdxl" and "Stable Diffusion XL" in sdxl.cause


def test_sigill_names_the_library_and_what_it_needs() -> None:
    e = top(log("sigill-dmesg--ipex-llm-amx.txt"))
    assert e.facts["library"] == "libllama_amx.so" and "AMX" in e.cause


def test_sigill_on_a_cpu_that_has_avx2_is_doubted() -> None:
    cpu = CpuInfo(arch="x86_64", model="Ryzen 7 3700X", sse4_2=True, avx=True, avx2=True)
    e = next(x for x in explain_text(log("sigill-dmesg--ipex-llm-amx.txt"), Profile(cpu=cpu)).explanations)
    assert e.profile_agrees is False and e.confidence < 0.5


def test_the_really_missing_library_is_named() -> None:
    e = top(log("lib-missing--sadtalker-libcuda.txt"))
    assert e.facts["library"] == "libcuda.so" and "NVIDIA driver" in e.cause


def test_harmless_lines_match_nothing() -> None:
    text = (
        "No module 'xformers'. Proceeding without it.\n"
        "Requirement already satisfied: torch in ./venv/lib/python3.10/site-packages (2.1.2)\n"
        "Successfully installed numpy-1.26.4\n"
        "UserWarning: TypedStorage is deprecated. It will be removed in the future.\n"
        "Model loaded in 4.2s (load weights from disk: 0.6s, create model: 0.5s).\n"
    )
    assert explain_text(text).explanations == []


def test_the_cuda_line_for_a_new_gpu_follows_the_driver() -> None:
    """Driver unknown: the newest line with the card's code, and the line an older driver runs, both from
    torch_wheels.yaml (as the plan reads them); the driver in the log (nvidia-smi's header): the newest it runs."""
    blackwell = log("sm-not-compatible--aitoolkit-5060ti-sm120.txt")
    unknown = next(e for e in explain_text(blackwell).explanations if e.id == "cuda-arch-missing")
    assert (
        "whl/cu130" in unknown.fix
        and "With a driver older than 580.65.06" in unknown.fix
        and "whl/cu128" in unknown.fix
    )
    smi = (FIXTURES / "real" / "nvidia-smi" / "rtx5070-cuda-version-na.txt").read_text(encoding="utf-8")
    on_575 = next(e for e in explain_text(smi + blackwell).explanations if e.id == "cuda-arch-missing")
    assert "whl/cu128" in on_575.fix and "whl/cu130" not in on_575.fix and on_575.facts["fix_wheel"].endswith("cu128")
