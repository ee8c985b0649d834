"""explain classes of round leftover16 (issue 10), on real logs (tests/fixtures/logs, INDEX.yaml):

- one fact, one answer: a known issue and a class answer that say nearly the same about the same lines no longer
  both answer; the one with the more precise, KB-derived fix does (a known issue may supersede a class id, a class
  answer that read the facts changing the fix supersedes the known issue in turn and wins);
- a line the log prints twice (the exception, then the UI's copy of it) counts as the same line when one answer
  supersedes another;
- the class ids the analyzers can emit are a registry (rigfit.explain.analyzers.class_ids)."""

from __future__ import annotations

import pytest

from rigfit.explain.analyzers import class_ids
from rigfit.explain.match import explain_stream
from tests.explain_helpers import LOGS, found
from tests.explain_helpers import ids as ids_of_text

KNOWN_ABI, CLASS_ABI = "torch-extension-abi-mismatch", "python-binary-abi-mismatch"
# (log, the answer that stays, the one that said the same and is dropped)
ONE_ANSWER = [
    ("cuda-oom--comfyui-8gib-three-lines.txt", "cuda-out-of-memory", "gpu-out-of-memory"),
    ("cuda-oom--invokeai-6gb.txt", "cuda-out-of-memory", "gpu-out-of-memory"),
    ("oom--easydiffusion-gtx1660.txt", "cuda-out-of-memory", "gpu-out-of-memory"),
    ("hip-out-of-memory--comfyui-rx6600-8gb.txt", "hip-out-of-memory", "gpu-out-of-memory"),
    ("hip-invalid-device-function--invokeai-rx7600xt-uv.txt", "hip-invalid-device-function", "rocm-gfx-missing"),
    ("hip-invalid-device-function--open-oasis-rx6600.txt", "hip-invalid-device-function", "rocm-gfx-missing"),
    # the message twice: docker compose's copy at the top, the UI's at line 12
    ("hip-invalid-device-function--comfyui-docker-prefix.txt", "hip-invalid-device-function", "rocm-gfx-missing"),
    ("undefined-symbol--flash-attn-cxx11abi-wheel.txt", "python-binary-abi-mismatch", "torch-extension-abi-mismatch"),
    ("abi-mismatch--stable-fast-sfast-c.txt", "python-binary-abi-mismatch", "torch-extension-abi-mismatch"),
    # ImportError's message, then ComfyUI's "Cannot import ... module for custom nodes: <the same message>"
    (
        "undefined-symbol--comfyui-flash-attn-setdevice.txt",
        "python-binary-abi-mismatch",
        "torch-extension-abi-mismatch",
    ),
    # a library outside site-packages names no package: the known issue's generic reinstall answers
    ("undefined-symbol--pcsa-self-cuda-backend-local-build.txt", KNOWN_ABI, CLASS_ABI),
    ("undefined-symbol--centernet-dcnv2-ext-local-build.txt", KNOWN_ABI, CLASS_ABI),
    ("nvidia-driver-too-old--forge-11070.txt", "cuda-driver-too-old", "nvidia-driver-too-old"),
    ("nvidia-driver-too-old--webui-docker-11060.txt", "cuda-driver-too-old", "nvidia-driver-too-old"),
    # a CUDA 10.1 driver: no current wheel line to pin, the known issue's "update the driver" answers
    ("nvidia-driver-too-old--neural-renderer-10010.txt", "nvidia-driver-too-old", "cuda-driver-too-old"),
    ("repo-gone--a1111-stability-not-found-v1101.txt", "a1111-stability-repo-removed", "ui-repository-gone"),
    ("repo-gone--colab-could-not-read-username.txt", "a1111-stability-repo-removed", "ui-repository-gone"),
    ("repo-gone--zluda-fork-browser-auth.txt", "a1111-stability-repo-removed", "ui-repository-gone"),
]  # fmt: skip


@pytest.mark.parametrize(("log", "stays", "dropped"), ONE_ANSWER, ids=[row[0] for row in ONE_ANSWER])
def test_one_fact_gets_one_answer(log: str, stays: str, dropped: str) -> None:
    answers = [e.id for e in found(log)]
    assert answers[0] == stays, answers
    assert dropped not in answers, answers


def test_the_survivor_keeps_the_dropped_answers_useful_sentences() -> None:
    oom = next(e for e in found("cuda-oom--comfyui-8gib-three-lines.txt") if e.id == "cuda-out-of-memory")
    assert "close other programs using the GPU" in oom.fix
    abi = found("undefined-symbol--flash-attn-cxx11abi-wheel.txt")[0]
    assert "flash-attn" in abi.fix and "putting torch back to the version it was built for" in abi.fix
    driver = found("nvidia-driver-too-old--fooocus-470.txt")[0]
    assert "torch==2.7.1 " in driver.fix and "whl/cu118" in driver.fix and "reboot" in driver.fix
    hip = found("hip-invalid-device-function--invokeai-5500xt.txt")[0]
    assert "11.0.0" in hip.fix  # the RDNA3 override the class answer named


def test_a_class_answer_that_read_the_gfx_supersedes_the_known_issue() -> None:
    """Both claim the other: the class answer read the card's gfx from the log (a rocminfo line) and names the
    override, so it answers and the known issue's generic steps are dropped."""
    text = "  Name:                    gfx1031\n" + (
        LOGS / "hip-invalid-device-function--open-oasis-rx6600.txt"
    ).read_text(encoding="utf-8")
    answers = ids_of_text(text)
    assert answers[0] == "rocm-gfx-missing" and "hip-invalid-device-function" not in answers, answers


def test_every_class_id_found_in_the_real_logs_is_registered() -> None:
    registered = class_ids()
    for log in sorted(LOGS.rglob("*.txt")):
        with log.open("rb") as stream:
            emitted = {e.id for e in explain_stream(stream).explanations if e.kind == "class"}
        assert emitted <= registered, (log.name, emitted - registered)


# --- C: a value of a tool's option this release does not list (clap's "invalid value 'X' for '--opt <OPT>'")


def test_uv_older_than_the_torch_backend_value_names_the_index() -> None:
    """heldx23's 02: uv's --torch-backend list stops at rocm6.3; rocm6.4 is a PyTorch index (torch_wheels.yaml)."""
    answer = found("tool-option-unknown--invokeai-uv-torch-backend-rocm64.txt")[0]
    assert answer.id == "tool-option-unknown"
    assert answer.facts["value"] == "rocm6.4" and answer.facts["tool"] == "uv"
    assert "uv self update" in answer.fix and "pip install -U uv" in answer.fix
    assert "--index-url https://download.pytorch.org/whl/rocm6.4" in answer.fix
    assert "rocm6.2.4" not in answer.fix  # clap's nearest value is another ROCm, not the fix


def test_a_value_with_a_typo_gets_the_tools_own_suggestion() -> None:
    answer = found("tool-option-unknown--uv-python-platform-typo.txt")[0]
    assert answer.id == "tool-option-unknown"
    assert answer.facts["similar"] == "aarch64-unknown-linux-gnu" and "index_url" not in answer.facts
    assert "Use 'aarch64-unknown-linux-gnu'" in answer.fix
