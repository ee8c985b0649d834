"""explain on the fourth held-out round of issue 10 (heldx4): the class rules and knowledge that round led to, each
held to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx4)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_librarys_import_time_version_check_names_the_range_to_install() -> None:
    first = found("dependency-check--pulid-hub-0234.txt")[0]
    assert first.id == "dependency-version-check-failed"
    assert 'pip install "huggingface-hub>=0.24.0,<1.0"' in first.fix and "huggingface-hub==0.23.4 is" in first.cause
    other = (
        "ImportError: tokenizers>=0.19,<0.20 is required for a normal functioning of this module, "
        "but found tokenizers==0.15.2."
    )
    assert 'pip install "tokenizers>=0.19,<0.20"' in explain_text(other).explanations[0].fix
    assert "dependency-version-check-failed" not in ids("ImportError: huggingface-hub is required")


def test_windows_entry_point_missing_in_a_packages_pyd_is_that_package_built_for_another_torch() -> None:
    first = found("windows-entry-point--comfyui-xformers-pyd.txt")[0]
    assert first.id == "windows-extension-entry-point" and "xformers" in first.fix and "uninstall" in first.fix
    own = (
        "The procedure entry point ?x@at@@QEBA_JH@Z could not be located in the dynamic link library "
        "C:\\venv\\Lib\\site-packages\\torch\\lib\\torch_cpu.dll (C:\\venv\\Lib\\site-packages\\torch\\_C.pyd)."
    )
    assert "windows-extension-entry-point" not in ids(own)  # torch's own module: another story
    assert "windows-extension-entry-point" not in ids("Loaded C:\\venv\\Lib\\site-packages\\xformers\\_C.pyd")


def test_flash_attn_asking_for_a_cuda_runtime_names_flash_attn_not_torch() -> None:
    first = found("lib-missing--autotrain-flash-attn-cudart12.txt")[0]
    assert (
        first.id == "flash-attn-cuda-major" and "flash-attn" in first.fix and "--force-reinstall torch" not in first.fix
    )
    plain = "ImportError: libcudart.so.12: cannot open shared object file: No such file or directory"
    assert "flash-attn-cuda-major" not in ids(plain)


def test_a_name_huggingface_hub_added_says_which_release_added_it() -> None:
    first = found("name-version--marigold-ddufentry.txt")[0]
    assert first.id == "python-name-version-mismatch" and "0.27" in first.cause and "huggingface_hub>=0.27" in first.fix


def test_a_model_whose_weights_exceed_the_card_gets_offloading_or_a_smaller_variant() -> None:
    first = found("oom--flux-webui-hip-16gb.txt")[0]
    assert first.id == "gpu-out-of-memory" and first.facts["weights_gb"] == "23.8"
    assert "enable_model_cpu_offload" in first.fix and "GGUF" in first.fix
    small = explain_text(
        "Loading weights [6ce0161689] from /sd/models/v1-5-pruned-emaonly.safetensors\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 80.00 MiB. GPU 0 has a total capacity of "
        "15.98 GiB of which 84.00 MiB is free."
    ).explanations[0]
    assert "weights_gb" not in small.facts and "enable_model_cpu_offload" not in small.fix
