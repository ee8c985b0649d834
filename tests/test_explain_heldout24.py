"""explain on the twenty-fourth held-out round of issue 10 (heldx24: 2025-2026 threads of ComfyUI and its
comfy-aimdo DynamicVRAM allocator, Forge Neo, kohya): the class rules that round led to, each held to the held-out
log and to another real log of its class (rows in logs/INDEX.yaml; the heldx24 files are marked heldout)."""

from __future__ import annotations

import pytest

from tests.explain_helpers import found, ids


@pytest.mark.parametrize(
    "name",
    [
        "keyword-version-mismatch--comfyui-aimdo-0.4.9-simple-vram-headroom-rtx5090.txt",
        "keyword-version-mismatch--comfyui-aimdo-simple-vram-headroom-linux.txt",
    ],
)
def test_a_package_function_refusing_a_keyword_names_the_package_and_its_pinned_release(name: str) -> None:
    first = found(name)[0]
    assert first.id == "python-keyword-version-mismatch", name
    assert first.facts["package"] == "comfy-aimdo" and first.facts["keyword"] == "simple_vram_headroom"
    assert first.facts["caller"].endswith("ComfyUI/main.py")
    # the caller (ComfyUI's main.py) is newer than the installed comfy-aimdo: requirements.txt names the release
    assert "another release of comfy-aimdo" in first.cause
    assert "requirements.txt" in first.fix and "pip install -r requirements.txt" in first.fix


def test_a_keyword_refused_by_a_method_called_through_a_variable_names_no_package() -> None:
    # "self.to_q(..., scale=)" raising "forward() got an unexpected keyword argument": a method reached through a
    # variable names no package (and the call line is not among the kept lines here either)
    assert "python-keyword-version-mismatch" not in {
        e.id for e in found("unrelated/musev-forward-unexpected-keyword-scale.txt")
    }


def test_transformer_options_stays_the_comfyui_node_core_skew() -> None:
    text = "TypeError: attention_sage() got an unexpected keyword argument 'transformer_options'\n"
    assert ids(text)[0] == "comfyui-node-core-skew"


@pytest.mark.parametrize(
    "name",
    [
        "comfyui-aimdo-device-not-initialized--multigpu-linux-clip-cuda1.txt",
        "comfyui-aimdo-device-not-initialized--multigpu-desktop-flux2.txt",
    ],
)
def test_comfy_aimdo_device_not_initialized_is_the_multi_gpu_placement_under_dynamic_vram(name: str) -> None:
    first = found(name)[0]
    assert first.id == "comfyui-aimdo-device-not-initialized", name
    assert "GPU 1" in first.cause
    assert "--disable-dynamic-vram" in first.fix and "cuda:0" in first.fix


@pytest.mark.parametrize(
    "name",
    [
        "torch-not-able-to-use-gpu--forge-neo-rtx2050-py313.txt",
        "torch-not-able-to-use-gpu--forge-classic-rtx3050.txt",
    ],
)
def test_the_launch_check_names_a_driver_older_than_the_torch_cuda_line(name: str) -> None:
    # Forge Neo's maintainer answers its failing check with an older PyTorch (the default one needs a newer driver):
    # --reinstall-torch alone puts the same torch back
    first = found(name)[0]
    assert first.id == "torch-not-able-to-use-gpu", name
    assert "a driver older than the CUDA line" in first.cause
    assert "nvidia-smi" in first.fix and "older CUDA line" in first.fix and "Older PyTorch" in first.fix
