"""The scanner's fast path (whole blocks, one regex pass, context words only near a signal) never drops a match: on
every real log it keeps exactly the lines, keywords, line numbers and repeat counts of a plain line-by-line scan that
runs the same keyword regexes on every line, and so gives the same findings; also when the logs arrive in many small
blocks. Any future prefilter or shortcut in rigfit/explain/scan.py must keep these tests green."""

from __future__ import annotations

import io
import re

import pytest

from rigfit.explain import scan
from rigfit.explain.match import explain_scan, explain_stream, scanner
from rigfit.explain.scan import ANSI, MAX_LINE, LogLine, LogScan, read_blocks
from tests.conftest import FIXTURES

LOGS = sorted(p for p in (FIXTURES / "logs").rglob("*.txt"))


def reference_scan(data: bytes) -> LogScan:
    """Every line, every exact regex, no prefilter and no block: the main keywords first, then (when a signal was
    found anywhere: the logs are smaller than the context window) the context keywords."""
    scanner_ = scanner()
    lines = ANSI.sub(b"", data).split(b"\n")
    result = LogScan(lines_total=data.count(b"\n"))
    found_signal = False
    main = (scanner_._regex, scanner_._suffix)
    context = (scanner_._context,) if scanner_._context is not None else ()
    for regexes, counted in ((main, True), (context, False)):
        if not regexes or (not counted and not found_signal):
            continue
        for number, line in enumerate(lines, 1):
            for segment in line.split(b"\r"):  # a progress bar's carriage return starts a line too
                words = segment_keywords(segment, regexes)
                text = segment[:MAX_LINE].decode("utf-8", errors="replace").strip()
                if not words or not text:
                    continue
                found_signal |= bool(words & scanner_._signals)
                known = result.lines.get(text)
                if known is None:
                    result.lines[text] = LogLine(number, text, words)
                else:
                    known.keywords |= words
                    known.repeats += counted
    return result


def segment_keywords(segment: bytes, regexes: tuple[re.Pattern[bytes], ...]) -> set[str]:
    lowered = b"\n" + segment.lower()
    words = set()
    for regex in regexes:
        for match in regex.finditer(lowered):
            if regex is scanner()._suffix and not lowered[match.start() - 1 : match.start()].isalpha():
                continue  # the suffix form ("RuntimeError:") counts only inside a token
            words.add(match.group(1).decode())
    return words


def kept(result: LogScan) -> dict[str, tuple[int, frozenset[str], int]]:
    return {text: (line.number, frozenset(line.keywords), line.repeats) for text, line in result.lines.items()}


def findings(result: LogScan) -> list[tuple]:
    return [
        (e.id, e.confidence, [line.number for line in e.evidence], e.facts, e.cause, e.fix)
        for e in explain_scan(result, None).explanations
    ]


def log_bytes(path) -> bytes:
    return b"".join(read_blocks(io.BytesIO(path.read_bytes())))


def test_the_real_logs_are_many_and_small() -> None:
    assert len(LOGS) >= 120
    assert all(path.stat().st_size < scan.CONTEXT_WINDOW for path in LOGS)  # reference_scan's assumption


@pytest.fixture(params=["distinct lines once", "every line"])
def first_pass(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways of the first pass, whatever a log's own repetition would choose."""
    monkeypatch.setattr(scan, "REPEATS_PAY_BELOW", 2.0 if request.param == "distinct lines once" else 0.0)


@pytest.mark.parametrize("path", LOGS, ids=[p.name for p in LOGS])
def test_fast_scan_equals_the_line_by_line_reference(path, first_pass: None) -> None:
    reference = reference_scan(log_bytes(path))
    with path.open("rb") as stream:
        fast = explain_stream(stream)
    assert list(kept(fast.scan).items()) == list(kept(reference).items())  # same lines, in the same order
    assert fast.scan.lines_total == reference.lines_total
    assert findings(fast.scan) == findings(reference)


def test_all_logs_in_small_blocks_equal_the_reference(monkeypatch: pytest.MonkeyPatch, first_pass: None) -> None:
    """Block boundaries fall inside lines and next to hits; context windows end mid-log."""
    data = b"".join(log_bytes(path) + b"\n" for path in LOGS)
    monkeypatch.setattr(scan, "BLOCK", 4096)
    fast = scanner().scan(read_blocks(io.BytesIO(data)))
    reference = reference_scan(data)
    assert fast.lines_total == reference.lines_total
    assert main_lines(fast) == main_lines(reference)  # every line with a signal or error word, exactly


def main_lines(result: LogScan) -> dict[str, tuple[int, frozenset[str], int]]:
    """The lines the main pass keeps and their main keywords (context keywords depend on where the windows fall)."""
    main = set(scanner().keywords)
    return {
        text: (number, words & main, repeats) for text, (number, words, repeats) in kept(result).items() if words & main
    }


def stamped(data: bytes) -> bytes:
    """Every line of `data` behind a distinct timestamp, as journald or a UI's logger writes them."""
    return b"".join(
        b"[2024-05-01 %02d:%02d:%02d.%04d] " % (n // 3600 % 24, n // 60 % 60, n % 60, n % 10000) + line
        for n, line in enumerate(data.splitlines(keepends=True))
    )


@pytest.mark.parametrize("block", [4096, scan.BLOCK])
def test_timestamped_lines_read_by_shape_keep_every_main_line(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """A big block of timestamped lines is read by shape (digits masked): every line with a signal or an error word
    is still kept exactly, with its keywords, line number and repeat count, also where a keyword holds digits
    ("exit code 132", "call returned 4104") and the line's own digits decide."""
    data = stamped(b"".join(log_bytes(path) + b"\n" for path in LOGS))
    assert re.search(rb"\] .*(exit code 132|exit status 132|call returned 4104)", data.lower())
    monkeypatch.setattr(scan, "_mode", lambda block: ("shapes", None))
    monkeypatch.setattr(scan, "BLOCK", block)
    fast = scanner().scan(read_blocks(io.BytesIO(data)))
    reference = reference_scan(data)
    assert fast.lines_total == reference.lines_total
    assert main_lines(fast) == main_lines(reference)


def test_a_big_timestamped_block_is_read_by_shape() -> None:
    noise = stamped(b"".join(p.read_bytes() for p in sorted((FIXTURES / "logs" / "unrelated").iterdir())) * 60)
    assert len(noise) > scan.SAMPLE
    mode, sample = scan._mode(noise)
    assert mode == "shapes"
    assert sample == noise[: noise.index(b"\n", scan.SAMPLE)].translate(scan.SHAPE).split(b"\n")  # the first slice's
    assert scan._mode(noise[: scan.SAMPLE // 2]) == ("each", None)  # a small block keeps every line of its context


def test_lines_of_a_shape_with_digits_in_a_keyword_are_read_by_their_own_digits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shape in which a keyword with digits may start ("exit code 132" and "exit code 133" are one shape) is read
    line by line where a match may start, once per distinct bytes there (round xspeed12): the 132 lines keep their
    keyword, the 133 and 1320 lines do not, whatever their timestamps, and a second such keyword further on the
    line ("32 bit", not "64 bit") is read by its own digits too."""
    padding = b", " + b"output follows " * 6
    units = [
        b"worker exited with exit code %d%s(%d bit)\n" % (code, padding, bits)
        for code in (132, 133, 1320, 137)
        for bits in (32, 64)
    ]
    data = stamped(b"".join(units) * 1500)
    monkeypatch.setattr(scan, "_mode", lambda block: ("shapes", None))
    fast = scanner().scan(read_blocks(io.BytesIO(data)))
    assert main_lines(fast) == main_lines(reference_scan(data))
    words = {text.split("] ", 1)[1]: line.keywords for text, line in fast.lines.items()}
    assert words[f"worker exited with exit code 132{padding.decode()}(32 bit)"] >= {"exit code 132", "32 bit"}
    assert not words.get(f"worker exited with exit code 133{padding.decode()}(64 bit)", set()) & {
        "exit code 132",
        "32 bit",
    }
    assert "code 137" in words[f"worker exited with exit code 137{padding.decode()}(64 bit)"]
