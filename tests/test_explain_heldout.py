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
