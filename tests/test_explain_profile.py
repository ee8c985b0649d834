"""Explanations use what is known about the machine: the CPU's missing extensions, the card's override, the UI's
low-VRAM flag for the VRAM size, the wheel for the compute capability or the driver."""

from __future__ import annotations

from rigfit.explain.facts import log_facts, merge_facts
from rigfit.explain.match import Explanation, _texts, catalogue, explain_text
from rigfit.explain.scan import KeywordScanner
from rigfit.probe.profile import CpuInfo, GpuInfo, PermissionsInfo, Profile, PythonInfo
from tests.conftest import fixture_text

WESTMERE = CpuInfo(arch="x86_64", model="Intel(R) Xeon(R) CPU X5670 @ 2.93GHz", sse4_2=True, avx=False, avx2=False)
ZEN2 = CpuInfo(arch="x86_64", model="AMD Ryzen 5 3600 6-Core Processor", sse4_2=True, avx=True, avx2=True)
CORE2 = CpuInfo(arch="x86_64", model="Intel(R) Core(TM)2 Duo CPU E8400 @ 3.00GHz", sse4_2=False, avx=False, avx2=False)
RX6600XT = GpuInfo(vendor="amd", name="AMD Radeon RX 6600 XT", gfx="gfx1032", vram_bytes=8 * 2**30)
RX460 = GpuInfo(vendor="amd", name="Radeon RX 460", gfx="gfx803", vram_bytes=4 * 2**30)
GTX1060 = GpuInfo(vendor="nvidia", name="NVIDIA GeForce GTX 1060 6GB", compute_capability="6.1", vram_bytes=6 * 2**30)


def first(log: str, profile: Profile | None = None) -> Explanation:
    explanations = explain_text(log, profile).explanations
    assert explanations, "nothing matched"
    return explanations[0]


def issue(issue_id: str):
    return next(i.entry for i in catalogue() if i.entry.id == issue_id)


SIGILL = fixture_text("logs/sigill-no-avx--rocblas-pentium-g5420.txt")


def test_sigill_on_cpu_without_avx_names_the_rocm_libraries_and_the_routes_out() -> None:
    e = first(SIGILL, Profile(cpu=WESTMERE, gpus=[RX6600XT]))
    assert e.id == "sigill-cpu-features"
    assert "X5670" in e.cause and "no AVX" in e.cause and "rocBLAS" in e.cause
    assert "download.pytorch.org/whl/cpu" in e.fix and "`rigfit build-torch --rocm gfx1030 --torch" in e.fix
    assert e.profile_agrees is True


def test_sigill_confidence_follows_the_cpu() -> None:
    without = first(SIGILL).confidence
    no_avx = first(SIGILL, Profile(cpu=WESTMERE)).confidence
    with_avx = first(SIGILL, Profile(cpu=ZEN2, gpus=[RX6600XT]))
    assert no_avx > without > with_avx.confidence
    assert with_avx.profile_agrees is False


def test_sigill_on_cpu_without_sse42_points_at_numpy() -> None:
    e = first(SIGILL, Profile(cpu=CORE2))
    assert "SSE4.2" in e.cause and "numpy<2.4" in e.fix


def test_no_binary_for_gpu_gives_the_cards_override() -> None:
    log = fixture_text("logs/hip-no-binary-for-gpu--w6600-docker.txt")
    e = first(log, Profile(cpu=ZEN2, gpus=[RX6600XT]))
    assert e.id == "hip-no-binary-for-gpu"
    assert "gfx1032" in e.cause
    assert "export HSA_OVERRIDE_GFX_VERSION=10.3.0" in e.fix


def test_a_gfx_named_in_the_log_wins_over_this_machine() -> None:
    """The log may come from another machine: a rocminfo line in it says which card crashed."""
    log = "  Name:                    gfx1031\n" + fixture_text(
        "logs/hip-invalid-device-function--open-oasis-rx6600.txt"
    )
    e = first(log, Profile(gpus=[RX460]))
    assert "gfx1031" in e.cause.lower() and "HSA_OVERRIDE_GFX_VERSION=10.3.0" in e.fix


def test_a_card_without_override_gets_no_override() -> None:
    log = fixture_text("logs/hip-no-binary-for-gpu--w6600-docker.txt")
    e = first(log, Profile(gpus=[RX460]))
    assert "gfx803" in e.cause and "HSA_OVERRIDE" not in e.fix


def test_oom_in_a1111_on_a_2gb_card_gives_lowvram() -> None:
    e = first(fixture_text("logs/cuda-out-of-memory--a1111-2gb.txt"))
    assert e.id == "gpu-out-of-memory"
    assert "2 GiB" in e.cause and "Stable Diffusion 1.5" in e.cause
    assert e.facts["vram_gib"] == "2" and e.facts["model"] == "sd15"
    assert "AUTOMATIC1111" in e.fix and "--lowvram" in e.fix and "--medvram" not in e.fix
    assert "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True" in e.fix


def test_oom_flag_depends_on_the_ui_and_the_vram() -> None:
    oom = issue("cuda-out-of-memory")
    cases = {
        ("comfyui", 6.0): "--lowvram",
        ("comfyui", 4.0): "--novram",
        ("forge", 4.0): "--always-low-vram",
        ("forge", 8.0): "--always-offload-from-vram",
        ("sdnext", 8.0): "--medvram",
        ("a1111", 8.0): "--medvram",
    }
    for (ui, vram), flag in cases.items():
        _, fix = _texts(oom, merge_facts({"ui": ui}, {"vram_gib": vram}, {}))
        assert f"with {flag}" in fix, (ui, vram, fix)


def test_oom_without_ui_or_vram_lists_every_uis_flag() -> None:
    # (the 16 GB ComfyUI log is an allocation failure with 7 GiB free since xcases: not an OOM to flag away)
    e = first(fixture_text("logs/hip-oom--comfyui-flux-12gb.txt"))
    assert e.id == "hip-out-of-memory"
    assert "--medvram" in e.fix and "--always-low-vram" in e.fix and "PYTORCH_HIP_ALLOC_CONF" in e.fix


def test_oom_vram_comes_from_the_profile_when_the_log_lacks_it() -> None:
    log = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB\n"
    log += fixture_text("logs/cuda-out-of-memory--a1111-2gb.txt").splitlines()[-2]  # an A1111 modules/ frame
    e = first(log, Profile(gpus=[GTX1060]))
    assert "(6 GiB)" in e.cause and "AUTOMATIC1111 stable-diffusion-webui with --medvram" in e.fix


def test_nans_in_forge_use_forges_own_flags() -> None:
    log = fixture_text("logs/nans-exception--a1111-sd21.txt").replace(
        "stable-diffusion-webui", "stable-diffusion-webui-forge"
    )
    e = first(log)
    assert e.id == "nans-exception-fp16"
    assert "--vae-in-fp32" in e.fix and "ignores A1111's --no-half" in e.fix


def test_compute_capability_picks_the_wheel() -> None:
    pascal = first(fixture_text("logs/sm-not-compatible--gtx1070ti-sm61-cu111.txt"))
    assert "sm_61" in pascal.cause and "sm_50 sm_70 sm_80 sm_86" in pascal.cause
    assert "whl/cu126" in pascal.fix
    blackwell = first(fixture_text("logs/sm-not-compatible--rtx5080-sm120.txt"))
    assert "RTX 5080" in blackwell.cause and "whl/cu128" in blackwell.fix


def test_no_kernel_image_uses_the_profiles_compute_capability() -> None:
    e = first(fixture_text("logs/no-kernel-image--a1111-conv2d.txt"), Profile(gpus=[GTX1060]))
    assert "6.1" in e.cause and "whl/cu126" in e.fix


def test_old_driver_gets_the_wheel_it_can_run() -> None:
    e = first(fixture_text("logs/nvidia-driver-too-old--fooocus-470.txt"))
    assert "CUDA up to 11.4" in e.cause and "torch==2.7.1 " in e.fix and "whl/cu118" in e.fix


def test_kfd_permission_fix_depends_on_where_it_runs() -> None:
    log = fixture_text("logs/kfd-permission-denied--docker-render-group.txt")
    in_docker = first(log, Profile(python=PythonInfo(container="docker")))
    assert "--group-add" in in_docker.fix and "docker" in in_docker.cause
    on_host = first(log, Profile(permissions=PermissionsInfo(groups=["users", "video"])))
    assert "users, video" in on_host.cause and "usermod -aG render" in on_host.fix


def test_cuda_driver_error_on_an_amd_machine_says_wrong_torch() -> None:
    e = first(fixture_text("logs/no-nvidia-driver--pytorch3d.txt"), Profile(gpus=[RX6600XT]))
    assert "AMD" in e.cause and "rocm" in e.fix


def test_ui_is_detected_from_paths() -> None:
    scanner = KeywordScanner(["modules", "comfy", "custom_nodes", "stable-diffusion-webui", "forge", "fooocus"])

    def ui_of(path: str) -> str | None:
        return log_facts(scanner.scan([fixture_text(path).encode()])).get("ui")

    assert ui_of("logs/torch-nn-no-rmsnorm--comfyui-wanvideo.txt") == "comfyui"
    assert ui_of("logs/cuda-out-of-memory--a1111-2gb.txt") == "a1111"
    assert ui_of("logs/torchvision-nms-missing--hallo-colab.txt") is None  # torch's own modules/ paths are not A1111
