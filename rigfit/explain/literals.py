"""The literal text every match of a regex must contain, so that a plain substring test skips the lines it cannot
match before the regex runs.

Python's `re` has no fast skip for a case-insensitive alternation: it tries every branch at every position of the
line (~15 µs on a 100-character line). A log with a timestamp on every line keeps thousands of distinct lines that
each analyzer pattern reads; a substring test on the lower-cased line costs well under 1 µs. The literals are read
from the pattern's own parse tree (`re`'s parser), so they cannot drift from the pattern: a pattern whose every
match holds one of ("out of memory", "oom-kill") is tried only on lines that hold one of them. A pattern with a branch
that needs no literal (digits only, a character class) gets no literals and always runs.

Only ASCII literals are taken. With re.IGNORECASE four non-ASCII characters match ASCII letters (the Kelvin sign
matches "k", the long s "ſ" "s", the dotless ı and the dotted İ "i": `FOLD_TO_ASCII`), so a line holding one of them
is always handed to the regex; in any other line a match's literals are ASCII characters of the line, so it is
searched as an ASCII one, its non-ASCII characters replaced.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import importlib
import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from typing import Any

try:
    sre_parse = importlib.import_module("re._parser")  # Python 3.11 and later
except ImportError:  # pragma: no cover - Python 3.10
    sre_parse = importlib.import_module("sre_parse")

SHAPE = str.maketrans("123456789", "000000000")
ASCII_SHAPE = bytes.maketrans(b"123456789", b"000000000")  # the same on ASCII bytes (str.translate: ~4x the cost)
# the non-ASCII characters `re` matches to an ASCII literal under IGNORECASE (their simple lower case is ASCII, or
# re._casefix lists them beside an ASCII letter), and the one whose full lower case holds an ASCII letter (İ: "i̇")
FOLD_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
# the other non-ASCII characters, each searched as a NUL (the lowered text stays one byte a character, and a
# literal is found where it was)
NON_ASCII = re.compile("[^\0-\x7f]")
SHAPES_PAY_BELOW = 0.25  # the share of the texts' length under which their distinct shapes are searched first
_LITERAL, _AT, _SUBPATTERN, _BRANCH = sre_parse.LITERAL, sre_parse.AT, sre_parse.SUBPATTERN, sre_parse.BRANCH
_ATOMIC = getattr(sre_parse, "ATOMIC_GROUP", None)  # Python 3.11 and later, as POSSESSIVE_REPEAT
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", sre_parse.MAX_REPEAT)}


@functools.cache
def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case ASCII strings one of which is in the text of every match of `pattern`; None when no such set
    can be told (a branch made only of classes, repeats that may be empty...)."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, TypeError):  # pragma: no cover - the pattern compiled, so it parses
        return None
    return _sequence(list(parsed))


def may_match(pattern: re.Pattern[str], text: str) -> bool:
    """False only when `pattern` cannot match `text`: an ASCII line holding none of the pattern's literals."""
    needs = required_literals(pattern)
    if needs is None or not text.isascii():
        return True
    lowered = text.lower()
    return any(literal in lowered for literal in needs)


def lines_that_may_match(pattern: re.Pattern[str], texts: Sequence[str]) -> Sequence[int]:
    """The indices (ascending) of the texts `pattern` may match: every text with one of its literals, and every
    non-ASCII text. The literals are looked for in one lower-cased copy of all the texts, so the cost is a few
    substring searches per pattern, not a Python step per line."""
    needs = required_literals(pattern)
    if needs is None:
        return range(len(texts))
    always, lowered, starts, shapes = _folded_texts(texts)
    found = set(always)
    for literal in needs:
        pos = lowered.find(literal) if _may_hold(shapes, literal) else -1
        while pos >= 0:
            line = bisect.bisect_right(starts, pos) - 1
            found.add(line)
            pos = lowered.find(literal, starts[line + 1] if line + 1 < len(starts) else len(lowered))
    return sorted(found)


def lines_from_end(pattern: re.Pattern[str], texts: Sequence[str]) -> Iterator[int]:
    """The indices of `lines_that_may_match`, descending, found lazily from the end (bytes.rfind per literal): a
    reader that wants the last matching line stops at it, without finding every occurrence of a common literal."""
    needs = required_literals(pattern)
    if needs is None:
        yield from reversed(range(len(texts)))
        return
    always, lowered, starts, shapes = _folded_texts(texts)
    runs = [_descending(literal, lowered, starts) for literal in needs if _may_hold(shapes, literal)]
    previous = -1
    for index in heapq.merge(sorted(always, reverse=True), *runs, reverse=True):
        if index != previous:
            yield index
            previous = index


def lines_from_start(pattern: re.Pattern[str], texts: Sequence[str]) -> Iterator[int]:
    """The indices of `lines_that_may_match`, ascending, found lazily (str.find per literal): a reader that wants
    the first matching line stops at it, without finding every occurrence of a common literal."""
    needs = required_literals(pattern)
    if needs is None:
        yield from range(len(texts))
        return
    always, lowered, starts, shapes = _folded_texts(texts)
    runs = [_ascending(literal, lowered, starts) for literal in needs if _may_hold(shapes, literal)]
    previous = -1
    for index in heapq.merge(sorted(always), *runs):
        if index != previous:
            yield index
            previous = index


def lines_holding(literals: Sequence[str], texts: Sequence[str]) -> list[int]:
    """The indices (ascending) of the texts holding one of `literals` (lower-case ASCII) in any case, and of the
    texts `_folded` always hands on."""
    always, lowered, starts, _ = _folded_texts(texts)
    found = set(always).union(*(_ascending(literal, lowered, starts) for literal in literals))
    return sorted(found)


def holds_any(literals: Sequence[str], texts: Sequence[str]) -> bool:
    """Whether `lines_holding` would find a text: one substring search per literal, which stops at its first
    hit (a table's signals are in hundreds of a timestamped log's lines, each found by `lines_holding`)."""
    always, lowered, _, shapes = _folded_texts(texts)
    return bool(always) or any(_may_hold(shapes, literal) and literal in lowered for literal in literals)


def lines_with_number_before(mark: str, texts: Sequence[str]) -> set[int]:
    """The indices of the texts in which `mark` (lower-case ASCII) follows a digit, spaces between or not, and of
    every non-ASCII text (a non-ASCII digit, space or "×" may make the match): the lines a pattern like
    `\\d+\\s*x\\d+` ("512x768") may match, though it has no literal (an "x" alone is in every other line of a log)."""
    _, lowered, starts, _ = _folded_texts(texts)
    found = set(itertools.compress(itertools.count(), map(operator.not_, map(str.isascii, texts))))
    backwards = lowered[::-1]  # read from the mark back, the engine finds the mark by its fast literal search
    for hit in _number_before(mark[::-1]).finditer(backwards):
        found.add(bisect.bisect_right(starts, len(lowered) - 1 - hit.start()) - 1)
    return found


@functools.cache
def _number_before(backwards_mark: str) -> re.Pattern[str]:
    """Backwards: a mark, ASCII spaces but no newline (what str.isspace takes in ASCII), then a digit."""
    return re.compile(re.escape(backwards_mark) + "[\\t\\x0b\\x0c\\r\\x1c-\\x1f ]*[0-9]")


def _ascending(literal: str, lowered: str, starts: list[int]) -> Iterator[int]:
    pos = lowered.find(literal)
    while pos >= 0:
        line = bisect.bisect_right(starts, pos) - 1
        yield line
        if line + 1 >= len(starts):
            return
        pos = lowered.find(literal, starts[line + 1])  # the next hit is in a later line


def _descending(literal: str, lowered: str, starts: list[int]) -> Iterator[int]:
    end = len(lowered)
    while (pos := lowered.rfind(literal, 0, end)) >= 0:
        line = bisect.bisect_right(starts, pos) - 1
        yield line
        end = starts[line] - 1  # the newline before the line: the next hit is in an earlier line
        if end < 0:
            return


def _may_hold(shapes: str | None, literal: str) -> bool:
    """False when no text holds `literal`, told from the texts' distinct shapes (None: the texts were not shaped)."""
    return shapes is None or literal.translate(SHAPE) in shapes


Folded = tuple[frozenset[int], str, list[int], str | None]
# the sequences `_folded_texts` read last, by identity: (texts, their length, their folding)
_RECENT: list[tuple[Sequence[str], int, Folded]] = []
RECENT_KEPT = 8


def _folded_texts(texts: Sequence[str]) -> Folded:
    """`_folded` of `texts`, found by the identity of the sequence when it was read lately (the caller's list is
    not changed while it is read): `_folded`'s cache key is a tuple of every text, whose hash and comparison cost
    ~0.4 ms per pattern on 20,000 lines, paid again by every pattern a vocabulary adds (round xspeed10)."""
    for seen, size, folded in _RECENT:
        if seen is texts and size == len(texts):
            return folded
    folded = _folded(tuple(texts))
    _RECENT.insert(0, (texts, len(texts), folded))
    del _RECENT[RECENT_KEPT:]
    return folded


# the analyzers read the same lines with ~40 patterns in a row; a known issue its keyword lines with a few
@functools.lru_cache(maxsize=8)
def _folded(texts: tuple[str, ...]) -> Folded:
    """The texts always tried (one with a character of `FOLD_TO_ASCII`), the others lower-cased in one string (the
    former left empty, the other non-ASCII characters as NULs), where each text starts in it, and their distinct shapes
    (digits masked) in one string when they are few: a log with a timestamp on every line keeps 20,000 lines of a
    few hundred shapes, and most literals are in none of them, which a search of the shapes tells at a fraction of
    the cost."""
    always: frozenset[int] = frozenset()
    if not all(map(str.isascii, texts)):
        others = list(itertools.compress(itertools.count(), map(operator.not_, map(str.isascii, texts))))
        searched = {i: NON_ASCII.sub("\0", texts[i]) for i in others if not FOLD_TO_ASCII.search(texts[i])}
        always = frozenset(others).difference(searched)
        replaced = list(texts)  # only the non-ASCII texts change (a Python step for each of 20,000 cost ~7 ms)
        for i in others:
            replaced[i] = searched.get(i, "")
        texts = tuple(replaced)
    starts = list(itertools.accumulate(map((1).__add__, map(len, texts[:-1])), initial=0))
    lowered = "\n".join(texts).lower()
    # `lowered` is ASCII (the other characters are NULs or their text left out), so it is shaped as bytes
    shaped = lowered.encode("ascii").translate(ASCII_SHAPE).decode("ascii")
    shapes = "\n".join(dict.fromkeys(shaped.split("\n")))
    return always, lowered, starts, shapes if len(shapes) <= len(lowered) * SHAPES_PAY_BELOW else None


def _sequence(items: list[tuple[Any, Any]]) -> tuple[str, ...] | None:
    """The best requirement of a sequence of items: its longest run of ASCII literals, or a group's requirement."""
    candidates: list[tuple[str, ...]] = []
    run = ""
    group: tuple[Any, Any] | None = None  # the group right before the run (anchors between), whose ends run into it
    for op, arg in items:
        if op == _LITERAL and arg < 128:
            run += chr(arg).lower()
            continue
        if op == _AT:  # an anchor takes no text: the literals on both sides are adjacent in the match
            continue
        if run and op in (_BRANCH, _SUBPATTERN):  # "Repository(?:NotFoundError| Not Found)", "installation: (torch|"
            candidates.append(_joined(run, [(op, arg)]))
        if run:
            candidates.extend(_runs(group, run))
            run = ""
        group = (op, arg) if op in (_BRANCH, _SUBPATTERN) else None
        if (inner := _item(op, arg)) is not None:
            candidates.append(inner)
    if run:
        candidates.extend(_runs(group, run))
    if not candidates:
        return None
    # the alternative whose shortest literal is longest is the rarest in a log; fewer literals test faster
    return max(candidates, key=lambda c: (min(len(s) for s in c), -len(c)))


def _joined(run: str, items: list[tuple[Any, Any]]) -> tuple[str, ...]:
    """`run` joined to the literals every match of `items` (which follow it in the pattern) starts with, branch by
    branch and into groups (the literals one group is matched once with are adjacent in the match)."""
    lead = _leading(items)
    if lead or not items:
        return (run + lead,)
    op, arg = items[0]
    if op == _BRANCH:
        return tuple(dict.fromkeys(s for branch in arg[1] for s in _joined(run, list(branch))))
    if op == _SUBPATTERN:
        return _joined(run, list(arg[-1]))
    return (run,)


def _runs(group: tuple[Any, Any] | None, run: str) -> list[tuple[str, ...]]:
    """The requirements of a run of literals: the run, and the run joined to the ends of the group right before it
    ("(?:URL access|request) timed out": "url access timed out", "request timed out", not " timed out", which
    hundreds of a timestamped log's lines hold, round xspeed12)."""
    return [(run,)] if group is None else [(run,), _ending([group], run)]


def _ending(items: list[tuple[Any, Any]], run: str) -> tuple[str, ...]:
    """The literals every match of `items` (which `run` follows in the pattern) ends with, joined to `run`, branch
    by branch and into groups, as `_joined` joins a run to what follows it."""
    trail = _trailing(items)
    if trail or not items:
        return (trail + run,)
    op, arg = items[-1]
    if op == _BRANCH:
        return tuple(dict.fromkeys(s for branch in arg[1] for s in _ending(list(branch), run)))
    if op == _SUBPATTERN:
        return _ending(list(arg[-1]), run)
    return (run,)


def _trailing(items: list[tuple[Any, Any]]) -> str:
    """The ASCII literals a sequence ends with (every match of it ends with them)."""
    return _leading(items[::-1])[::-1]


def _leading(items: list[tuple[Any, Any]]) -> str:
    """The ASCII literals a sequence starts with (every match of it starts with them)."""
    lead = ""
    for op, arg in items:
        if op == _AT:
            continue
        if op != _LITERAL or arg >= 128:
            break
        lead += chr(arg).lower()
    return lead


def _item(op: Any, arg: Any) -> tuple[str, ...] | None:
    if op == _SUBPATTERN:
        return _sequence(list(arg[-1]))
    if _ATOMIC is not None and op == _ATOMIC:
        return _sequence(list(arg))
    if op in _REPEATS and arg[0] >= 1:
        return _sequence(list(arg[2]))
    if op == _BRANCH:
        branches = [_sequence(list(branch)) for branch in arg[1]]
        if any(b is None for b in branches):
            return None
        return tuple(dict.fromkeys(s for b in branches if b is not None for s in b))
    return None


__all__ = [
    "lines_from_end",
    "lines_from_start",
    "lines_holding",
    "lines_that_may_match",
    "lines_with_number_before",
    "may_match",
    "required_literals",
]
