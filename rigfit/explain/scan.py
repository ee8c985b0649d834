"""One streaming pass over a log of any size: find the few lines that carry a known keyword.

The log is read as bytes in large blocks and lower-cased (ASCII only, so offsets do not move). One compiled regex,
a trie of every keyword behind a token separator, finds the keyword hits: the separator as first character lets the
regex engine skip through the text quickly, and no per-issue regex ever runs on the whole log. Only the lines that
hold a hit are decoded and kept. UTF-16 logs (Windows redirections) are re-encoded to UTF-8 block by block; any
other encoding is read as UTF-8 with replacement characters, which keeps the ASCII keywords intact.
"""

from __future__ import annotations

import codecs
import collections
import functools
import io
import itertools
import operator
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from typing import BinaryIO, NamedTuple, cast

from rigfit.explain.runs import BlockRuns, run_delimiter
from rigfit.records import field, record

BLOCK = 8 * 1024 * 1024
MAX_LINE = 4000  # characters kept of one line (minified JSON, base64 blobs)
CONTEXT_WINDOW = 256 * 1024  # bytes on each side of a failure searched for the facts around it
PROBE = 64 * 1024  # bytes at the end of a read's window searched first for its last line end (`_line_blocks`)
UTF16_SAMPLE = 4096  # bytes at the start of a log that tell whether it is UTF-16
SAMPLE = 1024 * 1024  # bytes of a block whose lines tell whether it repeats (several copies of a long unit)
SLICE = SAMPLE  # bytes of a timestamped block split into lines at a time (`_collect_shapes`; the first is the sample)
REPEATS_PAY_BELOW = 0.5  # share of distinct lines in the sample under which each distinct line is read once
MAX_LINES = 20000  # distinct interesting lines kept; the latest win, since the final error is near the end
SHAPES_KEPT = 20000  # shapes whose reading is kept from block to block (more are read again, block by block)
SEPARATORS = rb"\n\r\t \f\v/\\:'\"(.=\-\["
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
# words that make a line look like an error, counted for the "nothing matched" report
# a line's shape: lower-cased and its digits masked (timestamps, counters), in one pass over the bytes
SHAPE = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789", b"abcdefghijklmnopqrstuvwxyz000000000")
# a segment of a line that holds keywords: (start in b"\n" + line, end in line, keywords, whether one is a signal)
Segment = tuple[int, int, frozenset[str], bool]


class _Gathered:
    """The segments a "shapes" block's first pass keeps, as written, with their line numbers and keywords, in log
    order; and those with a signal, by their start in b"\n" + block."""

    def __init__(self, block: bytes, base_line: int) -> None:
        self.block, self.base_line = block, base_line
        self.pieces: list[bytes] = []
        self.numbers: list[int] = []
        self.words: list[frozenset[str]] = []
        self.hits: dict[int, frozenset[str]] = {}


class OwnShape(NamedTuple):
    """A shape whose keywords the lines' own digits decide (`_first_segments`)."""

    shape: bytes
    positions: tuple[int, ...]  # where, in b"\n" + shape, the first pass's regexes match it


# a kept line not made a LogLine yet: (number, text, keywords), seen once; see `_remember_all`
Pending = tuple[int, str, frozenset[str]]
ERROR_WORDS = ("error", "exception", "traceback", "fatal", "failed", "abort", "denied", "illegal", "segmentation fault")


@record
class LogLine:
    number: int  # 1-based line number of the first occurrence
    text: str
    keywords: frozenset[str] = field(default_factory=frozenset)
    repeats: int = 1


@record
class LogScan:
    lines_total: int = 0
    bytes_total: int = 0
    # text -> line, in order of first appearance; an OrderedDict drops its oldest entry in O(1) (a dict's
    # next(iter()) rescans the slots freed at its front, which made evicting 40,000 lines cost 0.6 s)
    lines: OrderedDict[str, LogLine] = field(default_factory=OrderedDict)
    dropped: int = 0  # distinct interesting lines forgotten because MAX_LINES was reached

    def keyword_index(self) -> dict[str, list[tuple[int, LogLine]]]:
        """keyword -> (position, line) of every kept line holding it: the catalogue asks for ~50 keyword sets, and a
        log with a timestamp on every line keeps MAX_LINES lines, too many to walk for each."""
        index: dict[str, list[tuple[int, LogLine]]] = collections.defaultdict(list)
        for kept in enumerate(self.lines.values()):
            for keyword in kept[1].keywords:
                index[keyword].append(kept)
        return index

    @property
    def error_lines(self) -> int:
        return len(self._errors())

    def error_samples(self, count: int) -> list[LogLine]:
        """The last `count` distinct error-looking lines."""
        return self._errors()[-count:]

    def _errors(self) -> list[LogLine]:
        words = set(ERROR_WORDS)
        return [line for line in self.lines.values() if line.keywords & words]


ESCAPED = [re.escape(bytes([b])) for b in range(256)]  # each byte as a regex matches it


def _trie(words: Iterable[bytes]) -> bytes:
    """A regex alternation of `words` sharing prefixes, so the engine tests few branches per position."""
    root: dict = {}
    for word in words:
        node = root
        for byte in word:
            node = node.setdefault(byte, {})
        node[None] = True

    def build(node: dict) -> bytes:
        # in the order of the bytes' decimal strings (that of the items' str(), which wrote out each child's whole
        # subtree: 0.25 s of the start-up, round xspeed11)
        nexts = sorted((b for b in node if b is not None), key="{},".format)
        branches = [ESCAPED[b] + build(node[b]) for b in nexts]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        if None in node:
            return b"(?:" + b"|".join(branches) + b")?"
        return body

    return build(root)


class KeywordScanner:
    """Finds, in one pass, every line holding one of `keywords` (case-insensitive, at a token start).

    `context` keywords (paths, model names, versions: the facts around a failure) are frequent in healthy logs, so
    they are looked for only within CONTEXT_WINDOW bytes of a line that signals a failure (a known issue's keyword or
    an analyzer's signal): the cost of a big healthy log stays that of the signal keywords alone, and memory stays
    flat (the end of one previous block is kept).
    """

    def __init__(self, keywords: Iterable[str], context: Iterable[str] = ()) -> None:
        words = sorted({k.lower() for k in keywords} | set(ERROR_WORDS))
        self.keywords = words
        self._regex = _keyword_regex(words)
        self._signals = set(words) - set(ERROR_WORDS)
        self._extra = sorted({k.lower() for k in context} - set(words))
        # "RuntimeError:" and friends: the error word ends a token instead of starting one
        self._suffix = re.compile(rb"(error|exception):")
        self._first = (self._regex, self._suffix)  # the regexes of the first pass
        # the last block, its distinct lines as written and lower-cased, its newline count, and where the first of
        # some of its lines are (the context pass over the whole block locates its lines so, see `_remember_first`)
        self._distinct: tuple[bytes, bytes, bytes, int, Callable[[Set[bytes]], dict[bytes, tuple[int, int]]]] | None
        self._distinct = None
        # the delimiter of a repeating block's runs (`runs.run_delimiter`): picked from the first such block's sample
        # and kept while the blocks' runs repeat (counting the sample's line starts costs ~1 ms per MB)
        self._delimiter: bytes | None = None
        self._tail: tuple[bytes, int] | None = None  # the end of the previous block and its first line number
        self._head_pending = False  # a signal near the end of the previous block: read the start of this one too
        # the last block, its newline count, and where the first line of each of its shapes is (see `_first_lines`)
        self._shaped: tuple[bytes, int, dict[bytes, tuple[int, int]]] | None = None
        self._sample: list[bytes] | None = None  # the shapes of a "shapes" block's first slice, as `_mode` read them
        # what the regexes read in a shape: whether the first pass's find a keyword in it, and where (see
        # `_shape_segments`); whether the context regex does, and where. Kept from block to block: the shapes of
        # timestamped lines repeat all along a log.
        self._shape_hit: dict[bytes, bool] = {}
        self._segments: dict[bytes, list[Segment] | OwnShape] = {}
        # the segments of a line of an OwnShape, by its shape and its bytes from each position a match may start at
        self._own_read: dict[tuple[bytes, ...], list[Segment]] = {}
        # the bytes a match starting at a position reads: a separator, the longest keyword (or "exception:")
        self._window = 1 + max(len("exception:"), *(len(word.encode()) for word in words))
        self._context_segments: dict[bytes, list[Segment] | None] = {}
        self._context_hit: dict[bytes, bool] = {}

    # The regexes that only some logs need are compiled when first needed (each costs 25-100 ms of start-up): the
    # context keywords' near a signal, the keywords with their digits masked in a big block of timestamped lines
    # (they find the shapes of lines that may hold a keyword).

    @functools.cached_property
    def _context(self) -> re.Pattern[bytes] | None:
        return _keyword_regex(self._extra) if self._extra else None

    @functools.cached_property
    def _shapes(self) -> re.Pattern[bytes]:
        return _keyword_regex(sorted({_shape(w) for w in self.keywords}))

    @functools.cached_property
    def _context_shapes(self) -> re.Pattern[bytes]:  # read only where `_context` is not None
        return _keyword_regex(sorted({_shape(w) for w in self._extra}))

    def scan(self, blocks: Iterable[bytes]) -> LogScan:
        result = LogScan()
        self._tail = None
        self._head_pending = False
        self._delimiter = None
        for raw in _whole_lines(blocks):
            self._scan_block(raw, result)
            del raw  # the next block is read without this one alive: memory holds one block, not two
        self._tail = None
        _made_lines(result)
        return result

    def _scan_block(self, raw: bytes, result: LogScan) -> None:
        """The first pass over one block, then the context keywords within CONTEXT_WINDOW of its signals (and of
        the previous block's, in its tail); the block's caches are dropped before the next block is read."""
        block = ANSI.sub(b"", raw) if b"\x1b" in raw else raw
        base_line = result.lines_total
        result.bytes_total += len(block)
        repeats, sample = _mode(block)
        self._sample = sample if repeats == "shapes" else None
        if repeats == "lines" and self._delimiter is None and sample is not None:
            self._delimiter = run_delimiter(sample)
        del sample  # the sample's lines live no longer than the first pass needs them
        hits = self._collect_first(block, base_line, result, repeats)
        result.lines_total += self._newlines(block)
        if self._extra:
            signals = sorted(start - 1 for start, words in hits.items() if not words.isdisjoint(self._signals))
            self._context_near(block, base_line, signals, result, repeats)
        self._distinct = self._shaped = self._sample = None

    def _context_near(self, block: bytes, base_line: int, signals: list[int], result: LogScan, repeats: str) -> None:
        """The context pass over the windows around a block's `signals` (offsets), the previous block's tail when one
        is near the block's start, and the block's head when the previous block ended near a signal."""
        windows = _signal_windows(signals)
        if self._head_pending:
            windows.append((0, CONTEXT_WINDOW))
        if self._tail is not None and signals and signals[0] < CONTEXT_WINDOW:
            self._context_pass(self._tail[0], self._tail[1], result, repeats)
        first_line, counted_to = base_line, 0  # the windows' line numbers, counted from the previous window on
        for start, end in _merged(windows, len(block)):
            before = block.rfind(b"\n", 0, start) + 1
            first_line += block.count(b"\n", counted_to, before)
            counted_to = before
            whole = before == 0 and end >= len(block)
            self._context_pass(block if whole else block[before:end], first_line, result, repeats)
        self._head_pending = bool(signals) and signals[-1] + CONTEXT_WINDOW > len(block)
        # the last CONTEXT_WINDOW bytes from a line start; all of a shorter block (its first line included); its
        # first line number counted back from the block's end
        cut = 0 if len(block) <= CONTEXT_WINDOW else block.find(b"\n", len(block) - CONTEXT_WINDOW) + 1
        self._tail = (block[cut:], result.lines_total - block.count(b"\n", cut))

    def _newlines(self, block: bytes) -> int:
        """The newlines in `block`: its line count less one, when its first pass split it."""
        if self._shaped is not None and self._shaped[0] is block:
            return self._shaped[1]
        if self._distinct is not None and self._distinct[0] is block:
            return self._distinct[3]
        return block.count(b"\n")

    def _context_pass(self, chunk: bytes, first_line: int, result: LogScan, repeats: str) -> None:
        """The context keywords near a failure; in a repeating block (a keyword in every repeat makes the windows
        cover it) each distinct line is read once, and in a block of timestamped lines each distinct shape is read
        at its first line in the window (the facts around a failure, not every copy of them)."""
        context = self._context
        if context is None:
            return
        if repeats == "lines":
            self._collect_distinct(chunk, first_line, result, (context,), counted=False)
        elif repeats == "shapes":
            firsts = self._firsts_of(chunk)
            hit = self._read_shapes(firsts, self._context_hit, (self._context_shapes,))
            for at, index, shape in sorted((*firsts[shape], shape) for shape in firsts if hit[shape]):
                number = first_line + 1 + index
                if shape not in self._context_segments:
                    self._context_segments[shape] = self._shape_segments(shape, (self._context_shapes,))
                found = self._context_segments[shape]
                if found is None:
                    found = self._line_segments(chunk[at : at + len(shape)].lower(), (context,))
                for start, end, words, _ in found:
                    text = chunk[at + start - 1 : at + end][:MAX_LINE].decode("utf-8", errors="replace").strip()
                    _remember(result, text, number, words, count=False)
        else:
            self._collect(chunk, first_line, result, (context,))

    def _collect_first(self, block: bytes, base_line: int, result: LogScan, repeats: str) -> Mapping[int, Set[str]]:
        """The first pass over a block; returns the keywords by line start. A big log is big because lines repeat
        (warnings, progress bars): when a sample of the block repeats ("lines"), the keyword regexes read each
        distinct line once; when its lines repeat once their digits are masked ("shapes": a timestamp on every
        line), each distinct shape once; else ("each") de-duplicating would only cost time (see `_mode`)."""
        if repeats == "each":
            return self._collect(block, base_line, result, (self._regex, self._suffix), counted=True)
        if repeats == "shapes":
            return self._collect_shapes(block, base_line, result)
        return self._collect_distinct(block, base_line, result)

    def _firsts_of(self, chunk: bytes) -> dict[bytes, tuple[int, int]]:
        """Where the first line of each shape of a window is (or of the block, as its first pass kept them)."""
        if self._shaped is not None and self._shaped[0] is chunk:
            return self._shaped[2]
        lines = chunk.translate(SHAPE).split(b"\n")
        distinct = dict.fromkeys(lines)
        return _first_lines(lines, 0, 0, distinct, distinct.keys())

    def _read_shapes(
        self, shapes: Iterable[bytes], known: dict[bytes, bool], regexes: tuple[re.Pattern[bytes], ...]
    ) -> dict[bytes, bool]:
        """Whether `regexes` find a keyword in each of `shapes`, read once for all the blocks (the shapes not `known`
        yet are read together: a regex's matches in a line do not depend on the other lines)."""
        if len(known) > SHAPES_KEPT:
            known.clear()
            self._segments.clear()
            self._context_segments.clear()
        new = [shape for shape in shapes if shape not in known]
        if new:
            hit = _lines_hit(b"\n" + b"\n".join(new), regexes, self._suffix)
            known.update((shape, shape in hit) for shape in new)
        return known

    def _collect_shapes(self, block: bytes, base_line: int, result: LogScan) -> dict[int, frozenset[str]]:
        """A block whose lines repeat once their digits are masked (a timestamp on every line): the keyword regexes
        read each distinct shape once, and every line of a shape with a keyword is remembered, in log order, as
        `_collect` does. The shape's keywords are the line's when no match touches a masked digit (the regexes find
        the longest keyword at the first position that has one, and a match without digits reads the same in both);
        the other lines are read by the regexes themselves, once per distinct bytes where a match may start
        (`_own_reading`: a Python banner's "64 bit" has the shape of "32 bit", ~170 lines per MB). The lines are
        gathered first (`_locate`) and remembered together (`_remember_all`): ~600 new lines per MB, one Python step
        each; returns the segments with a signal (all the caller reads), by their start in b"\n" + block."""
        gathered = _Gathered(block, base_line)
        self._candidate_lines(gathered)
        _remember_all(result, gathered.pieces, gathered.numbers, gathered.words)
        return gathered.hits

    def _candidate_lines(self, gathered: _Gathered) -> None:
        """Gather the segments of each line of a "shapes" block whose shape holds a keyword. A slice's lines at a
        time (translated, split): the whole block's made its peak (8 MB translated and 97,000 line objects), and the
        peak grew from 20 to 50 MB as glibc's heap fragmented around them. Each line's shape is looked up in the
        block's shapes seen so far (one dict lookup a line, in C); only a slice with a shape new to the block is
        de-duplicated, to read its new shapes and where each is first."""
        firsts: dict[bytes, tuple[int, int]] = {}  # the block's distinct shapes, where each is first
        flagged: dict[bytes, bool] = {}  # the same: whether the first pass's regexes find a keyword in it
        block = gathered.block
        first_index = 0
        sample, self._sample = self._sample, None  # the first slice's shapes, as `_mode` split them
        for offset, piece in _slices(block):
            lines = piece.translate(SHAPE).split(b"\n") if sample is None else sample
            sample = None
            try:
                flags = list(map(flagged.__getitem__, lines))
            except KeyError:  # a shape new to the block
                self._read_new_shapes(lines, offset, first_index, firsts, flagged)
                flags = list(map(flagged.__getitem__, lines))
            self._locate(lines, flags, offset, first_index, gathered)
            first_index += len(lines)
        self._shaped = (block, first_index - 1, firsts)

    def _read_new_shapes(
        self,
        lines: list[bytes],
        offset: int,
        first_index: int,
        firsts: dict[bytes, tuple[int, int]],
        flagged: dict[bytes, bool],
    ) -> None:
        """The shapes of a slice's `lines` (from `offset` and line `first_index` of the block) not in `flagged` yet:
        where each is first, and whether the first pass's regexes find a keyword in it."""
        distinct = dict.fromkeys(lines)
        new = distinct.keys() - flagged.keys()
        firsts.update(_first_lines(lines, offset, first_index, distinct, new))
        hit = self._read_shapes(new, self._shape_hit, (self._shapes, self._suffix))
        flagged.update((shape, hit[shape]) for shape in new)

    def _locate(
        self, lines: list[bytes], flags: list[bool], offset: int, first_index: int, gathered: _Gathered
    ) -> None:
        """Gather the segments of each of a slice's `lines` flagged a candidate (from `offset` and line `first_index`
        of the block): its start from the running sum of the lines' lengths (in C, up to the last candidate; a sum of
        the lines between one candidate and the next cost a Python step each), its segments those of its shape (read
        once, `_first_segments`), or its own (`_own_reading`)."""
        indices = list(itertools.compress(itertools.count(), flags))
        if not indices:
            return
        ends = list(itertools.accumulate(map(len, lines[: indices[-1]]), initial=offset))  # less the newlines
        segments, block, hits = self._segments, gathered.block, gathered.hits
        pieces, numbers, words = gathered.pieces, gathered.numbers, gathered.words
        number = gathered.base_line + 1 + first_index
        for index in indices:
            shape = lines[index]
            if shape not in segments:
                segments[shape] = self._first_segments(shape)
            at, found = ends[index] + index, segments[shape]
            if isinstance(found, OwnShape):
                found = self._own_reading(block, at, found)
            for start, end, keywords, signal in found:
                pieces.append(block[at + start - 1 : at + end][:MAX_LINE])
                numbers.append(number + index)
                words.append(keywords)
                if signal:
                    hits[at + start] = keywords

    def _shape_segments(self, shape: bytes, regexes: tuple[re.Pattern[bytes], ...]) -> list[Segment] | None:
        """The segments of every line of this shape that hold a keyword of `regexes` (compiled with their digits
        masked); None when a match holds a masked digit (the line's own digits decide)."""
        padded = b"\n" + shape
        if any(b"0" in match.group(0) for regex in regexes for match in regex.finditer(padded)):
            return None
        return self._line_segments(shape, regexes)

    def _line_segments(self, line: bytes, regexes: tuple[re.Pattern[bytes], ...] = ()) -> list[Segment]:
        """(start in b"\n" + line, end in line, keywords, whether they hold a signal) of the segments of a
        lower-cased line that hold a keyword of `regexes` (the first pass's by default), in line order."""
        found = _keyword_hits(b"\n" + line, regexes or self._first, self._suffix)
        return [
            (start, _line_end(line, start - 1), frozenset(words), not words.isdisjoint(self._signals))
            for start, words in sorted(found.items())
        ]

    def _first_segments(self, shape: bytes) -> list[Segment] | OwnShape:
        """`_shape_segments` of the first pass's regexes; where a match holds a masked digit, the positions (in
        b"\n" + shape) at which they match the shape: a line of the shape can hold a match at those only (each
        keyword's shape is among the masked ones), and one is read by them from no further than `_window` bytes on."""
        regexes = (self._shapes, self._suffix)
        found = self._shape_segments(shape, regexes)
        if found is not None:
            return found
        padded = b"\n" + shape
        return OwnShape(shape, tuple(at for at in range(len(padded)) if any(r.match(padded, at) for r in regexes)))

    def _own_reading(self, block: bytes, at: int, own: OwnShape) -> list[Segment]:
        """`_line_segments` of the line at `at` (of shape `own`), read once for all the lines of that shape with the
        same bytes where a match may start: a match, and the letters before an "error:", are read there only."""
        line = _line_at(block, at).lower()
        padded = b"\n" + line
        key = (own.shape, *(padded[start : start + self._window] for start in own.positions))
        found = self._own_read.get(key)
        if found is None:
            if len(self._own_read) > SHAPES_KEPT:
                self._own_read.clear()
            found = self._own_read[key] = self._line_segments(line)
        return found

    def _collect_distinct(
        self,
        block: bytes,
        base_line: int,
        result: LogScan,
        regexes: tuple[re.Pattern[bytes], ...] = (),
        counted: bool = True,
    ) -> dict[int, set[str]]:
        """The keyword regexes (the first pass's by default) run once over the distinct lines (as written: the
        lower-cased copy of the distinct lines has the same offsets), then each hit is remembered at every line that
        repeats it, in log order; `counted` as in `_collect`."""
        locate = None  # where the first of some of the block's lines are, when its first pass split it
        runs = lines = None
        if self._distinct is not None and self._distinct[0] is block:  # the block's first pass made it
            _, written, distinct, _, locate = self._distinct
        else:
            runs = BlockRuns.cut(block, self._delimiter) if counted and self._delimiter else None
            if runs is None and counted:
                self._delimiter = None  # the next repeating block's picked again
            if runs is None:
                lines = block.split(b"\n")
                firsts = dict.fromkeys(lines)
            else:
                firsts = runs.distinct_lines()
            written = b"\n" + b"\n".join(firsts)
            distinct = written.lower()
            if counted:  # the first pass keeps the block's for its context pass (not a previous block's tail)
                locate = runs.first_lines if runs is not None else _lines_locator(cast(list, lines), firsts)
                newlines = runs.line_starts[-1] - 1 if runs is not None else len(cast(list, lines)) - 1
                self._distinct = (block, written, distinct, newlines, locate)
        segments: dict[bytes, dict[int, set[str]]] = {}  # distinct line -> segment start in it -> keywords
        for start, words in _keyword_hits(distinct, regexes or (self._regex, self._suffix), self._suffix).items():
            line_start = distinct.rfind(b"\n", 0, start) + 1
            line_end = distinct.find(b"\n", line_start)
            line = written[line_start : line_end if line_end >= 0 else len(distinct)]
            segments.setdefault(line, {}).setdefault(start - line_start, set()).update(words)
        if not counted:  # the context pass: a line already kept is left as it is, so its first occurrence is enough
            _remember_first(block, base_line, result, segments, None if locate is None else locate(segments.keys()))
            return {}
        if runs is not None:
            picked, occurrences, positions = runs.occurrences(segments.keys())
        else:
            lines = cast(list, lines)
            picked = list(itertools.compress(itertools.count(), map(segments.__contains__, lines)))
            occurrences, positions = list(map(lines.__getitem__, picked)), None
        return _remember_occurrences(block, picked, occurrences, positions, base_line, result, segments, self._signals)

    def _collect(
        self,
        block: bytes,
        base_line: int,
        result: LogScan,
        regexes: tuple[re.Pattern[bytes], ...],
        counted: bool = False,
    ) -> dict[int, set[str]]:
        """Remember the lines of `block` that hold a keyword of `regexes`; returns the keywords by line start.
        `counted` is False on the context pass, which reads bytes the first pass already counted."""
        lowered = b"\n" + block.lower()
        hits = _keyword_hits(lowered, regexes, self._suffix)
        counted_to, line_no = 0, base_line
        for start in sorted(hits):
            line_no += lowered.count(b"\n", counted_to, start)
            counted_to = start
            end = _line_end(lowered, start)
            text = block[start - 1 : end - 1][:MAX_LINE].decode("utf-8", errors="replace").strip()
            _remember(result, text, max(line_no, 1), hits[start], count=counted)
        return hits


def _keyword_hits(
    lowered: bytes, regexes: tuple[re.Pattern[bytes], ...], suffix: re.Pattern[bytes]
) -> dict[int, set[str]]:
    """The keywords found in `lowered` (lower-cased, after a newline), by the start of the line holding them."""
    hits: dict[int, set[str]] = {}
    for regex in regexes:
        for match in regex.finditer(lowered):
            if regex is suffix and not lowered[match.start() - 1 : match.start()].isalpha():
                continue  # a bare "error:" starts its token and the main regex has it
            start = _line_start(lowered, match.end(1))
            hits.setdefault(start, set()).add(match.group(1).decode())
    return hits


def _remember_first(
    block: bytes,
    base_line: int,
    result: LogScan,
    segments: dict[bytes, dict[int, set[str]]],
    located: dict[bytes, tuple[int, int]] | None = None,
) -> None:
    """Remember each line of `segments` at its first occurrence in the block, in log order: `located` (start, index)
    when the block's lines are at hand (`_first_lines`), else found by bytes.find, without walking every line of a
    repeating block."""
    if located is not None:
        firsts = sorted((at, index, line) for line, (at, index) in located.items())
    else:
        firsts = _counted_firsts(block, list(segments))
    for pos, index, line in firsts:
        number = base_line + 1 + index
        for start in sorted(segments[line]):
            end = _line_end(line, start)
            text = block[pos + start : pos + end][:MAX_LINE]
            _remember(result, text.decode("utf-8", errors="replace").strip(), number, segments[line][start], False)


def _counted_firsts(block: bytes, lines: list[bytes]) -> list[tuple[int, int, bytes]]:
    """(start, index, line) of the first occurrence of each of `lines` in `block`, in block order (bytes.find, then
    the newlines counted from one to the next: one pass over the block)."""
    found: list[tuple[int, int, bytes]] = []
    index, counted_to = 0, 0
    for pos, line in sorted((_find_line(block, line), line) for line in lines):
        index += block.count(b"\n", counted_to, pos)
        counted_to = pos
        found.append((pos, index, line))
    return found


def _lines_locator(
    lines: list[bytes], order: dict[bytes, None]
) -> Callable[[Set[bytes]], dict[bytes, tuple[int, int]]]:
    """`_first_lines` of a block's `lines` (its distinct lines in `order`), for the wanted lines given later."""
    return functools.partial(_first_lines, lines, 0, 0, order)


def _remember_occurrences(
    block: bytes,
    picked: list[int],
    occurrences: list[bytes],
    positions: list[int] | None,
    base_line: int,
    result: LogScan,
    segments: dict[bytes, dict[int, set[str]]],
    signals: set[str],
) -> dict[int, set[str]]:
    """Remember the `occurrences` of the lines of `segments` (the lines at the indices `picked` of the block, in log
    order); returns the keywords of the segments that hold a signal, by segment start in b"\n" + block (the
    coordinates of `_collect`: the caller reads only those). Each distinct line is decoded once; a signal line's
    occurrence starts at its `positions` entry (a block read by runs knows it) or is located by bytes.find from the
    previous one (summing the lengths of the lines in between instead cost as many instructions, round xspeed10)."""
    texts = {
        line: [
            (line[start : _line_end(line, start)][:MAX_LINE].decode("utf-8", errors="replace").strip(), words)
            for start, words in sorted(found.items())
        ]
        for line, found in segments.items()
    }
    new = {text for kept in texts.values() for text, _ in kept if text and text not in result.lines}
    if len(result.lines) + len(new) <= MAX_LINES:  # nothing is forgotten: each line's copies are counted at once
        _remember_counted(result, base_line, occurrences, picked, texts)
    else:  # a line forgotten and seen again is a new line: remember the copies one by one
        for index, line in zip(picked, occurrences, strict=True):
            for text, words in texts[line]:
                _remember(result, text, base_line + 1 + index, words)
    hits: dict[int, set[str]] = {}
    signal_lines = {line for line, found in segments.items() if any(words & signals for words in found.values())}
    at = -1  # where the previous signal line located starts
    located = zip(itertools.repeat(-1) if positions is None else positions, occurrences, strict=False)
    for at_known, line in itertools.compress(located, map(signal_lines.__contains__, occurrences)):
        at = at_known if positions is not None else _find_line(block, line, at)  # the lines between are not `line`
        hits.update((at + 1 + start, words) for start, words in segments[line].items() if words & signals)
    return hits


def _remember_counted(
    result: LogScan,
    base_line: int,
    occurrences: list[bytes],
    indices: list[int],
    texts: dict[bytes, list[tuple[str, set[str]]]],
) -> None:
    """Remember the `occurrences` (lines at `indices` of the block) as `_remember` would one by one, when no line
    gets forgotten meanwhile: a line's first occurrence gives its number, its count the repeats."""
    counts = collections.Counter(occurrences)
    firsts = dict(zip(reversed(occurrences), reversed(indices), strict=True))  # the earliest index wins
    for line in sorted(firsts, key=firsts.__getitem__):
        for text, words in texts[line]:
            if not text:
                continue
            known = _kept(result, text)
            if known is None:
                result.lines[text] = _line(base_line + 1 + firsts[line], text, frozenset(words), counts[line])
            else:
                known.repeats += counts[line]
                known.keywords |= words


def _slices(text: bytes) -> Iterator[tuple[int, bytes]]:
    """`text` in pieces of about SLICE bytes cut at newlines (the newline dropped): their lines are the text's."""
    start = 0
    while (end := text.find(b"\n", start + SLICE)) >= 0:
        yield start, text[start:end]
        start = end + 1
    yield start, text[start:]


def _first_lines(
    lines: list[bytes], offset: int, first_index: int, distinct: Iterable[bytes], wanted: Set[bytes]
) -> dict[bytes, tuple[int, int]]:
    """(start in the text, index) of the first of `lines` (the text's from `offset` and line `first_index` on) equal
    to each `wanted` one of their `distinct` lines (in order of first appearance): each is searched for from the
    previous one on (`list.index`), so all are found in one pass over the lines, in C."""
    found: dict[bytes, tuple[int, int]] = {}
    index = start = 0  # the line found last, and its start
    for shape in distinct:
        if shape not in wanted:
            continue
        following = lines.index(shape, index)
        start += sum(map(len, lines[index:following])) + following - index  # the lines in between, their newlines
        index = following
        found[shape] = (offset + start, first_index + index)
        if len(found) == len(wanted):
            break
    return found


def _line_at(text: bytes, start: int) -> bytes:
    end = text.find(b"\n", start)
    return text[start : end if end >= 0 else len(text)]


def _find_line(text: bytes, line: bytes, after: int = -1) -> int:
    """Where the first whole line equal to `line` (not empty) starts in `text` past position `after`; -1 if none.
    The first and the last line are tested on their own, so that no copy of the block with a newline on each side
    is made (a fresh 8 MB copy costs more than the search)."""
    if after < 0 and text.startswith(line) and text[len(line) : len(line) + 1] in (b"", b"\n"):
        return 0
    pos = text.find(b"\n" + line + b"\n", max(after, 0))
    if pos >= 0:
        return pos + 1
    last = len(text) - len(line)
    return last if last > after and text.endswith(b"\n" + line) else -1


def _mode(block: bytes) -> tuple[str, list[bytes] | None]:
    """How a block is read: "lines" when it repeats itself (fewer than REPEATS_PAY_BELOW of the lines of a sample of
    it are distinct), "shapes" when a big block does once the digits are masked (a timestamp on every line; a small
    block costs little either way and keeps every line of its context), else "each"."""
    sample = next(_slices(block))[1]  # the first slice (SAMPLE bytes to the next newline): its shapes are reused
    lowered = sample.lower().split(b"\n")
    if _repeats(lowered):
        # its lines, as written (the block is cut with them), tell where runs of lines start (`runs.run_delimiter`)
        return "lines", sample.split(b"\n")
    if len(block) <= SAMPLE:
        return "each", None
    shapes = sample.translate(SHAPE).split(b"\n")
    return ("shapes", shapes) if _repeats(shapes) else ("each", None)


def _repeats(lines: list[bytes]) -> bool:
    return len(set(lines)) <= len(lines) * REPEATS_PAY_BELOW


def _shape(word: str) -> str:
    return word.translate(str.maketrans("123456789", "000000000"))


def _lines_hit(distinct: bytes, regexes: tuple[re.Pattern[bytes], ...], suffix: re.Pattern[bytes]) -> set[bytes]:
    """The lines of `distinct` (lines after a newline) in which one of `regexes` finds a keyword."""
    found: set[bytes] = set()
    for start in _keyword_hits(distinct, regexes, suffix):
        end = distinct.find(b"\n", start)
        found.add(distinct[distinct.rfind(b"\n", 0, start) + 1 : end if end >= 0 else len(distinct)])
    return found


def _signal_windows(signals: list[int]) -> list[tuple[int, int]]:
    """The windows of CONTEXT_WINDOW bytes on each side of the sorted `signals`, those of signals less than two
    windows apart joined (as `_merged` would join them): a timestamped block has thousands of signals, and the
    gaps between them are compared in C."""
    if not signals:
        return []
    gaps = map(operator.sub, itertools.islice(signals, 1, None), signals)
    breaks = [0, *itertools.compress(itertools.count(1), map((2 * CONTEXT_WINDOW).__lt__, gaps)), len(signals)]
    return [
        (max(0, signals[first] - CONTEXT_WINDOW), signals[end - 1] + CONTEXT_WINDOW)
        for first, end in itertools.pairwise(breaks)
    ]


def _merged(windows: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Overlapping byte ranges joined, clamped to the block."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        end = min(end, size)
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _keyword_regex(words: list[str]) -> re.Pattern[bytes]:
    # the lookahead rejects most separators (a space before a digit, a bar glyph) with one set test
    starts = b"".join(re.escape(bytes([b])) for b in sorted({w.encode()[0] for w in words}))
    return re.compile(b"[" + SEPARATORS + b"](?=[" + starts + b"])(" + _trie(w.encode() for w in words) + b")")


def _line_start(text: bytes, pos: int) -> int:
    """Start of the line holding `pos`; a carriage return (progress bars) starts a line too. The newline is found
    first so the search for a carriage return stays within the line."""
    newline = text.rfind(b"\n", 0, pos)
    return max(newline, text.rfind(b"\r", newline + 1, pos)) + 1


def _line_end(text: bytes, start: int) -> int:
    newline = text.find(b"\n", start)
    end = len(text) if newline < 0 else newline
    ret = text.find(b"\r", start, end)
    return end if ret < 0 else ret


def _remember(result: LogScan, text: str, number: int, keywords: Set[str], count: bool = True) -> None:
    """Keep a line (once per distinct text); `count` is False on the second, context pass over the same bytes. A new
    line is kept `Pending`, as `_remember_all` keeps them: most of a timestamped log's are evicted before the end."""
    if not text:
        return
    known = _kept(result, text)
    if known is not None:
        known.repeats += count
        known.keywords |= keywords
        return
    if len(result.lines) >= MAX_LINES:
        result.lines.popitem(last=False)
        result.dropped += 1
    cast("OrderedDict[str, LogLine | Pending]", result.lines)[text] = (number, text, frozenset(keywords))


def _remember_all(result: LogScan, pieces: list[bytes], numbers: list[int], words: list[frozenset[str]]) -> None:
    """Remember the segments `pieces` (as written, without a newline or carriage return) in order, as `_remember`
    does one by one: decoded together, and, when every text is new and distinct (timestamped lines), kept at once,
    evicting the oldest. These are kept as `Pending` tuples, made LogLines only when seen again or when the scan
    ends (`_made_lines`): at 100 MB three in four of them are evicted before then, and a LogLine costs ~2-4 µs."""
    texts = list(map(str.strip, b"\n".join(pieces).decode("utf-8", errors="replace").split("\n"))) if pieces else []
    kept = result.lines
    if "" in texts or len(set(texts)) < len(texts) or not kept.keys().isdisjoint(texts):
        for text, number, keywords in zip(texts, numbers, words, strict=True):
            _remember(result, text, number, keywords)
        return
    excess = len(kept) + len(texts) - MAX_LINES
    if excess > 0:
        result.dropped += excess
        if excess >= len(kept):
            del texts[: excess - len(kept)], numbers[: excess - len(kept)], words[: excess - len(kept)]
            kept.clear()
        else:
            for _ in range(excess):
                kept.popitem(last=False)
    pending = zip(numbers, texts, words, strict=True)
    cast("OrderedDict[str, LogLine | Pending]", kept).update(zip(texts, pending, strict=True))


def _line(number: int, text: str, keywords: frozenset[str], repeats: int) -> LogLine:
    """A LogLine, its fields set one by one: the record's generic `__init__` (a dict update) costs ~3 µs a line and
    its instances stop sharing their dict's keys (+1.4 MB on 22,000 lines); a scan makes up to ~22,000."""
    line: LogLine = object.__new__(LogLine)
    line.number, line.text, line.keywords, line.repeats = number, text, keywords, repeats
    return line


def _kept(result: LogScan, text: str) -> LogLine | None:
    """The kept line of `text`, made a LogLine if it was `Pending` (in place: its position in the order stays)."""
    known = cast("LogLine | Pending | None", result.lines.get(text))
    if type(known) is tuple:
        known = result.lines[text] = _line(known[0], known[1], known[2], 1)
    return cast("LogLine | None", known)


def _made_lines(result: LogScan) -> None:
    """Every `Pending` line still kept at the end of the scan made a LogLine, in place."""
    kept = cast("OrderedDict[str, LogLine | Pending]", result.lines)
    pending = [(text, _line(*line, 1)) for text, line in kept.items() if type(line) is tuple]
    kept.update(pending)


def _whole_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut blocks at line ends so no line straddles two blocks (one copy of each block at most). Neither the
    block read nor the one yielded is held while the next is read: one block's bytes live at a time."""
    carry = b""
    for block in blocks:
        cut = len(block) if block.endswith((b"\n", b"\r")) else max(block.rfind(b"\n"), block.rfind(b"\r")) + 1
        if cut == 0 and len(carry) + len(block) < BLOCK * 2:
            carry += block
            continue
        if cut == 0:
            cut = len(block)  # one enormous line: cut it rather than grow without bound
        whole = b"".join((carry, memoryview(block)[:cut])) if carry or cut < len(block) else block
        carry = block[cut:]
        del block
        yield whole
        del whole
    if carry:
        yield carry


def read_blocks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes in blocks, as UTF-8 when it is UTF-16 (BOM, or NUL bytes in every other position); a
    block yielded is not held while the next is read. A file (a seekable stream) is read in the blocks
    `_whole_lines` would cut, each read at its size (`_line_blocks`)."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(UTF16_SAMPLE)
        stream.seek(start)
        if _utf16_encoding(head) is None:
            yield from _line_blocks(stream, start)
            return
    first = stream.read(BLOCK)
    if not first:
        return
    encoding = _utf16_encoding(first)
    if encoding is None:
        yield first
        del first
        yield from iter(functools.partial(stream.read, BLOCK), b"")
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    block = first
    while block:
        yield decoder.decode(block).encode("utf-8")
        block = stream.read(BLOCK)
    yield decoder.decode(b"", final=True).encode("utf-8")


def _line_blocks(stream: BinaryIO, start: int) -> Iterator[bytes]:
    """The blocks `_whole_lines` cuts from a seekable stream read BLOCK bytes at a time from `start` (the same
    bytes, each block ending at the last line end of a read, or carried on), each read once at its size: joining
    the carried end of one read to the next made a fresh 8 MB copy a block, and its ~2,000 page faults cost ~1 ms
    of system time per MB (round xspeed12). Bytes appended while it reads are read as `_whole_lines` would."""
    size = stream.seek(0, io.SEEK_END)
    cut = window = start  # where the next block starts, and the next read's window
    while window < size:
        end = min(window + BLOCK, size)
        line_end = _last_line_end(stream, window, end)
        window = end
        if line_end < 0 and end - cut < BLOCK * 2:
            continue  # no line end in the window: carried on
        yield _read_at(stream, cut, end if line_end < 0 else line_end)  # one enormous line is cut at `end`
        cut = end if line_end < 0 else line_end
    stream.seek(cut)
    yield from _whole_lines(iter(functools.partial(stream.read, BLOCK), b""))


def _last_line_end(stream: BinaryIO, window: int, end: int) -> int:
    """The position after the last newline or carriage return of the stream's bytes [window, end), found in their
    last PROBE bytes, else in all of them; -1 when there is none."""
    for first in dict.fromkeys((max(window, end - PROBE), window)):
        data = _read_at(stream, first, end)
        found = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if found >= 0:
            return first + found + 1
    return -1


def _read_at(stream: BinaryIO, start: int, end: int) -> bytes:
    stream.seek(start)
    return stream.read(end - start)


def _utf16_encoding(head: bytes) -> str | None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:UTF16_SAMPLE]
    if len(sample) >= 16 and sample[1::2].count(0) > len(sample) * 0.4:
        return "utf-16-le"
    if len(sample) >= 16 and sample[0::2].count(0) > len(sample) * 0.4:
        return "utf-16-be"
    return None


__all__ = ["ERROR_WORDS", "KeywordScanner", "LogLine", "LogScan", "read_blocks"]
