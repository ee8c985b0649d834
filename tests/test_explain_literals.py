"""The analyzers' literal pre-check (rigfit/explain/literals.py) never hides a match: for every pattern the analyzers
and the log facts use, on every line of every real log and on adversarial lines (non-ASCII letters that
re.IGNORECASE folds to ASCII, lower cases that change length, long lines, literals cut by a line end), the lines it
lets through hold every line the pattern matches, and `first`/`last`/`every` return what a plain search of every
line returns."""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

import pytest

from rigfit.explain import facts, literals
from rigfit.explain.analyzers import ANALYZERS, base, memory
from rigfit.explain.literals import (
    lines_from_end,
    lines_from_start,
    lines_that_may_match,
    lines_with_number_before,
    may_match,
    required_literals,
)
from rigfit.explain.scan import LogLine
from tests.conftest import FIXTURES

LOGS = sorted((FIXTURES / "logs").rglob("*.txt"))


def patterns_of(value: Any) -> list[re.Pattern[str]]:
    if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
        return [value]
    if isinstance(value, (tuple, list)):
        return [p for item in value for p in patterns_of(item)]
    return []


def module_patterns(modules: list[ModuleType]) -> dict[str, re.Pattern[str]]:
    found = {}
    for module in modules:
        for name, value in vars(module).items():
            for i, pattern in enumerate(patterns_of(value)):
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{name}[{i}]"] = pattern
    return found


PATTERNS = module_patterns([*ANALYZERS, base, facts])


def log_lines() -> list[str]:
    texts = []
    for log in LOGS:
        for line in re.split(r"[\r\n]", log.read_text(encoding="utf-8", errors="replace")):
            if line.strip():
                texts.append(line.strip())
    return texts


def adversarial(pattern: re.Pattern[str]) -> list[str]:
    """Lines built from the pattern's own literals: exact, upper case, with a non-ASCII letter that matches an ASCII
    one under re.IGNORECASE, after a lower case that changes length, among other non-ASCII characters, padded to
    thousands of characters, and cut in two at a line end."""
    lines = []
    for literal in required_literals(pattern) or ():
        folded = literal.replace("k", "\u212a").replace("s", "\u017f").replace("i", "\u0130")
        lines += [literal, literal.upper(), folded, "\u0130" + literal, "x" * 3000 + literal + " y" * 900]
        lines += ["\u00e9 " + literal.upper() + " \u03a3\u00c9", "\u2588" * 10 + literal + "\u00d7"]  # searched lowered
        lines += [literal[: len(literal) // 2], literal[len(literal) // 2 :]]
    return lines


CORPUS = log_lines()


def test_the_corpus_is_the_real_logs() -> None:
    assert len(LOGS) > 100 and len(CORPUS) > 1000
    assert len(PATTERNS) > 50  # the analyzers' and the facts' patterns were all found


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_the_precheck_keeps_every_line_the_pattern_matches(name: str) -> None:
    pattern = PATTERNS[name]
    for texts in (CORPUS, adversarial(pattern), [*adversarial(pattern), *CORPUS[:200]]):
        matching = {i for i, text in enumerate(texts) if pattern.search(text)}
        assert matching <= set(lines_that_may_match(pattern, texts)), name
        assert all(may_match(pattern, texts[i]) for i in matching), name


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_first_last_every_equal_a_plain_search(name: str) -> None:
    pattern = PATTERNS[name]
    lines = [LogLine(n, text) for n, text in enumerate([*CORPUS, *adversarial(pattern)], 1)]
    plain = [(line, m) for line in lines if (m := pattern.search(line.text))]
    assert [(line.number, m.span(), m.groups()) for line, m in base.every(lines, pattern)] == [
        (line.number, m.span(), m.groups()) for line, m in plain
    ]
    hit_first, hit_last = base.first(lines, pattern), base.last(lines, pattern)
    assert (hit_first[0].number if hit_first else None) == (plain[0][0].number if plain else None)
    assert (hit_last[0].number if hit_last else None) == (plain[-1][0].number if plain else None)


def test_the_literals_come_from_the_pattern() -> None:
    """What the pre-check looks for: a literal every branch needs, none where a branch needs only digits."""
    # a group's ends run into the literals after it: "cuda out of memory", not every line's " out of memory"
    assert required_literals(re.compile(r"(?P<kind>CUDA|HIP|MPS backend) out of memory|oom-kill", re.I)) == (
        "cuda out of memory",
        "hip out of memory",
        "mps backend out of memory",
        "oom-kill",
    )
    assert required_literals(re.compile(r"\b(?:URL access|request) timed out\b")) == (
        "url access timed out",
        "request timed out",
    )
    assert required_literals(re.compile(r"(?:ab|)cdef")) == ("cdef",)  # an empty branch ends with nothing
    assert required_literals(re.compile(r"(?:a|b\d)xyz")) == ("xyz",)  # a branch ending with a class ends the run
    assert required_literals(re.compile(r"Illegal instruction|SIGILL|signal 4\b")) == (
        "illegal instruction",
        "sigill",
        "signal 4",
    )
    assert required_literals(re.compile(r"\b\d{3,4}\s*[x\u00d7]\s*\d{3,4}\b|width=\d+")) is None
    assert required_literals(re.compile(r"(?:lib)?cudnn")) == ("cudnn",)
    # re factors "Repository" out of both branches: the literals put it back, rather than look for "notfounderror"
    # (every ModuleNotFoundError line) or for "repository" alone
    assert required_literals(re.compile(r"RepositoryNotFoundError|Repository Not Found", re.I)) == (
        "repositorynotfounderror",
        "repository not found",
    )
    assert required_literals(re.compile(r"caf\u00e9")) == ("caf",)  # a non-ASCII letter ends the literal


def test_the_precheck_skips_lines_without_the_literals() -> None:
    pattern = re.compile(r"CUDA out of memory", re.I)
    texts = ["loading model", "torch.cuda.OutOfMemoryError: CUDA OUT OF MEMORY", "done", "caf\u00e9", "\u212a"]
    texts += ["\u2588 CUDA Out Of Memory \u00d7"]
    # a non-ASCII line is searched lower-cased, unless it holds a character that matches an ASCII letter
    assert list(lines_that_may_match(pattern, texts)) == [1, 4, 5]
    assert not may_match(pattern, "loading model")


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_lines_from_end_and_start_are_the_prechecked_lines_in_order(name: str) -> None:
    pattern = PATTERNS[name]
    for texts in (CORPUS, [*adversarial(pattern), *CORPUS[:200], ""]):
        assert list(lines_from_end(pattern, texts)) == list(reversed(lines_that_may_match(pattern, texts))), name
        assert list(lines_from_start(pattern, texts)) == list(lines_that_may_match(pattern, texts)), name


def test_a_number_before_an_x_keeps_every_resolution_line() -> None:
    """The resolution pattern has no literal; its pre-check is a digit before an x (spaces between), or "width"."""
    texts = [*CORPUS, "1024 X 768", "512\tx512", "at 512\x1fx512", "768×512", "ox 512", "x512", "512 -x 512"]
    matching = {i for i, text in enumerate(texts) if memory.RESOLUTION.search(text)}
    kept = lines_with_number_before("x", texts) | set(lines_that_may_match(memory.RESOLUTION_HINT, texts))
    assert matching <= kept
    assert {len(CORPUS) + i for i in (0, 1, 2, 3)} <= kept
    assert not kept & {len(CORPUS) + i for i in (4, 5, 6)}


STAMPED = [f"[2024-05-01 00:{n // 60 % 60:02d}:{n % 60:02d}.{n:05d}] {text}" for n, text in enumerate(CORPUS[:400] * 8)]


def test_timestamped_lines_are_searched_by_shape_first() -> None:
    """Lines that repeat once their digits are masked: a literal no shape holds is in no line, so it is not
    searched for in the lines themselves (the texts below are a few hundred shapes, well under a quarter)."""
    assert literals._folded(tuple(STAMPED))[3] is not None
    assert literals._folded(tuple(CORPUS))[3] is None  # the real logs' lines have as many shapes as lines


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_the_shape_precheck_keeps_every_line_the_pattern_matches(name: str) -> None:
    pattern = PATTERNS[name]
    texts = [*STAMPED, *(f"[00:00:{n:02d}] {text}" for n, text in enumerate(adversarial(pattern)))]
    matching = {i for i, text in enumerate(texts) if pattern.search(text)}
    assert matching <= set(lines_that_may_match(pattern, texts)), name
    assert list(lines_from_end(pattern, texts)) == list(reversed(lines_that_may_match(pattern, texts))), name
    assert list(lines_from_start(pattern, texts)) == list(lines_that_may_match(pattern, texts)), name


def test_the_known_issues_first_matching_line_is_found_from_the_start() -> None:
    """A known issue with 64+ keyword lines reads them by its patterns' literals (rigfit/explain/match.py): the first
    line a pattern matches must be the first candidate it matches."""
    from rigfit.explain.match import catalogue

    for issue in catalogue():
        for pattern in (*issue.all_of, *issue.any_of, *issue.boost):
            texts = [*CORPUS, *adversarial(pattern)]
            first = next((i for i, text in enumerate(texts) if pattern.search(text)), None)
            found = next((i for i in lines_from_start(pattern, texts) if pattern.search(texts[i])), None)
            assert found == first, (issue.entry.id, pattern.pattern)


def test_the_characters_folded_to_ascii_are_all_that_re_folds() -> None:
    """Every non-ASCII character that `re` (IGNORECASE) matches to an ASCII letter, or whose lower case holds one,
    is in FOLD_TO_ASCII: a line with any other is searched lower-cased."""
    import _sre
    from re import _casefix  # type: ignore[attr-defined]

    lowers = ((c, chr(c).lower()) for c in range(128, 0x110000))
    folds = {c for c, low in lowers if _sre.unicode_tolower(c) < 128 or any(map(str.isascii, low))}
    folds |= {c for low in range(128) for c in _casefix._EXTRA_CASES.get(low, ())}
    assert {c for c in range(128, 0x110000) if literals.FOLD_TO_ASCII.match(chr(c))} == folds
    for c in folds:
        assert re.search("[a-z]", chr(c), re.I) or any(ch.isascii() for ch in chr(c).lower())
