"""A tool vocabulary's table (kb/torch_errors.yaml, comfyui_errors.yaml, hf_errors.yaml) is compiled only for a log
one of whose kept lines holds one of its signals (round xspeed11: the three tables cost ~60-90 ms of every start-up).
That skips nothing because of ToolMessage's rule: one of an entry's signals is in every line its patterns match. These
tests hold the rule on every real log, on the lines an entry's patterns match, and show the gate."""

from __future__ import annotations

import io
import re

import pytest

from rigfit.explain.analyzers import messages
from rigfit.explain.match import explain_stream, scanner
from rigfit.explain.scan import read_blocks
from rigfit.kb.error_codes import ToolMessage
from rigfit.kb.loader import load_entries
from tests.conftest import FIXTURES

TABLES = ("torch_errors.yaml", "comfyui_errors.yaml", "hf_errors.yaml")
LOGS = sorted((FIXTURES / "logs").rglob("*.txt"))


@pytest.mark.parametrize("name", TABLES)
def test_every_line_a_pattern_matches_holds_a_signal(name: str) -> None:
    """On the kept lines of every real log, and on every line of every real log."""
    entries = load_entries(name, ToolMessage)
    texts: set[str] = set()
    for path in LOGS:
        data = path.read_bytes()
        texts.update(scanner().scan(read_blocks(io.BytesIO(data))).lines)
        texts.update(data.decode("utf-8", errors="replace").splitlines())
    for entry in entries:
        for pattern in entry.patterns:
            regex = re.compile(pattern, re.I if name == "hf_errors.yaml" else 0)  # as `messages.table` compiles it
            for text in filter(regex.search, texts):
                assert any(signal in text.lower() for signal in entry.signals), (entry.id, pattern, text)


def test_a_log_without_a_signal_compiles_no_table() -> None:
    messages.table.cache_clear()
    explain_stream(io.BytesIO(b"RuntimeError: CUDA error: out of memory\n"))
    assert messages.table.cache_info().currsize == 0
    explain_stream(io.BytesIO(b"RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'\n"))
    assert messages.table.cache_info().currsize == 1  # torch's
