"""A repeating block read as runs of lines, not line by line (round xspeed11).

Splitting an 8 MB block into its ~130,000 lines, hashing them and picking the keyword lines out of them made one
Python object per line: ~25 M instructions per MB, whatever the keywords. A block that repeats itself (a unit of
startup lines, warnings and progress bars printed again and again) repeats its runs of lines too, so the block is cut
before every line that starts with a chosen few bytes (`run_delimiter`, found in the sample of `scan._mode`): about
one object per RUN_LINES lines. Each distinct run is split into lines once; the block's lines are its runs' lines, so
every line's index and start follow from the runs' line counts and lengths. The cut is only a grouping: any delimiter
gives the same lines, numbers and positions, and a block whose runs do not repeat is read line by line instead.
"""

from __future__ import annotations

import collections
import itertools
import operator
from collections.abc import Set

RUN_LINES = 16  # lines per run aimed at
REPEATS_PAY_BELOW = 0.25  # share of distinct runs under which a block is read by runs
PREFIXES = (2, 4, 8, 16, 32)  # the lengths of line start tried for a delimiter, shortest first
# (index of the line in its run, start of the line in the run, the line) of each line that holds a keyword
RunLine = tuple[int, int, bytes]


def run_delimiter(lines: list[bytes]) -> bytes | None:
    """b"\\n" and the line start that begins about one in RUN_LINES of `lines` (a sample of a block's lines), or None
    when none begins between one in 64 and one in 4 of them. The shortest start that fits is taken: a longer one is
    tried only when every short one is too frequent or too rare (a logger's lines all start alike: "INFO:root:")."""
    size = len(lines)
    for length in PREFIXES:
        counts = collections.Counter(map(operator.itemgetter(slice(0, length)), lines))
        fits = [
            (abs(count - size / RUN_LINES), start)
            for start, count in counts.items()
            if len(start) == length and size / 64 <= count <= size / 4
        ]
        if fits:
            return b"\n" + min(fits)[1]
    return None


class BlockRuns:
    """A block cut before each line starting with the delimiter's bytes (after its newline): run 0 is `pieces[0]`, run
    i > 0 is those bytes followed by `pieces[i]`, and the block is its runs joined by newlines."""

    def __init__(self, delimiter: bytes, pieces: list[bytes], distinct: dict[bytes, None]) -> None:
        self._delimiter = delimiter
        self._start = delimiter[1:]
        self.pieces = pieces
        self._distinct = distinct  # the pieces of runs 1.. in order of first appearance
        counts = {piece: piece.count(b"\n") + 1 for piece in distinct}
        counts[pieces[0]] = pieces[0].count(b"\n") + 1  # the start holds no newline: a run's lines are its piece's
        # the index of the first line of each run, and the block's line count last
        self.line_starts = list(itertools.accumulate(map(counts.__getitem__, pieces), initial=0))
        self._byte_starts: list[int] | None = None
        self._run_lines: list[tuple[int, list[bytes]]] | None = None

    @classmethod
    def cut(cls, block: bytes, delimiter: bytes) -> BlockRuns | None:
        """The block's runs, or None when they do not repeat enough to pay for themselves."""
        pieces = block.split(delimiter)
        distinct = dict.fromkeys(itertools.islice(pieces, 1, None))
        if len(pieces) < RUN_LINES or len(distinct) > len(pieces) * REPEATS_PAY_BELOW:
            return None
        return cls(delimiter, pieces, distinct)

    def run_lines(self) -> list[tuple[int, list[bytes]]]:
        """(key, lines) of the head run (key 0) and of each distinct run (its piece's first index), in order of first
        appearance; split once."""
        if self._run_lines is None:
            firsts = self._first_indices()
            self._run_lines = [(0, self.pieces[0].split(b"\n"))]
            self._run_lines += ((firsts[piece], (self._start + piece).split(b"\n")) for piece in self._distinct)
        return self._run_lines

    def distinct_lines(self) -> dict[bytes, None]:
        """The block's distinct lines in order of first appearance (as `dict.fromkeys` of its lines would give)."""
        return dict.fromkeys(itertools.chain.from_iterable(lines for _, lines in self.run_lines()))

    def occurrences(self, wanted: Set[bytes]) -> tuple[list[int], list[bytes], list[int]]:
        """(index, line, start in the block) of every line of the block in `wanted`, in block order."""
        table: dict[int, list[RunLine]] = {}  # run key -> its wanted lines
        for key, run_lines in self.run_lines():
            starts = itertools.accumulate(map((1).__add__, map(len, run_lines)), initial=0)
            found = [
                (index, at, line)
                for index, (at, line) in enumerate(zip(starts, run_lines, strict=False))
                if line in wanted
            ]
            if found:
                table[key] = found
        by_piece = {self.pieces[key]: found for key, found in table.items() if key}
        later = itertools.islice(self.pieces, 1, None)
        runs = [(0, table[0])] if 0 in table else []
        runs += (
            (run, by_piece[self.pieces[run]])
            for run in itertools.compress(itertools.count(1), map(by_piece.__contains__, later))
        )
        indices: list[int] = []
        lines: list[bytes] = []
        positions: list[int] = []
        for run, wanted_lines in runs:
            first_line, first_byte = self.line_starts[run], self._byte_start(run)
            for index, at, line in wanted_lines:
                indices.append(first_line + index)
                lines.append(line)
                positions.append(first_byte + at)
        return indices, lines, positions

    def first_lines(self, wanted: Set[bytes]) -> dict[bytes, tuple[int, int]]:
        """(start in the block, index) of the first occurrence of each `wanted` line: in the first distinct run that
        holds it (a run's first copy is the earliest place of its lines)."""
        found: dict[bytes, tuple[int, int]] = {}
        for key, lines in self.run_lines():
            start = self._byte_start(key)
            for index, line in enumerate(lines):
                if line in wanted and line not in found:
                    found[line] = (start, self.line_starts[key] + index)
                start += len(line) + 1
            if len(found) == len(wanted):
                break
        return found

    def _first_indices(self) -> dict[bytes, int]:
        pieces = self.pieces
        return dict(zip(reversed(pieces), range(len(pieces) - 1, 0, -1), strict=False))

    def _byte_start(self, run: int) -> int:
        if run == 0:
            return 0
        if self._byte_starts is None:
            self._byte_starts = list(itertools.accumulate(map(len, self.pieces), initial=0))
        return self._byte_starts[run] + run * len(self._delimiter) - len(self._start)
