"""Errors of the Hugging Face loading stack (huggingface_hub, transformers, diffusers, safetensors, hf_transfer,
hf_xet) that SD/Flux/video UIs and trainers load models through: the last line one of rigfit/kb/hf_errors.yaml's
patterns matches is the error (the table reader of messages.py, case-insensitive); its named groups (repo id, file,
folder, status...) are the facts, written into the entry's meaning and fix. Below every specific rule: an entry
another rule answers (`answered_by`, when `answered_when` is near the line) or a warning recovered from (`not_when`)
gets nothing here."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import VOCABULARY_CONFIDENCE, Finding
from rigfit.explain.analyzers.context import Context
from rigfit.explain.analyzers.messages import answered, fact_name, filled, last_message, table, wrapped
from rigfit.explain.scan import LogLine
from rigfit.kb.error_codes import ToolMessage

# every entry's `signals` (tests/test_explain_hf_errors.py checks that this holds them all)
# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("hf-error",)

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
    "model_proto-", "could not parse modelproto",
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


SIGNAL_SET = frozenset(SIGNALS)


def analyze(ctx: Context) -> list[Finding]:
    # every line an entry's pattern can match holds one of its signals, so the scanner tagged it with it: the ~60
    # patterns run on those lines only (a log with a timestamp on every line keeps up to 20,000 lines)
    lines = [line for line in ctx.lines if not SIGNAL_SET.isdisjoint(line.keywords)]
    if not lines:  # the table is compiled for a log that may hold one of its messages only
        return []
    hit = last_message(lines, table("hf_errors.yaml", ignore_case=True), ctx.lines)
    if hit is None or answered(ctx, hit[0].entry, hit[1]):
        return []
    message, line, m = hit
    return [_finding(ctx, message.entry, line, m, wrapped(message, line, ctx.lines))]


def _facts(m: re.Match[str]) -> dict[str, str]:
    """The groups the line filled in, by fact_name (the first wording that read a fact), without quotes."""
    found: dict[str, str] = {}
    for name, value in m.groupdict().items():
        if value is not None and not value.strip() and name == "repo":
            found["repo"] = ""  # printed empty: the program passed an empty model name
        elif value and value.strip(QUOTES + " "):
            text = value.strip(QUOTES + " ").rstrip(".").replace("\\\\", "\\")  # a repr() doubles backslashes
            found.setdefault(fact_name(name), text)
    return found


def _finding(ctx: Context, entry: ToolMessage, line: LogLine, m: re.Match[str], inner: re.Match[str] | None) -> Finding:
    facts = {**(_facts(inner) if inner else {}), **_facts(m)}
    values = {**facts, "pip": ctx.pip()}

    def value(name: str) -> str:
        return values[name] if name in values else UNKNOWN.get(name, f"the {name} the log names")

    return Finding(
        "hf-error",
        filled(entry.title, value),
        filled(entry.meaning, value),
        filled(entry.fix, value),
        [line],
        {**facts, "error": entry.id, "library": entry.tool},
        entry.sources,
        confidence=VOCABULARY_CONFIDENCE,
        supersedes=tuple(entry.supersedes),
    )
