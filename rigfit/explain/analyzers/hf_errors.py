"""Errors of the Hugging Face loading stack (huggingface_hub, transformers, diffusers, safetensors, hf_transfer,
hf_xet) that SD/Flux/video UIs and trainers load models through: the last line one of rigfit/kb/hf_errors.yaml's
patterns matches is the error; its named groups (repo id, file, folder, status...) are the facts, written into the
entry's meaning and fix. Below every specific rule: an entry another rule answers (`answered_by`, when
`answered_when` is near the line) gets nothing here."""

from __future__ import annotations

import functools
import re
import string

from rigfit.explain.analyzers.base import VOCABULARY_CONFIDENCE, Finding, answered_elsewhere, last
from rigfit.explain.analyzers.context import Context
from rigfit.explain.scan import LogLine
from rigfit.kb.error_codes import HfError
from rigfit.kb.loader import load_entries

# every entry's `signals` (tests/test_explain_hf_errors.py checks that this holds them all)
SIGNALS = (
    "repo id must", "repository not found for url", "cannot access gated repo", "you are trying to access a gated repo",
    "revision not found for url", "is not a valid git identifier", "entry not found for url",
    "404 client error: not found for url", "404 not found' for url", "429 too many requests' for url",
    "(429 too many requests)", "for url 'https://huggingface.co",
    "cannot find the requested file", "trying to locate the file", "cannot find an appropriate cached snapshot",
    "couldn't find it in the cached files", "couldn't find them in the cached files", "too many requests for url",
    "for url: https://huggingface.co", "invalid user token", "invalid credentials in authorization header",
    "invalid username or password", "but no token found", "localtokennotfounderror", "consistency check failed",
    "not enough free disk space", "distant resource does not seem to be on", "'hf_transfer' package is not available",
    "downloading using `hf_transfer`", "cas service error", "is not a valid model identifier",
    "does not appear to have a file named", "does not appear to have files named",
    "no file named", "is a gated repository", "is not a local folder or a valid repository name",
    "but no such modeling files are available", "check cache directory permissions", "were passed",
    "can't load tokenizer for", "can't load config for",
    "can't load the model for", "can't load image processor", "can't load feature extractor",
    "can't load processor for",
    "does not recognize this architecture", "should have a `model_type` key",
    "contains custom code which must be executed", "requires you to execute the configuration file",
    "requires you to execute custom code", "due to a serious vulnerability issue in", "expected shape",
    "error while deserializing header",
    "file does not contain tensor", "incomplete", "failed to import diffusers.", "failed to import transformers.",
)  # fmt: skip
KEYWORDS: tuple[str, ...] = ()
CONTEXT = ('file "',)

# what a text names when the log does not show that fact
UNKNOWN = {
    "repo": "the model the log names",
    "path": "the folder the log names",
    "file": "the file the log names",
    "what": "files",
}
QUOTES = "'\"`"
WRAPPED_WITHIN = 2  # lines after a wrapper's line that may hold the error it wraps


@functools.cache
def table() -> tuple[tuple[HfError, tuple[re.Pattern[str], ...]], ...]:
    return tuple(
        (entry, tuple(re.compile(p, re.I) for p in entry.patterns)) for entry in load_entries("hf_errors.yaml", HfError)
    )


SIGNAL_SET = frozenset(SIGNALS)


def analyze(ctx: Context) -> list[Finding]:
    # every line an entry's pattern can match holds one of its signals, so the scanner tagged it with it: the ~60
    # patterns run on those lines only (a log with a timestamp on every line keeps up to 20,000 lines)
    hit = _last_error([line for line in ctx.lines if not SIGNAL_SET.isdisjoint(line.keywords)], ctx.lines)
    if hit is None:
        return []
    entry, line, m, wrapped = hit
    if answered_elsewhere(entry.answered_by, entry.answered_when, ctx.lines, line):
        return []
    if entry.not_when and answered_elsewhere("a warning", entry.not_when, ctx.lines, line):
        return []
    return [_finding(ctx, entry, line, m, wrapped)]


Hit = tuple[HfError, LogLine, re.Match[str], re.Match[str] | None]


def _last_error(lines: list[LogLine], every: list[LogLine]) -> Hit | None:
    """The entry whose pattern matches the latest line (the first entry in the table on the same line); an entry
    with `then` only when one of the next lines holds the wrapped error it names."""
    best: Hit | None = None
    for entry, patterns in table():
        for pattern in patterns:
            found = last(lines, pattern)
            wrapped = _wrapped(entry, found[0], every) if found else None
            if found and (entry.then is None or wrapped) and (best is None or found[0].number > best[1].number):
                best = (entry, found[0], found[1], wrapped)
    return best


def _wrapped(entry: HfError, at: LogLine, every: list[LogLine]) -> re.Match[str] | None:
    """The match of the entry's `then` on one of the lines right after `at` (the error a wrapper announces)."""
    if entry.then is None:
        return None
    after = (ln for ln in every if at.number < ln.number <= at.number + WRAPPED_WITHIN)
    return next((m for ln in after if (m := re.search(entry.then, ln.text, re.I))), None)


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return UNKNOWN.get(key, f"the {key} the log names")


def _facts(m: re.Match[str]) -> dict[str, str]:
    """The groups the line filled in (a group named x2 is an alternative spelling of x)."""
    found: dict[str, str] = {}
    for name, value in m.groupdict().items():
        if value is not None and not value.strip() and name == "repo":
            found["repo"] = ""  # printed empty: the program passed an empty model name
        elif value and value.strip(QUOTES + " "):
            text = value.strip(QUOTES + " ").rstrip(".").replace("\\\\", "\\")  # a repr() doubles backslashes
            found.setdefault(name.rstrip("0123456789"), text)
    return found


def _finding(ctx: Context, entry: HfError, line: LogLine, m: re.Match[str], wrapped: re.Match[str] | None) -> Finding:
    facts = {**(_facts(wrapped) if wrapped else {}), **_facts(m)}
    fill = _Facts(facts, pip=ctx.pip())
    formatter = string.Formatter()
    return Finding(
        "hf-error",
        formatter.vformat(entry.title, (), fill),
        formatter.vformat(entry.meaning, (), fill),
        formatter.vformat(entry.fix, (), fill),
        [line],
        {**facts, "error": entry.id, "library": entry.library},
        entry.sources,
        confidence=VOCABULARY_CONFIDENCE,
        supersedes=tuple(entry.supersedes),
    )
