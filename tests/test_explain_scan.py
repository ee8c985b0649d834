"""The log reader tolerates what people paste and what programs write: colours, progress bars, UTF-16, broken
bytes, fences and prompts, cut lines, block boundaries; and finds the error line wherever it sits."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.explain import scan
from rigfit.explain.match import explain_stream, explain_text, scanner
from rigfit.explain.scan import (
    BLOCK,
    CONTEXT_WINDOW,
    KeywordScanner,
    _merged,
    _signal_windows,
    _whole_lines,
    read_blocks,
)
from tests.conftest import fixture_text

OOM = fixture_text("logs/cuda-out-of-memory--a1111-2gb.txt")
OOM_LINE = next(line for line in OOM.splitlines() if "CUDA out of memory" in line)
HIP = fixture_text("logs/hip-no-binary-for-gpu--w6600-docker.txt")


def ids(text: str) -> list[str]:
    return [e.id for e in explain_text(text).explanations]


def ids_of_bytes(data: bytes) -> list[str]:
    return [e.id for e in explain_stream(io.BytesIO(data)).explanations]


def test_ansi_colours_are_ignored() -> None:
    coloured = OOM.replace("torch.cuda.OutOfMemoryError:", "\x1b[1;31mtorch.cuda.OutOfMemoryError:\x1b[0m")
    coloured = coloured.replace("CUDA out of memory", "\x1b[31mCUDA out of memory\x1b[0m")
    assert ids(coloured)[0] == "gpu-out-of-memory"


def test_progress_bars_on_carriage_returns() -> None:
    bars = "".join(f"\r{p:3d}%|{'█' * (p // 10):10s}| {p}/100 [00:0{p % 9}<00:00, 8.01it/s]" for p in range(101))
    log = "Loading weights\n" + bars + "\r" + OOM_LINE + "\nDone\n"
    result = explain_text(log)
    assert result.explanations[0].id == "gpu-out-of-memory"  # a 2 GB card: the floor reading supersedes the issue
    assert result.explanations[0].evidence[0].number == 2  # the bars and the error share line 2 (\r, not \n)
    assert result.explanations[0].evidence[0].text == OOM_LINE.strip()


def test_utf16_logs_from_windows_redirections() -> None:
    assert ids_of_bytes(HIP.encode("utf-16"))[0] == "hip-no-binary-for-gpu"  # with BOM
    assert ids_of_bytes(HIP.encode("utf-16-le"))[0] == "hip-no-binary-for-gpu"  # without


def test_latin1_and_broken_utf8_bytes() -> None:
    data = "Génération échouée\n".encode("latin-1") + b"\xff\xfe\x80 garbage\n" + OOM.encode()
    assert ids_of_bytes(data)[0] == "gpu-out-of-memory"


def test_pasted_forms_fences_prompts_ellipsis_and_first_character_cut() -> None:
    pasted = "```shell\n$ python launch.py\n...\n" + OOM_LINE[1:] + "\n```\n"
    assert ids(pasted)[0] == "gpu-out-of-memory"  # 2 GB card: the floor reading
    quoted = "\n".join("> " + line for line in HIP.splitlines())  # a forum quote
    assert ids(quoted)[0] == "hip-no-binary-for-gpu"


def test_windows_line_endings_and_no_final_newline() -> None:
    assert ids(OOM.replace("\n", "\r\n").rstrip())[0] == "gpu-out-of-memory"


def test_a_line_cut_by_a_block_boundary_is_found_whole() -> None:
    data = ("INFO noise\n" * 1000 + OOM_LINE + "\n").encode()
    cut = data.index(b"out of memory") + 4
    scan = scanner().scan([data[:cut], data[cut:]])
    hit = [line for line in scan.lines.values() if "cuda out of memory" in line.keywords]
    assert len(hit) == 1 and hit[0].number == 1001 and hit[0].text == OOM_LINE.strip()


def test_line_numbers_count_across_blocks() -> None:
    blocks = [b"a\n" * 10, b"b\n" * 5 + b"Illegal instruction (core dumped)\n"]
    scan = KeywordScanner(["illegal instruction"]).scan(blocks)
    assert [line.number for line in scan.lines.values()] == [16]
    assert scan.lines_total == 16


def test_repeated_lines_are_kept_once() -> None:
    result = explain_text((OOM_LINE + "\n") * 50)
    assert len(result.scan.lines) == 1 and next(iter(result.scan.lines.values())).repeats == 50


def test_keywords_only_match_at_a_token_start() -> None:
    scan = KeywordScanner(["nouveau"]).scan([b"renouveau du systeme\nmodule nouveau charge\n"])
    assert [line.text for line in scan.lines.values()] == ["module nouveau charge"]


def test_empty_and_binary_input() -> None:
    assert ids("") == []
    assert ids_of_bytes(bytes(range(256)) * 100) == []
    assert list(read_blocks(io.BytesIO(b""))) == []


def test_unrelated_logs_match_nothing() -> None:
    for name in ("a1111-startup-ok.txt", "pip-install-numpy-ok.txt", "kernel-boot-amdgpu-dmesg.txt"):
        assert ids(fixture_text(f"logs/unrelated/{name}")) == [], name


noise_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=120)


@settings(max_examples=150, deadline=None)
@given(st.lists(noise_line, max_size=40), st.integers(min_value=0, max_value=40))
def test_the_error_line_is_found_anywhere_in_noise(noise: list[str], where: int) -> None:
    lines = list(noise)
    lines.insert(min(where, len(lines)), OOM_LINE)
    # a 2 GB card's out-of-memory: the floor reading (gpu-out-of-memory) supersedes the generic issue on that line
    assert "gpu-out-of-memory" in ids("\n".join(lines))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    explain_stream(io.BytesIO(data))


def test_a_last_line_without_its_newline_keeps_the_context_before_it() -> None:
    index = b"Looking in indexes: https://download.pytorch.org/whl/cu131"
    error = b"ERROR: Could not find a version that satisfies the requirement torch==2.10.0 (from versions: none)"
    for data in (index + b"\n" + error, index + b"\n" + error + b"\n"):
        kept = {line.text for line in scanner().scan([data]).lines.values()}
        assert index.decode() in kept, data


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3 * CONTEXT_WINDOW), max_size=40), st.booleans())
def test_signal_windows_join_as_one_window_per_signal_would(signals: list[int], head: bool) -> None:
    """The context windows of a block's signals, joined from the gaps between them, are the ones each signal's own
    window gives once merged, at the window's edges (gaps of exactly two windows) too."""
    size = 3 * CONTEXT_WINDOW
    signals = sorted(signals)
    each = [(max(0, pos - CONTEXT_WINDOW), pos + CONTEXT_WINDOW) for pos in signals]
    joined = _signal_windows(signals)
    extra = [(0, CONTEXT_WINDOW)] if head else []
    assert _merged(joined + extra, size) == _merged(each + extra, size)


def test_signal_windows_two_windows_apart_touch() -> None:
    window = CONTEXT_WINDOW
    assert _signal_windows([window, 3 * window]) == [(0, 4 * window)]
    assert _signal_windows([window, 3 * window + 1]) == [(0, 2 * window), (2 * window + 1, 4 * window + 1)]


def test_a_block_is_not_held_while_the_next_is_read() -> None:
    """Neither the reader nor the re-cutter keeps a block it handed on while it reads the next one: a scan holds one
    block's bytes at a time, not two (8 MB each)."""
    handed: list[bytes] = []
    refs: list[int] = []

    class Log(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if handed:
                refs.append(sys.getrefcount(handed[-1]))  # the list's and the argument's: nobody else's
            return super().read(size)

    data = b"a line of a log\n" * (BLOCK // 8) + b"cut"  # blocks end in the middle of a line: re-cut copies
    for block in _whole_lines(read_blocks(Log(data))):
        handed.append(block)
        del block
    assert len(handed) >= 2 and refs and set(refs) == {2}


class _Pipe(io.BytesIO):
    """A stream that cannot seek (stdin, a pipe): read BLOCK bytes at a time and re-cut by `_whole_lines`."""

    def seekable(self) -> bool:
        return False


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bb", b"\n", b"\r", b"x" * 40, b"y" * 130]), max_size=60),
    st.integers(min_value=0, max_value=3),
)
def test_a_file_is_read_in_the_blocks_its_reads_would_be_cut_in(pieces: list[bytes], skip: int) -> None:
    """A file's blocks (each read once, ending at the last line end of a BLOCK-byte window, `_line_blocks`) are the
    ones `_whole_lines` cuts from its BLOCK-byte reads: the same bytes in the same blocks, a window without a line
    end carried on, one longer than two blocks cut at a window's end, from any position the stream is at."""
    data = b"".join(pieces)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "BLOCK", 64)  # windows of 64 bytes, their last 16 probed first
        patch.setattr(scan, "PROBE", 16)
        stream = io.BytesIO(data)
        stream.seek(skip)
        as_file = list(read_blocks(stream))
        as_pipe = list(_whole_lines(read_blocks(_Pipe(data[skip:]))))
    assert as_file == as_pipe  # and `_whole_lines` hands them on as they are, without a copy
    assert b"".join(as_file) == data[skip:]


def test_a_file_with_utf16_text_is_read_as_utf8() -> None:
    data = "a line\r\nanother line\r\n".encode("utf-16")
    assert b"".join(read_blocks(io.BytesIO(data))) == b"a line\r\nanother line\r\n"
