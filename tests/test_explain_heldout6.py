"""explain on the sixth held-out round of issue 10 (heldx6, GPU/runtime classes): the class rules and knowledge that
round led to, each held to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout,
round heldx6)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_shell_reporting_its_python_killed_while_loading_a_checkpoint_is_ram_running_out() -> None:
    first = found("cpu-oom-killed--a1111-sdxl-load.txt")[0]
    assert first.id == "cpu-out-of-memory" and first.facts["model"] == "sdxl"
    assert "SIGKILL" in first.cause and "16 GB of RAM" in first.cause and "swap" in first.fix
    # the same class in other shapes: a bare "Killed", Python's subprocess, docker's exit status
    assert ids("making attention of type 'vanilla' with 512 in_channels\nKilled")[:1] == ["cpu-out-of-memory"]
    died = "subprocess.CalledProcessError: Command '['venv/bin/python', 'launch.py']' died with <Signals.SIGKILL: 9>."
    assert ids(died)[:1] == ["cpu-out-of-memory"]
    assert ids("comfyui exited with code 137")[:1] == ["cpu-out-of-memory"]
    # a process that killed something else, or talk about killing, is not one
    assert "cpu-out-of-memory" not in ids("Killed all loaded models to free memory\nModel loaded in 3.2s")
    assert "cpu-out-of-memory" not in ids("exit code 1370 from the test runner")


def test_a_launchers_model_download_without_dns_names_the_file_host_and_folder() -> None:
    first = found("model-download--fooocus-getaddrinfo.txt")[0]
    assert first.id == "model-download-failed" and first.facts["host"] == "huggingface.co"
    assert "does not resolve" in first.cause and "juggernautXL_v8Rundiffusion.safetensors" in first.fix
    assert first.facts["destination"].endswith("models\\checkpoints\\juggernautXL_v8Rundiffusion.safetensors")
    refused = explain_text(
        'Downloading: "https://huggingface.co/lllyasviel/misc/resolve/main/xlvaeapp.pth" to /f/vae/xlvaeapp.pth\n'
        "urllib.error.HTTPError: HTTP Error 403: Forbidden"
    ).explanations[0]
    assert refused.id == "model-download-failed" and refused.facts["http_status"] == "403"
    # a download that worked, then an unrelated error: not a network failure
    fine = (
        'Downloading: "https://huggingface.co/x/y/resolve/main/a.safetensors" to /m/a.safetensors\n'
        "100%|██████████| 6.46G/6.46G [03:03<00:00, 37.9MB/s]\nKeyError: 'model.diffusion_model'"
    )
    assert "model-download-failed" not in ids(fine)


def test_sigill_right_after_a_plugin_starts_names_the_plugin() -> None:
    first = found("sigill-plugin--comfyui-docker-h3-node.txt")[0]
    assert first.id == "sigill-plugin" and first.facts["component"] == "H3 Prompt Writer"
    assert "--disable-all-custom-nodes" in first.fix and "H3 Prompt Writer" in first.fix
    by_path = explain_text(
        "Loading: /opt/ComfyUI/custom_nodes/ComfyUI-ReActor/nodes.py\nIllegal instruction (core dumped)"
    ).explanations[0]
    assert by_path.id == "sigill-plugin" and by_path.facts["component"] == "ComfyUI-ReActor"
    # a log level in brackets is no plugin, and a plugin far above the crash did not cause it
    assert "sigill-plugin" not in ids("[INFO] Starting server\nIllegal instruction (core dumped)")
    far = "[Impact Pack] Loading nodes\n" + "got prompt\n" * 5 + "Illegal instruction (core dumped)"
    assert "sigill-plugin" not in ids(far)


def test_a_video_model_out_of_memory_gets_frames_resolution_and_block_swap() -> None:
    first = found("oom--comfyui-wanvideo-report.txt")[0]
    assert first.id == "gpu-out-of-memory" and first.facts["model"] == "wan"
    assert "frames" in first.fix and "WanVideoBlockSwap" in first.fix and "8.2 GB" in first.cause
    hunyuan = explain_text(
        "Requested to load HunyuanVideo\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB."
    ).explanations[0]
    assert hunyuan.facts["model"] == "hunyuan-video" and "blocks-to-swap" in hunyuan.fix
    sd15 = explain_text(
        "Requested to load BaseModel\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB."
    ).explanations[0]
    assert "frames" not in sd15.fix


def test_a_model_already_loaded_partially_gets_smaller_weights_first() -> None:
    first = found("oom--comfyui-xflux-partial-load.txt")[0]
    assert first.id == "gpu-out-of-memory" and first.facts["loaded_partially_gb"] == "11.1"
    assert first.fix.startswith("Use a smaller variant of FLUX.1") and "GGUF" in first.fix
    plain = explain_text("Requested to load Flux\ntorch.OutOfMemoryError: Allocation on device").explanations[0]
    assert "loaded_partially_gb" not in plain.facts and "smaller variant" in plain.fix  # still offered, last


def test_hipblaslt_without_kernels_for_the_gfx_is_not_an_override_problem() -> None:
    first = found("hipblaslt-missing--sdnext-zluda-gfx1030.txt")[0]
    assert first.id == "hipblaslt-no-kernels-for-gfx" and "gfx1030" in first.cause
    assert "DISABLE_ADDMM_CUDA_LT=1" in first.fix and "TORCH_BLAS_PREFER_HIPBLASLT=0" in first.fix
    linux = (
        'rocblaslt error: Could not load "/opt/venv/lib/python3.12/site-packages/torch/lib/hipblaslt/library/'
        'TensileLibrary_lazy_gfx1032.dat"'
    )
    assert ids(linux)[:1] == ["hipblaslt-no-kernels-for-gfx"]
    rocblas = "rocBLAS error: Cannot read /opt/rocm/lib/rocblas/library/TensileLibrary.dat: No such file or directory"
    assert "hipblaslt-no-kernels-for-gfx" not in ids(rocblas)


def test_a_wheel_the_fix_picked_is_not_shown_as_read_from_the_log() -> None:
    first = found("sm-not-compatible--onetrainer-5070ti-sm120.txt")[0]
    assert "wheel" not in first.facts and first.facts.get("fix_wheel", "").startswith("torch ")
