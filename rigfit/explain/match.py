"""Match a scanned log against the known-issue catalogue and write each explanation with the facts at hand."""

from __future__ import annotations

import contextlib
import functools
import gc
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from rigfit.explain.analyzers import Finding, analyze, context_keywords
from rigfit.explain.analyzers import keywords as analyzer_keywords
from rigfit.explain.analyzers.base import as_user_sees
from rigfit.explain.facts import LOG_FACT_KEYWORDS, Facts, log_facts, merge_facts, profile_facts
from rigfit.explain.fallback import FALLBACK_KEYWORDS, announcements, worked_around
from rigfit.explain.literals import lines_from_start
from rigfit.explain.scan import KeywordScanner, LogLine, LogScan, read_blocks
from rigfit.kb.issues import Condition, IssueEntry, Range, placeholders
from rigfit.kb.loader import load_entries
from rigfit.plan.knowledge import pins
from rigfit.probe.profile import Profile
from rigfit.records import field, record

SUPERSEDED_FACTOR = 0.5  # a vaguer issue explained by a more specific one that also matched
CONTRADICTED_FACTOR = 0.5  # the profile says this machine is not the kind the issue happens on
CONFIRMED_BONUS = 0.1
BOOST_STEP = 0.05
MAX_BOOST = 0.15
# an issue's keyword lines from which its patterns' literals are checked first (a pattern's literals are parsed
# once, ~0.3 ms: a small log's few lines are read by the regexes at once; a log with a timestamp on every line
# hands an issue 1,000+ lines of a generic keyword, "no such file or directory", "pyd" in "pydantic")
LITERALS_PAY_FROM = 64


@record(frozen=True)
class CompiledIssue:
    entry: IssueEntry
    keywords: frozenset[str]
    all_of: tuple[re.Pattern[str], ...]
    any_of: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    boost: tuple[re.Pattern[str], ...]


@record
class Explanation:
    id: str
    title: str
    cause: str
    fix: str
    source: list[str]
    confidence: float
    evidence: list[LogLine] = field(default_factory=list)
    profile_agrees: bool | None = None  # None: no profile, or the issue says nothing about machines
    facts: dict[str, str] = field(default_factory=dict)  # the structured facts read from the log (class analyzers)
    kind: str = "known"  # "known": a catalogued issue; "class": an analyzer's reading of a class of failure


@record
class Result:
    explanations: list[Explanation]
    scan: LogScan


@functools.cache
def catalogue() -> tuple[CompiledIssue, ...]:
    """Every known issue, validated (rigfit/kb/issues/*.yaml) and compiled once."""

    def compiled(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.I) for p in patterns)

    return tuple(
        CompiledIssue(
            entry=e,
            keywords=frozenset(k.lower() for k in e.keywords),
            all_of=compiled(e.all_of),
            any_of=compiled(e.any_of),
            unless=compiled(e.unless),
            boost=compiled(e.boost),
        )
        for e in load_entries("issues/*.yaml", IssueEntry)
    )


# the ends of Python's own exception messages, pasted without their "TypeError:"/"AttributeError:" head (a UI's
# popup, a report's "Exception Message:" field), a Rust tool's "os error N", or a C++ library's failed check pasted
# alone ("src/file.cc(238) [condition]": sentencepiece, absl; "cc(" after the "." that ends the file's name): where
# no rule answers, these lines are the error rigfit quotes (render_nothing), like the lines holding an ERROR_WORDS word
MESSAGE_WORDS = (
    "unexpected keyword argument", "required positional argument", "object is not subscriptable",
    "object is not callable", "object is not iterable", "has no attribute", "os error", "**exception message", "cc(",
)  # fmt: skip


@functools.cache
def scanner() -> KeywordScanner:
    keywords = {k for issue in catalogue() for k in issue.keywords} | analyzer_keywords() | set(MESSAGE_WORDS)
    return KeywordScanner(keywords, context_keywords() | set(LOG_FACT_KEYWORDS) | set(FALLBACK_KEYWORDS))


def explain_stream(stream: BinaryIO, profile: Profile | None = None) -> Result:
    """Read a whole log (any size) and explain it."""
    with _no_cycle_collection():
        return explain_scan(scanner().scan(read_blocks(stream)), profile)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector off while a log is read and matched: the scan and the match make no cycles, but a log
    with a timestamp on every line keeps 20,000 lines (tuples, LogLines, their index), whose allocations set off
    ~180 collections that walked them all again: ~10% of the CPU time on that log (round xspeed8)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def explain_text(text: str, profile: Profile | None = None) -> Result:
    return explain_scan(scanner().scan([text.encode("utf-8", errors="replace")]), profile)


def explain_scan(scan: LogScan, profile: Profile | None) -> Result:
    from_log, from_profile = log_facts(scan), profile_facts(profile)
    found: list[Explanation] = []
    claims: list[tuple[Explanation, tuple[str, ...]]] = []  # an answer and the ids of the vaguer answers it says
    contradicted: set[str] = set()
    index = scan.keyword_index()
    for issue in catalogue():
        explanation = _match(issue, _with_keyword(index, issue.keywords), from_log, from_profile)
        if explanation is not None:
            found.append(explanation)
            claims.append((explanation, tuple(issue.entry.supersedes)))
    facts = merge_facts(from_log, from_profile, {})
    for finding in analyze(scan, facts):
        _share_facts(finding, found)
        found.append(explanation := _from_finding(finding))
        claims.append((explanation, finding.supersedes))
        contradicted.update(finding.contradicts)
    found = [e for e in found if e.kind != "known" or e.id not in contradicted]
    superseded = _superseded(claims)  # a vaguer answer's id -> the lines the answers that supersede it explain
    # a vaguer answer about no other line than the ones a more precise answer explains only repeats it, or contradicts
    # it (the generic "model not in list" fix after "the file is installed, pick the listed entry"): dropped; one that
    # also explains other lines is kept, ranked lower
    found = [e for e in found if not (e.id in superseded and _covered(e.evidence, superseded[e.id]))]
    if found and (announced := announcements(scan.lines.values())):
        found = [e for e in found if not worked_around(e.evidence, announced)]
    for explanation in found:
        if explanation.id in superseded:
            explanation.confidence = round(explanation.confidence * SUPERSEDED_FACTOR, 2)
    found.sort(key=lambda e: (-e.confidence, -max(line.number for line in e.evidence)))
    return Result(_without_bare_repeats(found), scan)


def _without_bare_repeats(found: list[Explanation]) -> list[Explanation]:
    """A class answer that read no fact of its own (the generic reading of a line: "SIGILL in a native library", "no
    GPU code for this card's compute capability" with no card) about no line a higher-ranked known answer does not
    explain only repeats that answer: dropped."""
    known = [(_lines(e), e.confidence) for e in found if e.kind == "known"]
    return [
        e
        for e in found
        if e.kind != "class" or e.facts or not any(_lines(e) <= lines and c > e.confidence for lines, c in known)
    ]


def _lines(explanation: Explanation) -> set[int]:
    return {line.number for line in explanation.evidence}


def _superseded(claims: Iterable[tuple[Explanation, tuple[str, ...]]]) -> dict[str, list[LogLine]]:
    """Each vaguer answer's id -> the lines the answers that say it more precisely explain. A known issue may name
    the class answer it says more precisely (cuda-out-of-memory: the generic gpu-out-of-memory); a class answer
    that read facts changing the fix names the known issue in turn (the model, the card's gfx): of two answers that
    claim each other, the class answer's reading of this log wins and the catalogue's claim is void."""
    by_class = {by.id: set(ids) for by, ids in claims if by.kind == "class"}
    superseded: dict[str, list[LogLine]] = {}
    for by, ids in claims:
        for vaguer in ids:
            if not (by.kind == "known" and by.id in by_class.get(vaguer, ())):
                superseded.setdefault(vaguer, []).extend(by.evidence)
    return superseded


# the head of a Python exception ("RuntimeError: ", "torch.OutOfMemoryError: ") before the message it prints
_EXCEPTION_HEAD = re.compile(r"^(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception):\s*")
SAME_MESSAGE_FROM = 20  # characters: a shorter text ("Traceback", "Error code: 128") is no message of its own


def _covered(lines: list[LogLine], by: list[LogLine]) -> bool:
    """Every line of `lines` is one of `by`, or prints the same message as one of them: a log repeats its error (the
    exception, then the UI's "Cannot import X: <the same message>", a docker service's prefixed copy), and two
    answers reading the same failure may each cite another copy."""
    numbers = {line.number for line in by}
    messages = [_message(line.text) for line in by]
    own = [_message(line.text) for line in lines if line.number not in numbers]
    return all(any(_same_message(text, other) for other in messages) for text in own)


def _message(text: str) -> str:
    return _EXCEPTION_HEAD.sub("", text.strip(), count=1)


def _same_message(one: str, other: str) -> bool:
    shorter, longer = sorted((one, other), key=len)
    return len(shorter) >= SAME_MESSAGE_FROM and shorter in longer


def _share_facts(finding: Finding, known: list[Explanation]) -> None:
    """A known issue matched on the same lines as a class analyzer also carries the facts the analyzer read."""
    lines = {line.number for line in finding.evidence}
    for explanation in known:
        if explanation.kind == "known" and lines & {line.number for line in explanation.evidence}:
            for name, value in finding.facts.items():
                explanation.facts.setdefault(name, value)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "`", ")")) else text + "."


def _from_finding(finding: Finding) -> Explanation:
    return Explanation(
        id=finding.id,
        title=finding.title,
        cause=_sentence(finding.cause),
        fix=_sentence(finding.fix),
        source=finding.source,
        confidence=finding.confidence,
        evidence=sorted(finding.evidence, key=lambda line: line.number),
        facts=finding.facts,
        kind="class",
        profile_agrees=finding.profile_agrees,
    )


def _with_keyword(index: dict[str, list[tuple[int, LogLine]]], keywords: frozenset[str]) -> list[LogLine]:
    """The kept lines holding one of `keywords`, in the order they were kept."""
    found: dict[int, LogLine] = {}
    for keyword in keywords:
        found.update(index.get(keyword, ()))
    return [found[position] for position in sorted(found)]


def _match(issue: CompiledIssue, lines: list[LogLine], from_log: Facts, from_profile: Facts) -> Explanation | None:
    if not lines:
        return None
    groups: Facts = {}
    evidence: dict[int, LogLine] = {}

    texts = [line.text for line in lines] if len(lines) >= LITERALS_PAY_FROM else None

    def first_hit(pattern: re.Pattern[str]) -> bool:
        for i in range(len(lines)) if texts is None else lines_from_start(pattern, texts):
            line = lines[i]
            if match := pattern.search(line.text):
                evidence.setdefault(line.number, line)
                for name, value in match.groupdict().items():
                    groups.setdefault(name, as_user_sees(value) if value else value)
                return True
        return False

    if not all(first_hit(p) for p in issue.all_of):
        return None
    if issue.any_of and not any([first_hit(p) for p in issue.any_of]):
        return None
    if any(p.search(line.text) for p in issue.unless for line in lines):
        return None
    boosts = sum(first_hit(p) for p in issue.boost)
    facts = merge_facts(from_log, from_profile, groups) | pin_facts(issue.entry.pins)
    entry = issue.entry
    confidence = entry.confidence + min(boosts * BOOST_STEP, MAX_BOOST)
    agrees = _profile_agrees(entry, facts)
    if agrees is True:
        confidence += CONFIRMED_BONUS
    elif agrees is False:
        confidence *= CONTRADICTED_FACTOR
    cause, fix = _texts(entry, facts)
    return Explanation(
        id=entry.id,
        title=entry.title,
        cause=cause,
        fix=fix,
        source=entry.sources,
        confidence=round(min(confidence, 0.99), 2),
        evidence=sorted(evidence.values(), key=lambda line: line.number),
        profile_agrees=agrees,
    )


def pin_facts(pin_ids: list[str]) -> Facts:
    """The fix of the pins an issue names, from rigfit/kb/pins.yaml: explain and plan give the same answer."""
    if not pin_ids:
        return {}
    known = {p.id: p for p in pins()}
    named = [known[i] for i in pin_ids if i in known]
    if not named:
        return {}
    first, others = named[0], named[1:]
    also = "; ".join(f"`{p.package}{p.spec}` when {p.when} ({p.fix})" for p in others)
    return {"pin_fix": first.fix, "pin_spec": f"{first.package}{first.spec}", "pins_also": also}


def _profile_agrees(entry: IssueEntry, facts: Facts) -> bool | None:
    """True when every condition holds, False when one is known to fail, None when the facts are missing."""
    verdicts = [holds(condition, facts.get(name)) for name, condition in entry.when.items()]
    if False in verdicts:
        return False
    return True if verdicts and all(v is True for v in verdicts) else None


def holds(condition: Condition, value: object) -> bool | None:
    """Whether a fact satisfies a `when` condition; None when the fact is unknown."""
    if value is None:
        return None
    if isinstance(condition, Range):
        number = _as_float(value)
        if number is None:
            return None
        return (condition.min is None or number >= condition.min) and (condition.max is None or number <= condition.max)
    if isinstance(condition, list):
        return any(_same(value, c) for c in condition)
    return _same(value, condition)


def _same(value: object, expected: object) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    if isinstance(expected, (int, float)):
        return _as_float(value) == float(expected)
    return str(value).lower() == str(expected).lower()


def _as_float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _texts(entry: IssueEntry, facts: Facts) -> tuple[str, str]:
    """The first variant whose conditions hold and whose placeholders all have values overrides the default."""
    cause, fix = entry.cause, entry.fix
    for variant in entry.variants:
        texts = [t for t in (variant.cause, variant.fix) if t is not None]
        if all(holds(c, facts.get(n)) is True for n, c in variant.when.items()) and all(
            placeholders(t) <= facts.keys() for t in texts
        ):
            cause = variant.cause or cause
            fix = variant.fix or fix
            break
    return _render(cause, facts), _render(fix, facts)


def _render(template: str, facts: Facts) -> str:
    return template.format_map({k: _shown(v) for k, v in facts.items()}).strip()


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    return str(value)


__all__ = ["MESSAGE_WORDS", "Explanation", "Result", "catalogue", "explain_stream", "explain_text", "holds"]
