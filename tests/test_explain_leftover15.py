"""explain classes of round leftover15 (issue 10), on real logs (tests/fixtures/logs, INDEX.yaml):

- a value Python printed through repr (a path quoted in an exception message or in ComfyUI's "Value not in list"
  list) is shown with one backslash per separator, as the user sees it in the UI and in Explorer."""

from __future__ import annotations

import pytest

from rigfit.explain.analyzers.base import as_user_sees
from tests.explain_helpers import found


def _answer(log: str, id_: str):
    return next(e for e in found(log) if e.id == id_)


def test_value_not_in_list_pick_shows_the_path_as_comfyui_lists_it() -> None:
    answer = _answer("comfyui-model-not-in-list--stablegen-subfolder.txt", "comfyui-model-listed-in-another-folder")
    assert "Pick 'SDXL1.0\\CinematicRedmond - Cinematic Model for SD XL" in answer.fix
    assert "\\\\" not in answer.fix and "\\\\" not in answer.cause


@pytest.mark.parametrize(
    ("log", "id_", "path"),
    [
        (
            "comfyui-node-folder-without-init--aki-birefnet-ll.txt",
            "comfyui-node-folder-without-init",
            "I:\\ComfyUI-aki-v1.4\\custom_nodes\\ComfyUI_BiRefNet_ll\\__init__.py",
        ),
        (
            "ui-entry-missing--comfyui-portable-main-py.txt",
            "ui-entry-script-missing",
            "K:\\ComfyUI_windows_portable\\ComfyUI\\main.py",
        ),
    ],
)
def test_a_repr_quoted_windows_path_is_shown_with_single_backslashes(log: str, id_: str, path: str) -> None:
    answer = _answer(log, id_)
    assert path in answer.cause and "\\\\" not in answer.cause


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("C:\\\\AI\\\\models", "C:\\AI\\models"),  # repr: every run doubled
        ("\\\\\\\\server\\\\share", "\\\\server\\share"),  # a UNC path through repr
        ("C:\\AI\\models", "C:\\AI\\models"),  # printed raw: unchanged
        ("\\\\server\\share", "\\\\server\\share"),  # a raw UNC path (one single backslash): unchanged
        ("/home/u/models/x.safetensors", "/home/u/models/x.safetensors"),
    ],
)
def test_as_user_sees_halves_only_a_repr(value: str, shown: str) -> None:
    assert as_user_sees(value) == shown


def test_winerror5_under_program_files_says_only_administrators_may_write_there() -> None:
    log = "winerror5-program-files--comfyui-desktop-custom-scripts-makedirs-web.txt"
    answer = _answer(log, "os-error")
    assert "lies under C:\\Program Files" in answer.cause
    assert "Do not run the UI as administrator" in answer.fix
    assert "C:\\Program Files\\ComfyUI\\resources\\ComfyUI\\web" in answer.fix


def test_winerror5_on_a_named_path_says_which_and_how_to_find_what_holds_it() -> None:
    answer = _answer("winerror5-named-folder--xtts-finetune-run.txt", "os-error")
    path = "C:\\xtts-finetune-webui\\finetune_models\\run"
    assert answer.facts["path"] == path
    assert f"Find what holds {path}" in answer.fix and f'attrib -r "{path}"' in answer.fix
    assert "Associated Handles" in answer.fix


def test_winerror5_without_a_path_names_none() -> None:
    answer = _answer("winerror5-no-path--comfyui-error-report-flashvsr.txt", "os-error")
    assert (
        "path" not in answer.facts and "Find what holds" not in answer.fix and " on " not in answer.cause.split(":")[0]
    )


@pytest.mark.parametrize(
    ("log", "first", "dropped"),
    [
        # the generic "not installed, put it in the models folder" after "the file is installed, pick the listed entry"
        (
            "comfyui-model-not-in-list--stablegen-subfolder.txt",
            "comfyui-model-listed-in-another-folder",
            "comfyui-model-not-in-list",
        ),
        # the generic "reinstall a cu126 wheel" after "no official wheel has kernels for compute capability 3.5"
        ("cuda-cc-too-old--a1111-gt710.txt", "cuda-arch-missing", "no-kernel-image"),
        # the generic SIGILL reading after the one that names the node pack whose native code died
        ("sigill-plugin--comfyui-docker-h3-node.txt", "sigill-plugin", "sigill-cpu-features"),
        # the generic launcher check after "the check ran during docker build"
        ("docker-build-no-gpu--webui-docker-torch-test.txt", "docker-build-no-gpu", "torch-not-able-to-use-gpu"),
    ],
)
def test_a_superseded_answer_about_the_same_lines_is_not_listed_again(log: str, first: str, dropped: str) -> None:
    answers = [e.id for e in found(log)]
    assert answers[0] == first and dropped not in answers


def test_a_superseded_answer_that_explains_other_lines_too_stays_ranked_lower() -> None:
    """hip-out-of-memory is superseded by the free-memory reading of a failed allocation only on its own lines."""
    answers = found("hip-alloc-failed-memory-free--comfyui-9070xt-windows.txt")
    ids_ = [e.id for e in answers]
    assert ids_[0] == "gpu-alloc-failed-memory-free" and "hip-out-of-memory" in ids_


@pytest.mark.parametrize(
    ("log", "first", "dropped"),
    [
        ("sigill-cpu-features--comfyui-fish-flux-loaded-partially.txt", "sigill-cpu-features", "sigill-native-library"),
        ("no-kernel-image--a1111-conv2d.txt", "no-kernel-image", "cuda-arch-missing"),
        ("pkg-resources-build--a1111-macos-clip.txt", "source-build-needs-pkg-resources", "pip-build-failed"),
    ],
)
def test_a_class_answer_that_read_nothing_of_its_own_does_not_repeat_the_known_one(
    log: str, first: str, dropped: str
) -> None:
    answers = [e.id for e in found(log)]
    assert answers[0] == first and dropped not in answers


@pytest.mark.parametrize(
    ("log", "wheel"),
    [
        ("cuda-arch--comfyui-portable-5070ti-sm120.txt", "cu130"),
        ("sm-not-compatible--gtx1070ti-sm61-cu111.txt", "cu126"),
    ],
)
def test_a_card_the_torch_build_lacks_gets_one_answer_from_the_wheel_lines(log: str, wheel: str) -> None:
    """One fact, one answer: torch's "sm_N is not compatible" warning is answered once, from torch_wheels.yaml (the
    lines doctor and plan pick from: torch 2.13 cu130 for an RTX 50, cu126 for Pascal), not also by a hand-written
    known issue that named cu128 and "driver 570" beside it."""
    answers = found(log)
    assert [e.id for e in answers] == ["cuda-arch-missing"]
    assert answers[0].facts["fix_wheel"] == f"torch 2.13.0+{wheel}"
    assert (
        f"torch==2.13.0 torchvision torchaudio --index-url https://download.pytorch.org/whl/{wheel}" in answers[0].fix
    )
