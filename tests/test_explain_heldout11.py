"""explain on the eleventh held-out round of issue 10 (heldx11: what users typically paste, sampled by symptom words
from 2025-2026 issue threads of any SD tool): the class rules that round led to, each held to a real log and to a
text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx11)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_the_uis_own_package_missing_beside_its_imported_siblings_is_an_incomplete_checkout() -> None:
    first = found("ui-package-missing--forge-zip-modules-forge.txt")[0]
    assert first.id == "python-ui-package-missing" and first.facts["module"] == "modules_forge"
    assert first.facts["importer"] == "P:\\Forge\\stable-diffusion-webui-forge-main"
    assert "git clone" in first.fix and "Do not `pip install modules_forge`" in first.fix
    assert "pip install modules-forge" not in first.fix
    # another UI, on Linux: A1111's launch.py imports modules.launch_utils, which cannot import a sibling package
    a1111 = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/stable-diffusion-webui/launch.py", line 4, in <module>\n'
        "    from modules import launch_utils\n"
        '  File "/home/u/stable-diffusion-webui/modules/launch_utils.py", line 9, in <module>\n'
        "    from modules_forge import forge_version\n"
        "ModuleNotFoundError: No module named 'modules_forge'\n"
    )
    top = explain_text(a1111).explanations[0]
    assert top.id == "python-ui-package-missing" and top.facts["importer"] == "/home/u/stable-diffusion-webui"
    # the UI's own top-level file failing to import its package stays the import-path class (heldx10)
    own = (
        "Traceback (most recent call last):\n"
        '  File "/opt/sd/stable-diffusion-webui/webui.py", line 13, in <module>\n'
        "    from modules import shared\n"
        "ModuleNotFoundError: No module named 'modules'\n"
    )
    assert explain_text(own).explanations[0].id == "python-ui-package-unreachable"


def test_a_torch_dll_named_without_an_error_code_is_the_torch_dll_class() -> None:
    first = found("torch-dll-load--comfyui-portable-shm-dll.txt")[0]
    assert first.id == "windows-torch-dll-load-failed" and "shm.dll" in first.cause
    assert "Visual C++" in first.fix and "--force-reinstall torch" in first.fix
    # with a WinError code the os-error rule reads the code (fixture os-error--torch240-fbgemm-winerror-126.txt)
    coded = (
        'OSError: [WinError 126] Error loading "C:\\py\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" '
        "or one of its dependencies."
    )
    assert "windows-torch-dll-load-failed" not in ids(coded)
    # a DLL outside torch is not this class
    other = 'Error loading "C:\\app\\bin\\libfoo.dll" or one of its dependencies.'
    assert "windows-torch-dll-load-failed" not in ids(other)


def test_numpys_cast_warning_on_image_pixels_is_a_nan_black_image() -> None:
    first = found("nan-image--hidream-rtx5090-cast-warning.txt")[0]
    assert first.id == "nan-image-cast" and "NaN" in first.cause and "--fp32-vae" in first.fix
    # ComfyUI's own SaveImage path, another wording of the same conversion
    comfy = (
        "D:\\ComfyUI\\nodes.py:1140: RuntimeWarning: invalid value encountered in cast\n"
        "  img = Image.fromarray(np.clip(i, 0, 255).astype(np.uint8))\n"
    )
    assert ids(comfy)[0] == "nan-image-cast"
    # the same numpy warning on data that is no image (a geoscience tool) matches nothing
    science = (
        "/home/x/LiCSBAS2/bin/LiCSBAS02_ml_prep.py:440: RuntimeWarning: invalid value encountered in cast\n"
        "  cc = cc.astype(np.uint8) ##nan->0, max255, auto-floored\n"
    )
    assert ids(science) == []


def test_no_checkpoint_installed_is_known_in_forges_and_a1111s_words() -> None:
    first = found("no-checkpoint--forgeneo-fresh-install.txt")[0]
    assert first.id == "no-checkpoint-installed" and "models/Stable-diffusion" in first.fix
    a1111 = (
        "FileNotFoundError: No checkpoints found. When searching for checkpoints, looked at:\n"
        " - file /app/model.ckpt\n"
        " - directory /app/models/Stable-diffusion\n"
    )
    assert ids(a1111)[0] == "no-checkpoint-installed"
    assert "no-checkpoint-installed" not in ids(
        "Checkpoint v1-5.safetensors not found; loading fallback sdxl.safetensors"
    )


def test_a_source_build_that_imports_pkg_resources_gets_no_build_isolation() -> None:
    first = found("pkg-resources-build--a1111-macos-clip.txt")[0]
    assert first.id == "source-build-needs-pkg-resources"
    assert "--no-build-isolation" in first.fix and "setuptools<81" in first.fix
    # the build's own output naming pkg_resources, for another package, from pip itself
    pip = (
        "  Getting requirements to build wheel: finished with status 'error'\n"
        '      File "/tmp/pip-build-env-x/overlay/lib/python3.11/site-packages/setuptools/build_meta.py", line 317\n'
        "      ModuleNotFoundError: No module named 'pkg_resources'\n"
        "  × Getting requirements to build wheel did not run successfully.\n"
    )
    assert ids(pip)[0] == "source-build-needs-pkg-resources"
    # a metadata failure of another cause keeps the generic build answer
    torch = (
        "  × Getting requirements to build wheel did not run successfully.\n"
        "      ModuleNotFoundError: No module named 'torch'\n"
    )
    assert "source-build-needs-pkg-resources" not in ids(torch)


def test_matrix_shape_mismatches_are_model_parts_of_different_families_with_the_widths() -> None:
    first = found("component-mismatch--framepack-mat1-mat2.txt")[0]
    assert first.id == "model-component-mismatch"
    assert "expects inputs 4096 wide and received 768 wide" in first.cause
    sdxl_on_sd15 = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)"
    top = explain_text(sdxl_on_sd15).explanations[0]
    assert top.id == "model-component-mismatch" and "768 wide and received 2048" in top.cause
    assert "model-component-mismatch" not in ids(
        "RuntimeError: The size of tensor a (4) must match the size of tensor b (8)"
    )


def test_a_gpu_fault_surfacing_at_a_memory_query_says_the_failing_op_ran_before() -> None:
    first = found("gpu-status-kernel-fault--forgeneo-rocm-windows-memmon.txt")[0]
    assert first.id == "gpu-status-kernel-fault" and first.facts["op"] == "mem_get_info (memory.py)"
    assert "only queries the GPU" in first.cause and "AMD_SERIALIZE_KERNEL=3" in first.fix
    # a fault inside a real op keeps that op as the failing one
    conv = (
        '  File "/venv/lib/python3.12/site-packages/torch/nn/modules/conv.py", line 548, in _conv_forward\n'
        "    return F.conv2d(\n"
        "torch.AcceleratorError: HIP error: unspecified launch failure\n"
    )
    top = explain_text(conv).explanations[0]
    assert top.id == "gpu-status-kernel-fault" and "only queries" not in top.cause
