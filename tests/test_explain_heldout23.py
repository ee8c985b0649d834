"""explain on the twenty-third held-out round of issue 10 (heldx23: 2025-2026 threads of ComfyUI, Forge Classic,
InvokeAI and the attention extensions they load): the class rules that round led to, each held to the held-out log
and to other real logs of its class (rows in logs/INDEX.yaml; the heldx23 files are marked heldout)."""

from __future__ import annotations

import pytest

from tests.explain_helpers import found, ids

NO_KERNEL = "RuntimeError: CUDA error: no kernel image is available for execution on the device"


@pytest.mark.parametrize(
    "name",
    [
        "extension-kernel-missing--comfyui-nix-fa3-hopper-rtx5080.txt",
        "extension-kernel-missing--ai-toolkit-flash-attn-2.8.3-rtx5090.txt",
        "extension-kernel-missing--flashmla-sm90-only-test.txt",
    ],
)
def test_a_no_kernel_line_that_names_an_extension_source_blames_that_extension(name: str) -> None:
    first, *rest = found(name)
    assert first.id == "extension-kernel-missing-for-gpu", name
    assert "Torch is not at fault" in first.cause and "download.pytorch.org" not in first.fix
    # torch's generic no-kernel answer (reinstall torch) is about the same line only: superseded, it is dropped
    assert "no-kernel-image" not in {e.id for e in rest} and all(e.confidence < first.confidence for e in rest)


def test_flash_attention_3_from_its_hopper_folder_is_named_and_no_torch_wheel_is_offered() -> None:
    first = found("extension-kernel-missing--comfyui-nix-fa3-hopper-rtx5080.txt")[0]
    assert "FlashAttention 3" in first.cause and "Hopper" in first.cause
    assert "cu128" not in first.fix and "download.pytorch.org" not in first.fix
    # an FA2 path is the extension's generic answer, naming the file it printed
    other = found("extension-kernel-missing--ai-toolkit-flash-attn-2.8.3-rtx5090.txt")[0]
    assert "FlashAttention 3" not in other.cause and "flash-attn/flash_fwd_launch_template.h" in other.cause


def test_torch_own_no_kernel_message_keeps_the_torch_answer() -> None:
    assert ids(NO_KERNEL)[0] == "no-kernel-image"


@pytest.mark.parametrize(
    "name",
    [
        "torch-not-able-to-use-gpu--forge-classic-neo-access-cuda.txt",
        "torch-not-able-to-use-gpu--forge-classic-rtx3050.txt",
    ],
)
def test_forge_classic_wording_of_the_launch_check_is_the_launch_check(name: str) -> None:
    first = found(name)[0]
    assert first.id == "torch-not-able-to-use-gpu", name
    assert "--reinstall-torch" in first.fix and "remove the flag afterwards" in first.fix


def test_comfyui_sage_attention_fallback_says_it_is_a_fallback_and_why() -> None:
    headdim = found("comfyui-sage-fallback--headdim-sd15.txt")[0]
    assert headdim.id == "comfyui-sage-attention-fallback"
    assert "headdim should be in [64, 96, 128]" in headdim.cause and "Harmless" in headdim.cause
    assert headdim.fix.startswith("Nothing to fix") and "--use-sage-attention" in headdim.fix
    kernels = found("comfyui-sage-fallback--sageattention-wheel-sm80-sm89.txt")[0]
    assert kernels.id == "comfyui-sage-attention-fallback" and "no SM80 kernels" in kernels.cause
    assert "TORCH_CUDA_ARCH_LIST" in kernels.fix
    other = found("comfyui-sage-fallback--multigpu-list-indices-torch29.txt")[0]
    assert other.id == "comfyui-sage-attention-fallback"
    assert '"list indices must be integers or slices, not NoneType"' in other.cause
    assert other.fix.startswith("Nothing is broken")


def test_a_sage_fallback_never_outranks_a_real_error_of_the_same_log() -> None:
    text = "Error running sage attention: headdim should be in [64, 96, 128]., using pytorch attention instead.\n"
    assert ids(text + NO_KERNEL + "\n")[0] == "no-kernel-image"


@pytest.mark.parametrize(
    "name", ["invokeai-web-segfault--invoke-sh-bnb-warning-rx6650xt.txt", "invokeai-web-segfault--nvidia-title.txt"]
)
def test_invokeai_server_segfault_is_the_answer_not_a_warning_before_it(name: str) -> None:
    answers = found(name)
    assert answers[0].id == "invokeai-web-segfault-at-start", name
    assert "patchmatch: false" in answers[0].fix and "PYTHONFAULTHANDLER=1" in answers[0].fix
    assert "bitsandbytes-no-gpu-build" not in {e.id for e in answers}


def test_the_bitsandbytes_warning_alone_is_still_answered() -> None:
    line = (
        "The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers, 8-bit "
        "multiplication, and GPU quantization are unavailable."
    )
    assert ids(line)[0] == "bitsandbytes-no-gpu-build"
    assert "bitsandbytes-no-gpu-build" not in ids(line + "\nSegmentation fault (core dumped)\n")
