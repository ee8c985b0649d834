"""Classes of round leftover15 (issue 10), each read from real pastes given whole to `rigfit doctor --from FILE`
(tests/fixtures/doctor/pasted/, SOURCES.md round leftover15):

- pip's install lines say which torch an environment holds: "Requirement already satisfied: torch in <site-packages>
  (<version>)" (the site-packages is where it lives), and "Successfully installed ... torch-<version>" (the torch
  pip left, winning over the one it found and replaced);
- a GPU selection variable the paste's shell sets or shows (a launch command's prefix, export, env's line, echo's
  output) is the environment's device selection, so "hidden by selection variable" comes out of a paste as it does
  on the live machine."""

from __future__ import annotations

import pytest

from rigfit.cli import app
from rigfit.explain.match import explain_text
from rigfit.kb.pasted_tools import pasted_tools
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.wheel_build import conda_build
from rigfit.probe.paste_source import pasted_environment, recognised_tools
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import pasted_profile
from tests.explain_helpers import found

PASTED = FIXTURES / "doctor" / "pasted"
ENV_TOOLS = [tool for tool in pasted_tools() if tool.reads == "environment"]


@pytest.mark.parametrize(
    ("name", "version", "cuda", "hip", "location"),
    [
        (
            "pip-requirement-satisfied-torch-2.9.0a0-rocm7.0.0rc-therock-venv-comfyui-requirements.txt",
            "2.9.0a0+rocm7.0.0rc20250820",
            None,
            "7.0.0",  # a ROCm release candidate's build is that release's
            r"d:\scratch\therock\3.12.venv\lib\site-packages",
        ),
        (
            "pip-requirement-satisfied-torch-2.4.1cu124-comfyui-portable-easyanimate.txt",
            "2.4.1+cu124",  # "torch>=2.1.2 in ..." with the requirement's origin "(from -r ... (line 6))"
            "12.4",
            None,
            r"e:\comfynew\comfyui_windows_portable\python_embeded\lib\site-packages",
        ),
        (
            # pip found 2.1.2+cu121 and replaced it: the torch left is the one it installed, location not said
            "a1111-pip-replaces-torch-2.1.2cu121-with-2.0.1cu118-successfully-installed.txt",
            "2.0.1+cu118",
            "11.8",
            None,
            None,
        ),
    ],
)
def test_pip_install_lines_are_the_installed_torch(
    name: str, version: str, cuda: str | None, hip: str | None, location: str | None
) -> None:
    torch = pasted_profile(name).torch
    assert torch is not None
    assert (torch.version, torch.cuda, torch.hip, torch.location) == (version, cuda, hip, location)
    assert torch.import_status is None  # listed by pip, never imported


def test_pip_lines_about_other_packages_say_no_torch() -> None:
    """torchvision's line and a dependency "(from torch)" are no torch (lines of the real TheRock paste)."""
    lines = PASTED / "pip-requirement-satisfied-torch-2.9.0a0-rocm7.0.0rc-therock-venv-comfyui-requirements.txt"
    text = "\n".join(line for line in lines.read_text().splitlines() if "torch in" not in line)
    assert "pip-install-torch" not in {t.id for t in recognised_tools(text)}


def test_selection_variable_of_a_launch_prefix_hides_the_listed_gpu() -> None:
    name = "cuda-visible-devices-2-prefix-then-nvidia-smi-cut--titan-x-pascal.txt"
    profile = pasted_profile(name)
    assert profile.device_selection == {"CUDA_VISIBLE_DEVICES": "2"}
    assert [g.name for g in profile.gpus] == ["TITAN X (Pascal)"]
    hidden = [f for f in findings_for(profile) if f.id == "gpu.hidden-by-selection-variable"]
    assert len(hidden) == 1 and "CUDA_VISIBLE_DEVICES='2'" in hidden[0].message
    assert "unset CUDA_VISIBLE_DEVICES" in hidden[0].fix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # env | grep VISIBLE: set and empty hides every GPU; the later line wins, as in the shell
        ("$ env | grep VISIBLE\nCUDA_VISIBLE_DEVICES=\n", {"CUDA_VISIBLE_DEVICES": ""}),
        ("export HIP_VISIBLE_DEVICES=0\nexport HIP_VISIBLE_DEVICES=1\n", {"HIP_VISIBLE_DEVICES": "1"}),
        # echo's output is the next line; an empty one is unknown (echo prints it for an unset variable too)
        ("user@box:~$ echo $CUDA_VISIBLE_DEVICES\n1\nuser@box:~$ nvidia-smi\n", {"CUDA_VISIBLE_DEVICES": "1"}),
        ("$ echo $CUDA_VISIBLE_DEVICES\n\n$ nvidia-smi\n", {}),
        ("$ echo $CUDA_VISIBLE_DEVICES\nuser@box:~$ ls\n", {}),
        # a script's comment sets nothing
        ("# export CUDA_VISIBLE_DEVICES=0\n", {}),
    ],
)
def test_pasted_environment_reads_the_shell_s_selection(text: str, expected: dict[str, str]) -> None:
    assert pasted_environment(clean_lines(text, keep_prompts=True), ENV_TOOLS) == expected


def test_pip_no_matching_torch_is_one_answer_in_doctor_and_explain() -> None:
    """pip's "No matching distribution found for torch==X": doctor's finding and explain's answer read one KB entry
    (fixes.yaml torch.no_matching_build) with the same facts, never a second text written in code."""
    name = "pip-rocm5.6-index-no-matching-torch-2.4.1--no-device.txt"
    doctor = next(f for f in findings_for(pasted_profile(name)) if f.id == "torch.no_matching_build")
    explained = explain_text((PASTED / name).read_text()).explanations
    answer = next(e for e in explained if e.id == "pip-no-matching-distribution")
    assert answer.fix == doctor.fix
    assert "https://download.pytorch.org/whl/rocm5.6" in answer.fix and "2.2.2+rocm5.6" in answer.fix


def test_explain_s_kb_answer_names_a_python_the_release_has_no_wheel_for() -> None:
    answer = next(
        e for e in found("pip-no-matching--fooocus-py313-torch210.txt") if e.id == "pip-no-matching-distribution"
    )
    assert "not for the Python 3.13 that ran pip" in answer.fix and "torch 2.1.x has wheels for Python" in answer.fix


@pytest.mark.parametrize(
    "name",
    [
        "comfyui-tensorrt-old-pytorch-warning-timestamped-log-cut-at-total-vram--12288mb.txt",
        "heldd19-14-comfyui-framepack-autodl-old-pytorch-warning-cudagetdevicecount-traceback-cut.txt",
    ],
)
def test_comfyui_old_pytorch_warning_says_torch_is_older_than_it_names(name: str) -> None:
    """ComfyUI's "you are using an old pytorch version ... Upgrading to 2.4 or above is recommended" (comfy/utils.py:
    torch without add_safe_globals): a torch older than 2.4, beside whatever else the paste shows; the version itself
    stays unknown when no "pytorch version:" line says it."""
    profile = pasted_profile(name)
    old = [f for f in findings_for(profile) if f.id == "torch.older_than_ui_needs"]
    assert len(old) == 1 and old[0].severity == "warning"
    assert "(2.4)" in old[0].message and "pickle" in old[0].message
    assert "2.4 or newer" in old[0].fix and "--index-url https://download.pytorch.org/whl/" in old[0].fix
    assert profile.torch is None or profile.torch.version is None


def test_a_run_without_the_warning_has_no_old_torch_finding() -> None:
    """ComfyUI's start-up with torch 2.4 and up says "Checkpoint files will always be loaded safely." instead."""
    name = "../comfyui-system-information-and-log--rtx2060-12884443136.txt"
    assert "torch.older_than_ui_needs" not in {f.id for f in findings_for(pasted_profile(name))}


def test_conda_list_pytorch_row_is_the_installed_torch_with_its_build_string_s_cuda() -> None:
    """conda list's pytorch row: the build string says the build (conda-forge's "cuda112py310..." is CUDA 11.2);
    pytorch-lightning's row is another package."""
    torch = pasted_profile("conda-list-pytorch-2.0.0-conda-forge-cuda112-build-plus-lightning-row.txt").torch
    assert torch is not None
    assert (torch.version, torch.cuda, torch.hip, torch.import_status) == ("2.0.0", "11.2", None, None)


def test_a_collect_env_s_own_torch_wins_over_its_conda_row() -> None:
    torch = pasted_profile(
        "collect-env-conda-pytorch-1.3.0-py3.7-cuda10.1.243-row-pip3-torch-1.2.0--tesla-t4.txt"
    ).torch
    assert torch is not None and torch.version == "1.3.0" and (torch.cuda or "").startswith("10.1")


def test_a_torchvision_row_alone_is_no_torch() -> None:
    text = (PASTED / "conda-list-grep-torchvision-cuda118-build-only--freebsd-sd.txt").read_text()
    assert recognised_tools(text) == []


@pytest.mark.parametrize(
    ("build", "cuda", "cpu"),
    [
        ("py3.10_cuda11.8_cudnn8.7.0_0", "11.8", False),  # the pytorch channel
        ("py3.7_cuda90_cudnn7_1", "9.0", False),  # pytorch#27745's row
        ("py3.7_cuda10.1.243_cudnn7.6.3_0", "10.1", False),  # pytorch#28321's row
        ("py3.9_cpu_0", None, True),  # the CPU build pytorch#69202 got
        ("cuda112py310he33e0d6_200", "11.2", False),  # conda-forge
        ("pypi_0", None, False),  # a pip-installed row: the build is not in the string
    ],
)
def test_conda_build_strings(build: str, cuda: str | None, cpu: bool) -> None:
    assert conda_build(build) == (cuda, cpu)


def test_echo_of_the_selection_variable_is_read_from_its_next_line() -> None:
    """A1111#14617's paste: `echo $CUDA_VISIBLE_DEVICES` and its output "0,1" (both GPUs shown: no hidden finding)."""
    name = "heldd19-01-a1111-torch-not-able-to-use-gpu-plus-cuda-visible-devices-banner-cut.txt"
    profile = pasted_profile(name)
    assert profile.device_selection == {"CUDA_VISIBLE_DEVICES": "0,1"}
    assert "gpu.hidden-by-selection-variable" not in {f.id for f in findings_for(profile)}


def test_a_listed_torch_without_a_build_tag_has_an_unknown_build_not_cpu_only() -> None:
    """pip's "Requirement already satisfied: torch in ... (2.7.1)": PyPI's untagged build is CUDA on Linux and CPU
    elsewhere, so the build is unknown (the report never says "CPU-only")."""
    torch = pasted_profile("pip-install-rocm6.3-index-already-satisfied-torch-2.7.1-cachyos-cut.txt").torch
    assert torch is not None and torch.version == "2.7.1" and torch.build_unknown
    assert torch.location == "/home/ziomek/Dokumenty/comfyvenv/lib/python3.13/site-packages"
    text = _report("pip-install-rocm6.3-index-already-satisfied-torch-2.7.1-cachyos-cut.txt")
    assert "torch 2.7.1 (build not shown" in text and "CPU-only" not in text
    tagged = pasted_profile("pip-requirement-satisfied-torch-2.4.1cu124-comfyui-portable-easyanimate.txt").torch
    assert tagged is not None and not tagged.build_unknown


def _report(name: str) -> str:
    return CliRunner().invoke(app, ["doctor", "--from", str(PASTED / name)]).stdout
