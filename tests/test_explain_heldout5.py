"""explain on the fifth held-out round of issue 10 (heldx5, package knowledge): the class rules and knowledge that
round led to, each held to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout,
round heldx5)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from rigfit.kb.torch_published import cuda_variants, last_release_on, newest_python, pythons_ended_at
from tests.explain_helpers import found, ids


def test_a_name_a_release_removed_or_added_names_that_release_and_the_pin() -> None:
    positionnet = found("name-removed--echomimic-diffusers-positionnet.txt")[0]
    assert "diffusers 0.26" in positionnet.cause and 'diffusers<0.26"' in positionnet.fix
    randn = found("name-removed--pasd-diffusers-randn-tensor.txt")[0]
    assert "0.21" in randn.cause and "diffusers.utils.torch_utils import randn_tensor" in randn.fix
    undefined = found("name-removed--iopaint-fastapi-pydantic2-undefined.txt")[0]
    assert "pydantic 2.0" in undefined.cause and 'pydantic<2"' in undefined.fix and "fastapi" in undefined.fix
    compiler = found("name-added--kohya-diffusers-torch-compiler.txt")[0]
    assert "torch 2.1" in compiler.cause and "upgrade torch to 2.1" in compiler.fix
    elsewhere = explain_text("ImportError: cannot import name 'PositionNet' from 'mymodel.layers'").explanations
    assert all("0.26" not in e.cause for e in elsewhere)


def test_a_name_missing_where_another_installed_package_looks_it_up_names_both_packages() -> None:
    first = found("dependency-release--openvoice-transformers-hf-hub-cache.txt")[0]
    assert first.id == "python-dependency-release-mismatch" and first.facts["needed_by"] == "transformers"
    assert "pip check" in first.fix and "huggingface_hub" in first.fix
    own_code = (
        'File "/home/u/app/run.py", line 3, in <module>\n'
        "    cache = constants.HF_HUB_CACHE\n"
        "AttributeError: module 'huggingface_hub.constants' has no attribute 'HF_HUB_CACHE'"
    )
    assert ids(own_code)[0] == "python-name-version-mismatch"


def test_windows_procedure_not_found_in_a_pyd_is_that_package_built_for_another_torch() -> None:
    first = found("windows-procedure--wan21-flash-attn.txt")[0]
    assert first.id == "windows-extension-procedure-not-found" and "flash-attn" in first.fix
    missing_dll = (
        "ImportError: DLL load failed while importing flash_attn_2_cuda: The specified module could not be found."
    )
    assert "windows-extension-procedure-not-found" not in ids(missing_dll)


def test_torchaudio_named_from_its_bare_library_file_and_paired_with_the_pinned_torch() -> None:
    first = found("undefined-symbol--wan2gp-torchaudio-torch26.txt")[0]
    assert first.facts["package"] == "torchaudio" and 'torchaudio==2.6.0" --index-url' in first.fix
    assert "whl/cu124" in first.fix and "install libtorchaudio.so" not in first.fix
    no_torch = explain_text("OSError: libtorchaudio.so: undefined symbol: _ZN3c1010TensorImpl").explanations[0]
    assert no_torch.facts["package"] == "torchaudio" and "needs" not in no_torch.facts


def test_the_newest_torch_offered_being_a_platforms_last_release_names_that_platform() -> None:
    first = found("pip-no-matching--textgen-macos-intel-torch241.txt")[0]
    assert first.facts["last_release"] == "2.2.2" and "Intel" in first.cause
    assert '"torchvision==0.17.2"' in first.fix
    py38 = explain_text(
        "ERROR: Could not find a version that satisfies the requirement torch==2.6.0 (from versions: 2.2.0, 2.3.0, "
        "2.4.0, 2.4.1)"
    ).explanations[0]
    assert py38.facts.get("python") == "3.8" and "Intel" not in py38.cause


def test_which_python_a_torch_release_reaches_depends_on_the_platform() -> None:
    windows = found("pip-no-matching--countr-windows-torch1131-cu116.txt")[0]
    assert windows.facts["python_above"] == "3.10" and "Windows wheels go up to Python 3.10" in windows.cause
    linux = explain_text(
        "/home/u/venv/bin/pip install torch==1.13.1\n"
        "ERROR: Could not find a version that satisfies the requirement torch==1.13.1 (from versions: 2.2.0, 2.3.0)"
    ).explanations[0]
    assert linux.facts["python_above"] == "3.11"
    assert newest_python("2.5.1", "windows") == "3.12" and newest_python("2.5.1", "linux-x86_64") == "3.13"


def test_no_version_at_all_for_a_named_python_says_the_range_the_torch_release_has() -> None:
    first = found("pip-no-matching--a1111-windows-py311-torch1121.txt")[0]
    assert first.facts["torch_python"] == ">=3.7,<3.11" and "Python 3.10" in first.fix
    fits = explain_text(
        "Python 3.10.6 (main)\n"
        "ERROR: Could not find a version that satisfies the requirement torch==1.12.1+cu113 (from versions: none)"
    ).explanations[0]
    assert "torch_python" not in fits.facts


def test_a_cuda_index_pytorch_never_published_points_at_the_one_below() -> None:
    text = (
        "Looking in indexes: https://download.pytorch.org/whl/cu131\n"
        "ERROR: Could not find a version that satisfies the requirement torch==2.10.0 (from versions: none)"
    )
    first = explain_text(text).explanations[0]
    assert first.facts["variant"] == "cu131" and "whl/cu130" in first.fix
    real = explain_text(text.replace("cu131", "cu128")).explanations[0]
    assert "publishes no" not in real.cause
    older_than_the_kb = explain_text(text.replace("cu131", "cu110")).explanations[0]
    assert "publishes no" not in older_than_the_kb.cause
    assert "cu131" not in cuda_variants() and {"cu118", "cu126", "cu128", "cu130"} <= cuda_variants()


def test_published_lines_know_where_platforms_and_pythons_ended() -> None:
    assert last_release_on("macos-x86_64") == "2.2.2" and last_release_on("windows") is None
    assert pythons_ended_at("2.4.1") == ["3.8"] and pythons_ended_at("2.4.0") == []


def test_a_version_list_cut_before_its_parenthesis_is_still_read() -> None:
    cut = (
        "ERROR: Could not find a version that satisfies the requirement torch==2.0.1+cu118 (from versions: 2.2.0, "
        "2.2.0+cu118, 2.2.1, 2.3.0, 2.3.1+cu118\n"
    )
    assert explain_text(cut).explanations[0].facts["python_above"] == "3.11"


def test_a_dist_packages_path_names_the_package_but_not_a_prefix_interpreter() -> None:
    text = (
        'File "/usr/local/lib/python3.10/dist-packages/transformers/utils/hub.py", line 96, in <module>\n'
        "AttributeError: module 'huggingface_hub.constants' has no attribute 'HF_HUB_CACHE'\n"
    )
    first = explain_text(text).explanations[0]
    assert first.facts["needed_by"] == "transformers" and "/usr/local/bin/python" not in first.fix


def test_windows_module_not_found_for_a_pyd_is_a_dll_it_links_in_any_language() -> None:
    first = found("windows-dll-missing--qwen3vl-flash-attn-zh.txt")[0]
    assert first.id == "windows-extension-dependency-missing" and "flash-attn" in first.fix
    procedure = "ImportError: DLL load failed while importing _C: The specified procedure could not be found.\n"
    assert "windows-extension-dependency-missing" not in ids(procedure)


def test_onnxruntime_error_126_is_its_cuda_provider_missing_the_cuda_and_cudnn_of_its_build() -> None:
    first = found("lib-missing--onnxruntime-gpu-119-windows-126.txt")[0]
    assert first.facts["package"] == "onnxruntime-gpu" and "error 126" in first.cause and "cuDNN 9" in first.fix


def test_a_method_a_release_removed_is_named_from_the_objects_class() -> None:
    first = found("name-removed--fontpreview-pillow10-getsize.txt")[0]
    assert "Pillow 10.0 removed it" in first.cause and 'Pillow<10"' in first.fix and "getbbox" in first.fix
    assert ids("AttributeError: 'NoneType' object has no attribute 'getsize'\n") == []
    assert ids("AttributeError: 'MyFont' object has no attribute 'getsize'\n") == []


def test_a_removed_name_imported_by_an_installed_package_names_that_package_as_the_other_fix() -> None:
    first = found("name-removed--iopaint-fastapi-pydantic2-undefined.txt")[0]
    assert first.facts["imported_by"] == "fastapi"  # D:\...\lib\site-packages (lower-case lib) is read
    own_code = (
        'File "/home/u/app/models.py", line 2, in <module>\n'
        "ImportError: cannot import name 'ModelField' from 'pydantic.fields' (/home/u/venv/lib/python3.11/"
        "site-packages/pydantic/fields.py)\n"
    )
    assert "imported_by" not in explain_text(own_code).explanations[0].facts
