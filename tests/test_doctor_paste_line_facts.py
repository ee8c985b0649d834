"""Line facts of a paste (the classes round heldd15 left, /work/heldout-d15/score-after.md): one line anywhere in a
real paste says the fact, and doctor reads it from the paste given whole (tests/fixtures/doctor/pasted/, SOURCES.md):
nvcc's release (the CUDA toolkit), the architecture and kernel (uname -m, SD.Next's Platform line, nix-info), pip
list's torch, and the UI's own Python (a paste's Python is the paste's, unknown when it shows none)."""

from __future__ import annotations

import json

import pytest

from rigfit.cli import app
from rigfit.probe.cuda_toolkit import parse_nvcc_release
from rigfit.probe.gather import probe_machine
from rigfit.probe.paste_source import line_facts, recognised_tools
from rigfit.probe.source import open_source
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import PASTED
from tests.doctor_paste_helpers import pasted_profile as _profile

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("kohya-gui-sh-nvcc-11.5-startup--rtx3090-24150.txt", "11.5"),
        ("ollama-install-sh-container-nvcc-12.9-cut-before-nvidia-smi.txt", "12.9"),
        # no nvcc in the paste: unknown
        ("kohya-kaggle-startup--2x-tesla-t4-15102.txt", None),
    ],
)
def test_nvcc_release_is_the_cuda_toolkit_not_the_driver(name: str, release: str | None) -> None:
    profile = _profile(name)
    assert profile.cuda_toolkit == release
    assert profile.nvidia_driver is None and profile.cuda_driver_version is None


def test_nvcc_version_output_parses_its_release_line() -> None:
    text = (PASTED / "ollama-install-sh-container-nvcc-12.9-cut-before-nvidia-smi.txt").read_text(encoding="utf-8")
    nvcc = text[text.index("nvcc: NVIDIA") :]
    assert parse_nvcc_release(nvcc) == "12.9"
    assert parse_nvcc_release("nvcc: command not found") is None


@pytest.mark.parametrize(
    ("name", "arch", "system", "kernel"),
    [
        # `uname -m && cat /etc/*release`: the bare x86_64 line
        ("uname-m-etc-release-popos-llamacpp-cut-at-ggml-init.txt", "x86_64", None, None),
        # SD.Next's "Platform: arch=x86_64 cpu=x86_64 system=Linux release=6.8.0-49-generic"
        ("sdnext-startup-linux-cut-at-packages--no-gpu-line.txt", "x86_64", "Linux", "6.8.0-49-generic"),
        # nix-info -m: system `"x86_64-linux"`, host os `Linux 6.8.7, NixOS, ...`
        ("nixos-journal-amd-linux-version-missing-plus-nix-info--rx580.txt", "x86_64", "Linux", "6.8.7"),
        # none of them: unknown
        ("kohya-kaggle-startup--2x-tesla-t4-15102.txt", None, None, None),
    ],
)
def test_architecture_and_kernel_lines_of_a_paste(
    name: str, arch: str | None, system: str | None, kernel: str | None
) -> None:
    profile = _profile(name)
    assert (profile.cpu.arch, profile.os.system, profile.os.kernel) == (arch, system, kernel)


def test_a_uname_a_line_in_a_paste_gives_kernel_and_machine() -> None:
    # a real paste with `uname -a` among rocminfo and rocm-smi (SOURCES.md)
    profile = probe_machine(
        open_source(str(FIXTURES / "doctor" / "rocminfo-out-of-resources-then-rocm-smi-cut--kernel-6.11.txt")),
        torch_check=False,
    )
    assert (profile.cpu.arch, profile.os.system, profile.os.kernel) == ("x86_64", "Linux", "6.11.0-21-generic")
    # rigfit's own capture slot of this machine (commands/uname.out), pasted as is
    text = (FIXTURES / "machines" / "this-machine-cpu-only" / "commands" / "uname.out").read_text(encoding="utf-8")
    assert line_facts(text, recognised_tools(text)) == {"uname": "Linux 6.18.44-fc-v657", "uname-m": "x86_64"}


@pytest.mark.parametrize(
    ("name", "python"),
    [
        ("kohya-gui-sh-nvcc-11.5-startup--rtx3090-24150.txt", "3.10.16"),
        ("kohya-kaggle-startup--2x-tesla-t4-15102.txt", "3.10.13"),
        ("sdnext-startup-linux-cut-at-packages--no-gpu-line.txt", "3.10.6"),
        # no Python line: unknown, never rigfit's own interpreter
        ("uname-m-etc-release-popos-llamacpp-cut-at-ggml-init.txt", None),
    ],
)
def test_a_paste_s_python_is_the_one_it_printed(name: str, python: str | None) -> None:
    profile = _profile(name)
    assert profile.python.version == python
    assert profile.python.executable is None and profile.python.in_venv is None
    assert any("Python facts unknown" in w for w in profile.warnings) is (python is None)


def test_pip_list_torch_line_is_the_installed_torch_not_imported() -> None:
    profile = _profile("pip-list-torch-2.4.0-rocm6.1-plus-rocminfo-cut-in-cpu-agent--xeon-e5-2620v4.txt")
    torch = profile.torch
    assert torch is not None
    assert (torch.version, torch.hip, torch.cuda, torch.import_status) == ("2.4.0+rocm6.1", "6.1", None, None)


def test_a_ui_s_torch_report_wins_over_a_listing() -> None:
    # kohya's "Torch 2.1.2+cu118" with its devices stays the torch (a listing never overrides what imported)
    profile = _profile("kohya-gui-sh-nvcc-11.5-startup--rtx3090-24150.txt")
    assert profile.torch is not None and profile.torch.import_status == "ok"


def test_doctor_json_and_text_show_the_paste_s_facts() -> None:
    path = str(PASTED / "kohya-gui-sh-nvcc-11.5-startup--rtx3090-24150.txt")
    out = runner.invoke(app, ["doctor", "--from", path, "--json"])
    data = json.loads(out.stdout)
    assert data["profile"]["cuda_toolkit"] == "11.5"
    assert data["profile"]["python"]["version"] == "3.10.16"
    text = runner.invoke(app, ["doctor", "--from", path]).stdout
    assert "CUDA toolkit (nvcc) 11.5" in text and "Python 3.10.16" in text
