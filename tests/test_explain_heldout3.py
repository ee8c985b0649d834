"""explain on the third held-out round of issue 10 (heldx3): the class rules that round led to, each held to a real
log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx3)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found


def top(text: str):
    return explain_text(text).explanations[0]


def test_pytorch_index_alone_is_blamed_for_a_package_it_does_not_host() -> None:
    first = found("pip-no-matching--comfyui-index-url-pytorch-only.txt")[0]
    assert first.id == "pip-no-matching-distribution" and "--extra-index-url" in first.fix
    assert "Python 3.13" not in first.cause and first.facts["index"].startswith("https://download.pytorch.org/whl/")
    miss = "ERROR: Could not find a version that satisfies the requirement {} (from versions: none)"
    only = "Looking in indexes: https://download.pytorch.org/whl/cu124\n"
    assert "index" not in top(only + miss.format("torch==9.9")).facts  # torch itself: not the index's fault
    both = "Looking in indexes: https://pypi.org/simple, https://download.pytorch.org/whl/cu124\n"
    assert "index" not in top(both + miss.format("left-pad==1.0")).facts  # PyPI was searched too


def test_removed_submodule_names_the_release_that_removed_it_and_the_real_fix() -> None:
    first = found("module-removed--hunyuanwrapper-triton-ops.txt")[0]
    assert first.facts["removed_in"] == "3.2" and "bitsandbytes" in first.fix and "0.45.1" in first.fix
    assert "harmless" not in first.fix
    assert "removed_in" not in top("ModuleNotFoundError: No module named 'triton'").facts


def test_a_python_without_pip_is_told_to_bootstrap_it_not_to_pip_install_pip() -> None:
    first = found("module-not-found--comfy-cli-venv-without-pip.txt")[0]
    assert "ensurepip" in first.fix and "pip install pip" not in first.fix
    assert first.title == "pip is missing from this Python installation"


def test_msvc_missing_header_is_read_like_gccs() -> None:
    first = found("pip-build-failed--reactor-insightface-python-h-msvc.txt")[0]
    assert first.facts["missing"] == "Python.h" and "include" in first.fix
    gcc = "fatal error: Python.h: No such file or directory\nERROR: Failed building wheel for insightface"
    assert "python3-dev" in top(gcc).fix and "include folder" not in top(gcc).cause


def test_a_cuda_library_asked_for_by_another_package_binary_names_that_package() -> None:
    first = found("lib-missing--onnxruntime-gpu-cublaslt11.txt")[0]
    assert first.facts["caller"] == "onnxruntime-gpu" and "onnxruntime-gpu" in first.fix
    assert "--force-reinstall torch" not in first.fix
    plain = top("OSError: libcublasLt.so.11: cannot open shared object file: No such file or directory")
    assert "caller" not in plain.facts and "torch" in plain.fix


def test_mps_out_of_memory_gets_unified_memory_advice_not_cuda_flags() -> None:
    first = found("oom--comfyui-mac-m4-mps-sd35.txt")[0]
    assert first.facts["mps_max_allowed"] == "18.13 GB" and "PYTORCH_MPS_HIGH_WATERMARK_RATIO" in first.fix
    assert "--lowvram" not in first.fix and "--medvram" not in first.fix
    cuda = top("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB")
    assert "PYTORCH_MPS" not in cuda.fix


def test_docker_without_amd_devices_and_bitsandbytes_without_rocm_library() -> None:
    kfd = found("docker-amd-device-missing--a1111-rocm-kfd.txt")[0]
    assert kfd.id == "docker-amd-device-missing" and "ls -l /dev/kfd" in kfd.fix
    bnb = found("bitsandbytes--invokeai-docker-rocm-nonetype.txt")[0]
    assert bnb.id == "bitsandbytes-no-gpu-build" and "Harmless" in bnb.fix and "torch.version.cuda" in bnb.cause


def test_a_package_whose_newer_releases_are_not_on_pypi_says_where_they_are() -> None:
    first = found("name-version--kjnodes-sageattention-1x.txt")[0]
    assert "not on PyPI" in first.fix and "https://github.com/thu-ml/SageAttention" in first.source
    other = top("ImportError: cannot import name 'foo' from 'requests' (/x/site-packages/requests/__init__.py)")
    assert "not on PyPI" not in other.fix


def test_pips_post_install_check_reads_comma_specifiers_and_missing_dependencies() -> None:
    numba = found("pip-installed-incompatible--insightface-numba-numpy213.txt")[0]
    assert numba.facts["requirement"] == "numpy<2.1,>=1.22" and numba.facts["installed"] == "numpy 2.1.3"
    missing = found("pip-installed-incompatible--krita-pyparsing-not-installed.txt")[0]
    assert 'install "pyparsing>=2.3.1"' in missing.fix and "installed" not in missing.facts
    assert top("torch 2.1.0 requires triton==2.1.0, which is not installed.").facts["package"] == "triton"


def test_a_bitsandbytes_cuda_version_override_is_named() -> None:
    first = found("bitsandbytes--bnb-cuda-version-override.txt")[0]
    assert first.id == "bitsandbytes-no-gpu-build" and "unset BNB_CUDA_VERSION" in first.fix
    plain = found("bitsandbytes--comfyui-portable-cuda126-old.txt")[0]
    assert "BNB_CUDA_VERSION" not in plain.fix
