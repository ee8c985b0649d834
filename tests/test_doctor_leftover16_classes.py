"""Classes of round leftover16 (issue 10), read by `rigfit doctor --from FILE` from real pastes given whole
(tests/fixtures/doctor/pasted/, SOURCES.md round leftover16; the held-out round heldx23 found them missing):

- a UI's printed memory state forced far below what the card's VRAM needs (ComfyUI's "Set vram state to: NO_VRAM"
  with --novram on an 80 GB A100): the flag to drop, and what --cuda-device does (rigfit/kb/ui_memory_states.yaml);
  a state the card needs (LOW_VRAM on a 4 GB or an 11 GB fp32 card) is no finding;
- bitsandbytes without a GPU library for torch's runtime: 8-bit/4-bit models unavailable, not fatal, with the fix
  explain gives for the same line;
- an app whose setup updates itself and its submodule by git (kohya_ss) started from a folder that is not a git
  checkout (a ZIP download): clone it with git --recursive (rigfit/kb/app_parts.yaml)."""

from __future__ import annotations

import pytest

from rigfit.explain.match import explain_text
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.ui_console import ui_console_faults
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import PASTED, pasted_profile

A100 = "heldx23-09-comfyui-a100-80gb-novram-cuda-device-1-banner.txt"
INVOKEAI_BNB = "heldx23-11-invokeai-5.6.0-startup-rx7600xt-bitsandbytes-rocm63-binary-missing.txt"
KOHYA_ZIP = "heldx23-13-kohya-gui-v24.1.4-zip-not-a-git-repository-rtx4070ti.txt"


def _finding(name: str, id_: str):
    return next((f for f in findings_for(pasted_profile(name)) if f.id == id_), None)


def test_novram_on_an_80_gb_card_is_a_finding_with_the_flag_to_drop() -> None:
    finding = _finding(A100, "ui.memory_mode_forced")
    assert finding is not None and finding.severity == "warning"
    assert "'Set vram state to: NO_VRAM'" in finding.message and "79.3 GiB" in finding.message
    assert "Remove --novram" in finding.fix and "high mode" in finding.fix
    # --cuda-device 1 is said for what it is, not given as the problem
    assert "--cuda-device 1 is another matter" in finding.fix and "CUDA_VISIBLE_DEVICES=1" in finding.fix


@pytest.mark.parametrize(
    "text",
    [
        # Fooocus picked LOW_VRAM itself on a 4 GB card (lllyasviel/Fooocus#263)
        "Total VRAM 4096 MB, total RAM 16005 MB\nTrying to enable lowvram mode because your GPU seems to have 4GB or "
        "less. If you don't want this use: --normalvram\nxformers version: 0.0.20\nSet vram state to: LOW_VRAM\n"
        "Device: cuda:0 NVIDIA GeForce RTX 3050 Laptop GPU : cudaMallocAsync",
        # --lowvram on an 11 GB Tesla K80 (lllyasviel/Fooocus#1984): medium against normal, not far below
        (FIXTURES / "doctor" / "fooocus-linux-lowvram--tesla-k80-11441mb.txt").read_text(encoding="utf-8"),
    ],
    ids=["fooocus-4gb-auto-lowvram", "fooocus-k80-lowvram"],
)
def test_a_memory_state_the_card_needs_is_no_finding(text: str) -> None:
    assert not [f for f in ui_console_faults(text) if f.kind == "ui_memory_state_forced"]


@pytest.mark.parametrize(
    ("name", "library"),
    [
        (INVOKEAI_BNB, "libbitsandbytes_rocm63.so"),
        ("bitsandbytes-rocm63-binary-missing-almalinux-source-checkout.txt", "libbitsandbytes_rocm63.so"),
        ("bitsandbytes-hip-nohipblaslt-binary-missing-rocm-fork.txt", "libbitsandbytes_hip_nohipblaslt.so"),
    ],
)
def test_bitsandbytes_without_a_gpu_library_is_a_note_with_explains_fix(name: str, library: str) -> None:
    finding = _finding(name, "bitsandbytes.no_gpu_library")
    assert finding is not None and finding.severity == "info"  # not fatal: the UI runs without 8-bit/4-bit models
    assert library in finding.message and "8-bit/4-bit" in finding.message
    answer = explain_text((PASTED / name).read_text(encoding="utf-8")).explanations[0]
    assert answer.id == "bitsandbytes-no-gpu-build" and library in answer.cause
    assert "pip uninstall -y bitsandbytes" in finding.fix and "ROCm" in finding.fix


def test_kohya_from_a_zip_is_told_to_clone_with_its_submodule() -> None:
    finding = _finding(KOHYA_ZIP, "app.not_a_git_checkout")
    assert finding is not None
    assert "fatal: not a git repository" in finding.message and "sd-scripts" in finding.message
    assert "git clone --recursive https://github.com/bmaltais/kohya_ss" in finding.fix


def test_not_a_git_repository_without_a_known_apps_banner_is_no_finding() -> None:
    # rwv/chinese-dos-games-web#15: git's line alone names no app whose layout rigfit knows
    text = (
        "git submodule update --init --recursive --remote && python3 ./static/games/download_data.py\n"
        "fatal: not a git repository (or any of the parent directories): .git"
    )
    assert not ui_console_faults(text)
