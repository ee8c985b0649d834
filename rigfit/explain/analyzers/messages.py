"""The reader shared by the tool-vocabulary analyzers (torch_errors.py, comfyui_errors.py, hf_errors.py): a table of
a tool's own error messages (rigfit/kb/<tool>_errors.yaml, schema ToolMessage) and the last message of the table in
the log (the one that stopped the run), unless another rule answers it (`answered_by`) or it was a warning recovered
from (`not_when`). For torch and ComfyUI (analyze_table): its facts read from the message and the lines just after
it, the custom node or extension whose file raised it, and the GPU the log names with its compute capability; the
entry's first variant whose facts fit gives the meaning and fix."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from rigfit.explain.analyzers.base import (
    VOCABULARY_CONFIDENCE,
    Finding,
    answered_elsewhere,
    as_user_sees,
    every,
    last,
    texts,
)
from rigfit.explain.analyzers.context import Context
from rigfit.explain.literals import holds_any
from rigfit.explain.scan import LogLine
from rigfit.kb.error_codes import MESSAGE_FIELD, ToolMessage
from rigfit.kb.gpus import lookup_name
from rigfit.kb.loader import load_entries
from rigfit.records import record

ALTERNATE = re.compile(r"__\d+$")
DETAIL_LINES = 6  # lines after a message that may hold its details (the class a pickle named, the compiler's error)
WRAPPED_WITHIN = 2  # lines after a wrapper's line that may hold the error it wraps (an entry's `then`)
FRAME_WINDOW = 150  # lines before the error in which its traceback's frames are looked for
# a traceback frame in a plugin's own folder (ComfyUI custom_nodes, A1111/Forge extensions; not extensions-builtin,
# which are the UI's own code)
PLUGIN_FRAME = re.compile(r"File \"[^\"]*?[\\/](?:custom_nodes|extensions)[\\/](?P<node>[\w.-]+)[\\/]")
GPU_NAME = re.compile(
    r"(?P<gpu>(?:NVIDIA )?(?:GeForce|Quadro|Tesla|TITAN|RTX|NVIDIA [A-Z]\d{2,4}\b)(?: [\w-]+){0,4}?"
    r" ?(?:[A-Z]{0,3}\d{1,4}\w*)(?: (?:Ti|SUPER|Laptop GPU|Max-Q|\d+GB))*)"
)
# what a fix says where the log does not name a fact
FALLBACK = {"node": "the node or extension in the traceback", "global": "a class the file names"}


@record(frozen=True)
class Message:
    entry: ToolMessage
    patterns: tuple[re.Pattern[str], ...]
    detail: re.Pattern[str] | None
    then: re.Pattern[str] | None
    variants: tuple[tuple[dict[str, re.Pattern[str]], str | None, str], ...]


Hit = tuple[Message, LogLine, re.Match[str]]


@functools.cache
def table(name: str, ignore_case: bool = False) -> tuple[Message, ...]:
    """Table `name` (schema ToolMessage) with its regexes compiled (the patterns and detail case-insensitive with
    `ignore_case`; a variant's `when` always)."""
    flags = re.I if ignore_case else 0
    return tuple(
        Message(
            e,
            tuple(re.compile(p, flags) for p in e.patterns),
            re.compile(e.detail, flags) if e.detail else None,
            re.compile(e.then, flags) if e.then else None,
            tuple(({k: re.compile(p, re.I) for k, p in v.when.items()}, v.meaning, v.fix) for v in e.variants),
        )
        for e in load_entries(name, ToolMessage)
    )


def last_message(lines: list[LogLine], messages: tuple[Message, ...], every: list[LogLine] | None = None) -> Hit | None:
    """The message one of whose patterns matches the latest line (on one line: the first in the table, its first
    pattern); a message with `then` only where one of the lines right after it (in `every`, else `lines`) holds the
    error it wraps."""
    best: Hit | None = None
    for message in messages:
        for pattern in message.patterns:
            found = last(lines, pattern)
            if not found or (message.then is not None and not wrapped(message, found[0], every or lines)):
                continue
            if best is None or found[0].number > best[1].number:
                best = (message, found[0], found[1])
    return best


def wrapped(message: Message, at: LogLine, every: list[LogLine]) -> re.Match[str] | None:
    """The match of the message's `then` on one of the lines right after `at` (the error a wrapper announces)."""
    if message.then is None:
        return None
    after = (line for line in every if at.number < line.number <= at.number + WRAPPED_WITHIN)
    return next((m for line in after if (m := message.then.search(line.text))), None)


def answered(ctx: Context, entry: ToolMessage, line: LogLine) -> bool:
    """Whether another rule answers the message at `line` (`answered_by`), or lines near it make it a warning the
    program recovered from (`not_when`)."""
    if answered_elsewhere(entry.answered_by, entry.answered_when, ctx.lines, line):
        return True
    return bool(entry.not_when) and answered_elsewhere("a warning", entry.not_when, ctx.lines, line)


def holds_a_signal(lines: list[LogLine], signals: Sequence[str]) -> bool:
    """Whether one of `lines` holds one of a table's `signals` (lower-case literals, in any case): one of an entry's
    is in every line its patterns match (ToolMessage), so a log without any needs no table compiled (each cost 20-40
    ms of every start-up, round xspeed11)."""
    return holds_any(signals, texts(lines))


def analyze_table(
    ctx: Context,
    name: str,
    prefix: str,
    more: Callable[[Context, LogLine, dict[str, str]], dict[str, str]],
    signals: Sequence[str],
) -> list[Finding]:
    """The finding for the last message of table `name` (whose entries' signals are among `signals`) in the log;
    `more` adds (or rewrites) the tool's own facts."""
    if not holds_a_signal(ctx.lines, signals):
        return []
    hit = last_message(ctx.lines, table(name))
    if hit is None or answered(ctx, hit[0].entry, hit[1]):
        return []
    message, line, m = hit
    entry = message.entry
    facts = _named(m)
    facts.update(_details(ctx, line, message))
    facts.update(more(ctx, line, facts))
    meaning, fix = _reading(message, facts)
    values = {**FALLBACK, **facts, "pip": ctx.pip(), "gpu_cc": _gpu_said(facts)}
    return [
        Finding(
            f"{prefix}-{entry.id}",
            _filled(entry.title, values),
            _filled(meaning[:1].upper() + meaning[1:], values),
            _filled(fix, values),
            [line],
            facts,
            entry.sources,
            confidence=VOCABULARY_CONFIDENCE,
        )
    ]


def _details(ctx: Context, at: LogLine, message: Message) -> dict[str, str]:
    if message.detail is None:
        return {}
    for line in ctx.lines:
        if at.number <= line.number <= at.number + DETAIL_LINES and (d := message.detail.search(line.text)):
            return _named(d)
    return {}


def _gpu_said(facts: dict[str, str]) -> str:
    if "gpu" not in facts:
        return "the log does not name it"
    return f"{facts['gpu']}, compute capability {facts['cc']}" if "cc" in facts else facts["gpu"]


def _named(m: re.Match[str]) -> dict[str, str]:
    """The groups a match read, by fact_name."""
    return {fact_name(k): as_user_sees(v.strip()) for k, v in m.groupdict().items() if v}


def _reading(message: Message, facts: dict[str, str]) -> tuple[str, str]:
    for when, meaning, fix in message.variants:
        if all(k in facts and p.search(facts[k]) for k, p in when.items()):
            return meaning or message.entry.meaning, fix
    return message.entry.meaning, message.entry.fix


def _filled(text: str, values: dict[str, str]) -> str:
    return filled(text, lambda name: values.get(name, "(not in the log)")).strip()


def filled(text: str, value: Callable[[str], str]) -> str:
    """`text` with each {fact} it names (MESSAGE_FIELD, as the schema checks them) replaced by value(fact)."""
    return MESSAGE_FIELD.sub(lambda m: value(m.group(1)), text)


def fact_name(group: str) -> str:
    """The fact a pattern's group reads: `name__2` is the same fact as `name` in another wording of the message."""
    return ALTERNATE.sub("", group)


def plugin_facts(ctx: Context, at: LogLine) -> dict[str, str]:
    """The custom node or extension whose file is the last traceback frame in one before the error (or, where
    ComfyUI prints the error first and its traceback after it, the last one after it),"""
    facts: dict[str, str] = {}
    before = after = None
    for line in ctx.lines:
        if line.number > at.number + FRAME_WINDOW:
            break
        if line.number >= at.number - FRAME_WINDOW and (m := PLUGIN_FRAME.search(line.text)):
            if line.number <= at.number:
                before = m.group("node")
            else:
                after = m.group("node")
    if node := before or (after if _traceback_follows(ctx, at) else None):
        facts["node"] = node
    return facts


# the lines after which a UI prints the traceback of the error it names (ComfyUI: the error first, its frames after)
ERROR_FIRST = ("exception during processing", "error occurred when executing", "**exception message:**")


def _traceback_follows(ctx: Context, at: LogLine) -> bool:
    near = (ln.text.lower() for ln in ctx.lines if at.number - 3 <= ln.number <= at.number)
    return any(marker in text for text in near for marker in ERROR_FIRST)


def gpu_facts(ctx: Context) -> dict[str, str]:
    """The first NVIDIA GPU the log names, with its compute capability from kb/gpus.yaml."""
    for _, m in every(ctx.lines, GPU_NAME):
        gpu = m.group("gpu").strip()
        models = lookup_name(gpu)
        cc = next((model.compute_capability for model in models if model.compute_capability), None)
        return {"gpu": gpu, "cc": cc} if cc else {"gpu": gpu}
    return {}
