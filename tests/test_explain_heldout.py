"""explain on the held-out logs of issue 10 (xcases): the answers must fit the machine the log shows, name the
matching release from the KB, and never blame what the log does not show (rows in logs/INDEX.yaml marked heldout)."""

from __future__ import annotations

from rigfit.explain.match import explain_stream
from rigfit.kb.xformers import xformers_for_torch
from tests.conftest import FIXTURES

LOGS = FIXTURES / "logs"


def top(name: str):
    with (LOGS / name).open("rb") as stream:
        return explain_stream(stream).explanations[0]


def test_cuda_call_on_a_mac_is_not_fixed_by_reinstalling_torch() -> None:
    mac = top("torch-not-compiled--comfyui-mac-custom-node-cuda.txt")
    assert "Do not reinstall torch" in mac.fix and "pip uninstall" not in mac.fix
    windows = top("torch-not-compiled--seait-comfyui-windows-venv.txt")
    assert "pip uninstall -y torch" in windows.fix


def test_xformers_release_for_the_torch_in_the_log() -> None:
    assert xformers_for_torch("2.4.1+cu121").id == "0.0.28.post1"
    assert xformers_for_torch("2.5.1").id == "0.0.29.post1"
    assert xformers_for_torch("9.9.9") is None and xformers_for_torch(None) is None
    built_for = top("xformers-torch-mismatch--pip-install-torch210.txt")
    assert 'xformers==0.0.22.post4"' in built_for.fix and "2.1.0+cu121" in built_for.fix
    requires = top("xformers-requires-torch--comfyui-mvadapter-journal.txt")
    assert 'xformers==0.0.28.post1"' in requires.fix and "--no-deps" in requires.fix


def test_no_matching_cuda_build_on_a_mac_blames_the_platform_not_python() -> None:
    found = top("pip-no-matching--onetrainer-mac-cu118.txt")
    assert "macOS" in found.cause and "Python >=" not in found.cause
    assert '"torch==2.1.2"' in found.fix and "--index-url" not in found.fix


def test_conflict_with_the_users_own_requirement_reads_as_a_sentence() -> None:
    found = top("pip-conflict--comfyui-layerstyle-fairscale.txt")
    assert "change your requirement" in found.fix and "release of your" not in found.fix


# Round heldx (30 logs, scored once before any change): the class rules its misses led to.


def test_every_candidate_needing_the_same_missing_dependency_is_not_a_conflict() -> None:
    found = top("pip-dependency-unavailable--a1111-basicsr-tb-nightly.txt")
    assert found.id == "pip-dependency-unavailable" and found.facts["package"] == "tb-nightly"
    assert "Nothing conflicts" in found.cause and "--index-url https://pypi.org/simple" in found.fix


def test_uv_first_index_hint_names_the_index_strategy() -> None:
    found = top("uv-first-index--framepack-pillow-cu126.txt")
    assert found.facts["index"] == "https://download.pytorch.org/whl/cu126" and found.facts["package"] == "pillow"
    assert "--index-strategy unsafe-best-match" in found.fix and "explicit = true" in found.fix


def test_an_index_url_pytorch_does_not_publish_is_named() -> None:
    found = top("pip-no-matching--layerstyle-index-cu12-6.txt")
    assert found.facts["index"].endswith("/whl/cu12.6") and "not a PyTorch index" in found.cause
    assert "https://download.pytorch.org/whl/cu126" in found.fix
    assert "index" not in top("pip-no-matching--a1111-py311-torch1131.txt").facts  # a real index is not blamed


def test_a_name_python_removed_is_never_fixed_with_pip_install_of_the_stdlib_module() -> None:
    found = top("python-name--maskgct-pkgutil-impimporter.txt")
    assert found.facts["package"] == "python" and "Python 3.12" in found.cause
    assert "setuptools" in found.fix and 'install "pkgutil' not in found.fix


def test_training_oom_gets_training_options_not_ui_flags() -> None:
    found = top("training-oom--sd-scripts-sdxl-12gb.txt")
    assert found.id == "training-out-of-memory" and found.confidence >= 0.9
    assert "--gradient_checkpointing" in found.fix and "--medvram" not in found.fix and "--lowvram" not in found.fix


def test_ram_exhaustion_in_a_windows_log_gets_the_page_file() -> None:
    found = top("cpu-out-of-memory--easydiffusion-windows.txt")
    assert "page file" in found.fix and "swapon" not in found.fix


def test_cudnn8_wanted_beside_a_cudnn9_torch_names_the_caller() -> None:
    found = top("cudnn8-missing--reactor-windows-dll.txt")
    assert found.facts["wanted_major"] == "8" and "onnxruntime-gpu>=1.19" in found.fix


def test_git_http_error_from_a_mirror_points_at_the_rewrite() -> None:
    found = top("git-http-error--forge-mirror-403.txt")
    assert found.facts["host"] == "githubfast.com" and "insteadOf" in found.fix
    gone = top("repo-gone--forge-stability-auth-german.txt")
    assert gone.facts["repository"].endswith("Stability-AI/stablediffusion") and "STABLE_DIFFUSION_REPO" in gone.fix


def test_uv_pep668_and_container_nvml_answers() -> None:
    uv = top("pep668-uv--managed-python-system.txt")
    assert "--system" in uv.fix and "uv venv" in uv.fix and "sudo apt install python3-venv" not in uv.fix
    nvml = top("container-nvml--compose-nvidia-container-cli.txt")
    assert nvml.id == "container-gpu-access" and "nvidia-smi" in nvml.fix and "snap" in nvml.cause
