"""A UI's own bracketed start-up lines ("[Fooocus] Loading models ...") are never a plugin before a SIGILL
(issue 10): the prefixes are data (rigfit/kb/ui_log_prefixes.yaml), each found in the UI's own source."""

from __future__ import annotations

import tarfile

import pytest

from rigfit.explain.analyzers.context import Context, ui_log_prefixes
from rigfit.explain.analyzers.sigill import COMPONENT, _component_before
from rigfit.explain.facts import Facts
from rigfit.explain.scan import LogLine
from rigfit.kb.diagnosis import UiLogPrefix
from rigfit.kb.loader import load_entries
from tests.conftest import FIXTURES, SHARED

# Fooocus 2.0.72's console as posted (https://github.com/lllyasviel/Fooocus/issues/447, description 2023-09-20)
FOOOCUS_447 = ["[Fooocus] Initializing ...", "[Fooocus] Loading models ...", "[Fooocus] Processing prompts ..."]


def _started_before(texts: list[str]) -> tuple[LogLine, str] | None:
    lines = [LogLine(number, text) for number, text in enumerate(texts, start=1)]
    return _component_before(Context(lines, Facts()), len(texts) + 1)


@pytest.mark.parametrize("last", [1, 2])
def test_fooocus_own_start_up_lines_are_not_a_plugin(last: int) -> None:
    assert _started_before(FOOOCUS_447[:last]) is None


def test_a_plugin_line_is_still_named() -> None:
    # the ComfyUI custom node of tests/fixtures/logs/sigill-plugin--comfyui-docker-h3-node.txt
    started = _started_before(["comfyui  | [H3 Prompt Writer] Loading model..."])
    assert started is not None and started[1] == "H3 Prompt Writer"


def test_fooocus_and_forge_prefixes_are_known() -> None:
    prefixes = ui_log_prefixes()
    assert prefixes["fooocus"] == prefixes["fooocus model management"] == "Fooocus"
    assert prefixes["memory management"] == "Stable Diffusion WebUI Forge"


def test_every_forge_prefix_is_printed_by_forge_itself() -> None:
    """The Forge snapshot in shared/uis prints each listed prefix (its extensions-builtin are part of Forge)."""
    forge = next(e for e in load_entries("ui_log_prefixes.yaml", UiLogPrefix) if e.id == "forge")
    printed: set[str] = set()
    with tarfile.open(SHARED / "uis" / "stable-diffusion-webui-forge.tar.gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".py") and "/extensions/" not in member.name:
                source = archive.extractfile(member)
                text = source.read().decode("utf-8", "replace") if source else ""
                printed |= {p for p in forge.prefixes if f"'[{p}]" in text or f'"[{p}]' in text}
    assert printed == set(forge.prefixes)


def test_sd_next_start_up_prints_no_bracketed_line_a_plugin_could_be_taken_from() -> None:
    """Why SD.Next needs no entry: its real start-up logs carry a time and level, never a "[Name] Loading" prefix."""
    logs = sorted((FIXTURES / "logs" / "unrelated").glob("sdnext-*.txt"))
    assert len(logs) >= 3
    for log in logs:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        assert not [line for line in lines if (m := COMPONENT.search(line)) and m.group("name")], log.name
