"""A repeating block read as runs of lines (rigfit/explain/runs.py) keeps exactly what reading it line by line keeps:
the same lines in the same order, with their keywords (context keywords included), first line numbers and repeat
counts, and the same line count; and its main lines equal the plain line-by-line reference scan's."""

from __future__ import annotations

import io

import pytest

from rigfit.explain import runs, scan
from rigfit.explain.match import scanner
from rigfit.explain.scan import LogScan, read_blocks
from tests.test_explain_prefilter import LOGS, kept, log_bytes, main_lines, reference_scan


def repeating_log() -> bytes:
    """Real logs (every 12th, ~40 KB), joined and printed again and again as a UI console repeats its start-up and
    warnings, each copy with a line of its own every 300 lines (so that most runs repeat and some do not), one copy
    cut short."""
    unit = b"".join(log_bytes(path) + b"\n" for path in LOGS[::12]).split(b"\n")
    copies = []
    for copy in range(30):
        lines = [line + b" %d" % copy if n % 300 == 299 else line for n, line in enumerate(unit)]
        copies.append(b"\n".join(lines[: len(lines) - 500 * (copy == 7)]))
    return b"\n".join(copies)


def scanned(data: bytes) -> LogScan:
    return scanner().scan(read_blocks(io.BytesIO(data)))


@pytest.fixture
def runs_cut(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of blocks read by runs."""
    cut = runs.BlockRuns.cut.__func__  # type: ignore[attr-defined]
    count: list[int] = []

    def counted(cls: type[runs.BlockRuns], block: bytes, delimiter: bytes) -> runs.BlockRuns | None:
        found = cut(cls, block, delimiter)
        count.extend([1] if found is not None else [])
        return found

    monkeypatch.setattr(runs.BlockRuns, "cut", classmethod(counted))
    return count


@pytest.mark.parametrize("block", [256 * 1024, scan.BLOCK])
def test_runs_keep_what_lines_keep(monkeypatch: pytest.MonkeyPatch, runs_cut: list[int], block: int) -> None:
    data = repeating_log()
    monkeypatch.setattr(scan, "BLOCK", block)
    by_runs = scanned(data)
    assert runs_cut, "no block was read by runs"
    monkeypatch.setattr(runs, "REPEATS_PAY_BELOW", -1.0)  # every block read line by line
    by_lines = scanned(data)
    assert list(kept(by_runs).items()) == list(kept(by_lines).items())
    assert (by_runs.lines_total, by_runs.dropped) == (by_lines.lines_total, by_lines.dropped)
    assert main_lines(by_runs) == main_lines(reference_scan(data))


def test_the_delimiter_starts_about_one_line_in_sixteen() -> None:
    lines = [b"[info] a", b"[warn] b", b"  c", b"  d", b"  e", b"  f"] * 3 + [b"== run"] + [b"  x"] * 12
    assert runs.run_delimiter(lines) == b"\n=="  # 1 in 31 lines, nearer 1 in 16 than "[i"/"[w" (3 each: 1 in 10)
    assert runs.run_delimiter([b"same"] * 100) is None  # every line starts alike: no run would hold two lines


def test_a_block_whose_runs_do_not_repeat_is_read_by_lines() -> None:
    block = b"\n".join(b"== %d\nline" % n for n in range(100))
    assert runs.BlockRuns.cut(block, b"\n==") is None
    repeating = b"\n".join(b"== 1\nline" for _ in range(100))
    cut = runs.BlockRuns.cut(repeating, b"\n==")
    assert cut is not None
    assert cut.occurrences({b"line"}) == (list(range(1, 200, 2)), [b"line"] * 100, list(range(5, 1000, 10)))
    assert cut.first_lines({b"== 1", b"line"}) == {b"== 1": (0, 0), b"line": (5, 1)}


def test_runs_locate_the_signal_lines_where_lines_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first pass's signal hits (where the context windows are centred) are at the same offsets."""
    data = repeating_log()
    repeats, sample = scan._mode(data)
    assert repeats == "lines" and sample is not None
    hits = []
    for share in (runs.REPEATS_PAY_BELOW, -1.0):
        monkeypatch.setattr(runs, "REPEATS_PAY_BELOW", share)
        reader = scan.KeywordScanner(scanner().keywords, ())
        reader._delimiter = runs.run_delimiter(sample)
        hits.append(reader._collect_first(data, 0, LogScan(), repeats))
    assert len(hits[0]) > 100
    assert hits[0] == hits[1]


def test_a_block_whose_lines_start_in_capitals_is_read_by_runs(runs_cut: list[int]) -> None:
    """The delimiter is taken from the sample's lines as written: one taken from its lower-cased copy ("\\ntr" for
    "Traceback") was never found in the block, which was then always read line by line."""
    data = repeating_log().upper()
    by_runs = scanned(data)
    assert runs_cut, "no block was read by runs"
    assert main_lines(by_runs) == main_lines(reference_scan(data))
