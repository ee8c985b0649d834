"""What every analyzer shares: the finding it returns and small readers of facts common to many logs.

An analyzer reads one class of failure (a resolver conflict, a missing module, a GPU the build has no code for...)
from the lines the scanner kept, pulls the structured facts out of them (package names, versions, the module, the
library file, sm_XX, gfx...) and writes the cause and the fix from those facts, the knowledge base and the machine
profile. Each analyzer module declares SIGNALS (a few literals that show its class of failure; scanned everywhere),
KEYWORDS (literals of the lines it reads) and CONTEXT (literals of the facts around the failure), the last two
scanned only near a signal (see rigfit/kb/issues.py for how literals match), and `analyze(ctx) -> list[Finding]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.version import InvalidVersion, Version

from rigfit.explain.facts import Facts
from rigfit.explain.literals import lines_from_end, lines_that_may_match
from rigfit.explain.scan import LogLine
from rigfit.records import field, record

CLASS_CONFIDENCE = 0.7  # a class analyzer's answer ranks below a specific known issue (0.8 and up) that also matched
# a status or error number looked up in a table (gpu_status, os_errors) ranks below an analyzer that read its class
VOCABULARY_CONFIDENCE = 0.65


@record
class Finding:
    id: str  # the class of failure, "pip-resolver-conflict"
    title: str
    cause: str
    fix: str
    evidence: list[LogLine]
    facts: dict[str, str] = field(default_factory=dict)
    source: list[str] = field(default_factory=list)
    confidence: float = CLASS_CONFIDENCE
    supersedes: tuple[str, ...] = ()  # known-issue ids this finding says more precisely
    contradicts: tuple[str, ...] = ()  # known-issue ids whose fix is wrong for this log (dropped, not just demoted)
    profile_agrees: bool | None = None  # the machine profile confirms (True) or contradicts (False) the reading


_TEXTS: list[tuple[list[LogLine], int, list[str]]] = []  # the last list of lines read, its length and its texts


def texts(lines: list[LogLine]) -> list[str]:
    """The texts of `lines`, made once for the list the analyzers read with ~40 patterns in a row (a log with a
    timestamp on every line keeps 20,000 lines); the cache holds the list itself, so its id cannot be reused."""
    if _TEXTS and _TEXTS[0][0] is lines and _TEXTS[0][1] == len(lines):
        return _TEXTS[0][2]
    _TEXTS[:] = [(lines, len(lines), [line.text for line in lines])]
    return _TEXTS[0][2]


def first(lines: list[LogLine], pattern: re.Pattern[str]) -> tuple[LogLine, re.Match[str]] | None:
    """The first line (in log order) matching `pattern`, with its match."""
    for i in lines_that_may_match(pattern, texts(lines)):
        if match := pattern.search(lines[i].text):
            return lines[i], match
    return None


def last(lines: list[LogLine], pattern: re.Pattern[str]) -> tuple[LogLine, re.Match[str]] | None:
    """The last line matching `pattern`: the final error of a log is the one that stopped it."""
    for i in lines_from_end(pattern, texts(lines)):
        if match := pattern.search(lines[i].text):
            return lines[i], match
    return None


def from_end(lines: list[LogLine], pattern: re.Pattern[str]) -> Iterator[tuple[LogLine, re.Match[str]]]:
    """The lines matching `pattern`, last first, found lazily (a reader that stops at the first it can use does not
    run the pattern on every earlier candidate)."""
    for i in lines_from_end(pattern, texts(lines)):
        if match := pattern.search(lines[i].text):
            yield lines[i], match


def ver(text: str | None) -> Version:
    """A comparable version; 0 when the text is not one."""
    try:
        return Version(str(text).split("+")[0]) if text else Version("0")
    except InvalidVersion:
        return Version("0")


def every(lines: list[LogLine], pattern: re.Pattern[str]) -> list[tuple[LogLine, re.Match[str]]]:
    """Every line matching `pattern` (the lines that cannot match are skipped without running it)."""
    candidates = (lines[i] for i in lines_that_may_match(pattern, texts(lines)))
    return [(line, m) for line in candidates if (m := pattern.search(line.text))]


FRAME = re.compile(r'File "(?P<path>[^"]+)", line \d+')  # a Python traceback frame line
SITE_PACKAGES = re.compile(
    r"(?P<env>(?:[A-Za-z]:)?[\w.~/\\ -]*?)[\\/](?:lib[\\/]python(?P<py>3\.\d+)[\\/]|[Ll]ib[\\/])"
    r"(?P<kind>site|dist)-packages[\\/](?P<top>[\w.-]+)",
)
PYTHON_BANNER = re.compile(
    r"\bPython[: ]+(?:version\s*:?\s*)?(?P<py>3\.\d{1,2})(?:\.\d+)?\b|\bcp3(?P<cp>\d{1,2})\b|"
    r"python(?P<path>3\.\d{1,2})\b"
)
TORCH_VERSION = re.compile(
    r"\btorch(?:\s*[:=]{1,2}\s*|\s+version:?\s*|-|\s+)v?(?P<torch>\d+\.\d+(?:\.\d+)?(?:\+(?:cu|rocm|cpu)[\w.]*)?)\b",
    re.I,
)


_BACKSLASHES = re.compile(r"\\+")


def as_user_sees(value: str) -> str:
    r"""A value as the user sees it: Python prints a str inside an exception message or a list through repr, each
    backslash doubled ('C:\\AI\\models'), so a value whose every run of backslashes is even is a repr and each run
    is halved (C:\AI\models). A value with a single backslash anywhere is printed as is (a path the log shows raw)
    and stays unchanged."""
    runs = _BACKSLASHES.findall(value)
    if not runs or any(len(run) % 2 for run in runs):
        return value
    return _BACKSLASHES.sub(lambda m: m[0][: len(m[0]) // 2], value)


def python_version(lines: list[LogLine]) -> str | None:
    """The Python the log ran under: a site-packages path (lib/python3.10), a banner, or a wheel tag (cp310)."""
    for line in lines:
        if (m := SITE_PACKAGES.search(line.text)) and m.group("py"):
            return m.group("py")
    for line in lines:
        if m := PYTHON_BANNER.search(line.text):
            if m.group("py") or m.group("path"):
                return m.group("py") or m.group("path")
            return f"3.{m.group('cp')}"
    return None


def env_python(lines: list[LogLine]) -> str | None:
    """The interpreter of the environment the traceback ran in, from its site-packages path (Linux venvs/conda)."""
    for line in reversed(lines):
        m = SITE_PACKAGES.search(line.text)
        # dist-packages is a Debian/Ubuntu system Python's: its interpreter is /usr/bin/python3, not <prefix>/bin
        if m and m.group("py") and m.group("kind") == "site" and m.group("env").startswith(("/", "~")):
            env = re.sub(r"^.*?File \"", "", m.group("env"))
            return f"{env}/bin/python"
    return None


def pip_command(python: str | None) -> str:
    """`pip` run by the interpreter of the env that failed, so the package lands where the code imports it."""
    return f"{python} -m pip" if python else "python -m pip"


def torch_version(lines: list[LogLine]) -> str | None:
    for line in lines:
        if m := TORCH_VERSION.search(line.text):
            return m.group("torch")
    return None


def binary_package(path: str) -> str | None:
    """The top-level package a site-packages path belongs to: .../site-packages/xformers/_C.so -> xformers."""
    if m := SITE_PACKAGES.search(path):
        top = m.group("top")
        return re.split(r"[\\/]", top)[0].split(".cpython")[0].removesuffix(".so")
    return None


ANSWERED_WITHIN = 20  # lines before an error in which another rule's evidence for it is looked for


def answered_elsewhere(answered_by: str | None, answered_when: list[str], lines: list[LogLine], at: LogLine) -> bool:
    """Whether a table entry's error is another rule's to answer: always (no patterns), or when one of the patterns
    is on the error line or the lines just before it (the rocblaslt line before a CUBLAS status)."""
    if not answered_by:
        return False
    if not answered_when:
        return True
    near = [ln.text for ln in lines if at.number - ANSWERED_WITHIN <= ln.number <= at.number]
    return any(re.search(p, text, re.I) for p in answered_when for text in near)


def shown(facts: Facts, *names: str) -> dict[str, str]:
    """The facts a finding reports (strings, only the known ones)."""
    return {n: str(facts[n]) for n in names if facts.get(n) is not None}
