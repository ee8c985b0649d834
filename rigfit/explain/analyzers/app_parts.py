"""A folder an app's checkout must hold is missing: a "No such file or directory", "can't open file" or "not found
at" line names <checkout>/<folder> where rigfit/kb/app_parts.yaml knows that folder comes from a git submodule (empty
after a clone without --recursive, absent from a ZIP download) or from a repository the app's README clones into it.
Only the known layouts: a missing folder of an unknown app says nothing the error does not."""

from __future__ import annotations

import functools
import re

from rigfit.explain.analyzers.base import Finding, texts
from rigfit.explain.analyzers.context import Context
from rigfit.explain.literals import lines_from_end
from rigfit.explain.scan import LogLine
from rigfit.kb.app_parts import AppPart
from rigfit.kb.loader import load_entries

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("app-part-missing",)

SIGNALS: tuple[str, ...] = ()
KEYWORDS = ("can't open file", "not found at")
CONTEXT: tuple[str, ...] = ()

MISSING = re.compile(r"can't open file|No such file or directory|not found at|does not exist", re.I)


@functools.cache
def parts() -> tuple[tuple[AppPart, re.Pattern[str]], ...]:
    """Each known part with the regex of its path in a log line (either slash, doubled backslashes of a repr)."""
    found = []
    for part in load_entries("app_parts.yaml", AppPart):
        folder = r"[\\/]+".join(re.escape(piece) for piece in part.folder.split("/"))
        pattern = (
            rf"(?P<checkout>(?:[A-Za-z]:)?(?:[^\s'\"]*?[\\/]+)?(?:{part.checkouts}))[\\/]+(?:\.[\\/]+)?{folder}"
            r"(?![\w.-])"
        )
        found.append((part, re.compile(pattern)))
    return tuple(found)


@functools.cache
def folder_names() -> tuple[str, ...]:
    """The last part of each known folder, lower-cased: a line without one is not read by the path regexes (a
    timestamped log keeps ~1,100 "[Errno 2]" lines in 20 MB)."""
    return tuple(sorted({part.folder.rsplit("/", 1)[-1].lower() for part, _ in parts()}))


def analyze(ctx: Context) -> list[Finding]:
    names = folder_names()
    for i in lines_from_end(MISSING, texts(ctx.lines)):  # the lines MISSING's literals rule out are not read
        line = ctx.lines[i]
        text = line.text.lower()
        if not any(name in text for name in names) or not MISSING.search(line.text):
            continue
        for part, pattern in parts():
            if m := pattern.search(line.text):
                checkout = re.sub(r"\\\\+", r"\\", m.group("checkout"))
                return [_finding(part, checkout, line)]
    return []


def _finding(part: AppPart, checkout: str, line: LogLine) -> Finding:
    how = "a git submodule" if part.provided_by == "submodule" else "a repository cloned into it"
    return Finding(
        "app-part-missing",
        f"{part.app}'s {part.folder} folder ({how}) is missing",
        part.meaning,
        part.fix.format(checkout=checkout, folder=part.folder),
        [line],
        {"app": part.app, "folder": part.folder, "checkout": checkout, "provided_by": part.provided_by},
        part.sources,
    )
