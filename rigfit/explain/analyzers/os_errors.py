"""Operating-system errors in installs and model loads: the last "[Errno N] text: 'path'" (Python, pip),
"[WinError N] text: 'path'" (Windows) or "text (os error N)" (uv and other Rust tools) in the log, looked up in
rigfit/kb/os_errors.yaml by its text (the numbers differ between Linux, macOS and Windows), with the file it names and
the env's pip in the fix. An error another rule reads with more facts (os_errors.yaml `answered_by`) and errors the
table does not hold (network errors: the fetch analyzer) get nothing here."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from rigfit.explain.analyzers.base import (
    FRAME,
    VOCABULARY_CONFIDENCE,
    Finding,
    answered_elsewhere,
    binary_package,
    texts,
)
from rigfit.explain.analyzers.context import Context
from rigfit.explain.literals import lines_from_end
from rigfit.explain.scan import LogLine
from rigfit.kb.error_codes import OsError, OsErrorPlace
from rigfit.kb.loader import load_entries

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("os-error",)

SIGNALS = ("errno", "winerror", "os error")
KEYWORDS = ("could not install packages", "caused by")
CONTEXT = ("pip install", "uv pip", "installing collected packages", "collecting", "pip", 'file "')

ERRNO_TEXT = (
    r"\[(?P<kind>Errno|WinError) (?P<code>\d+)\] (?P<text>[^:'\"\[\]\n]+?)\.?(?::\s*|\s+(?=['\"])|$|\.\s)"
    r"(?P<quoted>'[^']*'|\"[^\"]*\")?"
)
RUST_MARK = "os error "  # every match of the second and third branches holds it (the pattern is case-sensitive)
# the third: "os error N" pasted alone (the end of a Rust tool's message, safetensors' mmap of a model), read by code
OS_ERROR = re.compile(
    ERRNO_TEXT + r"|(?P<rtext>[A-Za-z][\w ,/()%-]*?)\.? \(os error (?P<rcode>\d+)\)"
    r"|(?<![(\w])os error (?P<bcode>\d+)\b"
)
# A line without RUST_MARK can match the first branch only: the second, tried lazily from every letter of the line,
# costs ~6 times the first on the ~1,100 "[Errno 2]" lines a 20 MB log with timestamps keeps.
# errno values stay below this on Linux and macOS: an "os error N" above it is a Windows system error code
ERRNO_MAX = 200
ERRNO = re.compile(ERRNO_TEXT)
QUOTED_PATH = re.compile(r"['\"](?P<path>(?:[A-Za-z]:)?[\\/~.][^'\"]*|[\w.-]+\.\w{2,11})['\"]")
RUST_PATH = re.compile(r"`(?P<path>[^`]+)`|(?:from|to|at) (?P<bare>(?:[A-Za-z]:)?[\\/][^\s:]+)")
INSTALL = re.compile(
    r"Could not install packages|Installing collected packages|pip install|uv pip|Caused by|^\s*Collecting \S|"
    r"[\\/]site-packages[\\/]pip[\\/]",
    re.I,
)
# a file straight in the filesystem root (/config-1.toml, C:\\out.png): built from an empty folder setting
AT_ROOT = re.compile(r"(?:/|[A-Za-z]:[\\/])[^\\/]+\.\w{1,11}")
# a traceback frame with its function: the program's own last frame names the call that got an empty path
CALLER = re.compile(r'File "(?P<path>[^"]+)", line (?P<number>\d+), in (?P<function>[\w.<>]+)')
# the standard library's frames (os.makedirs, open's wrappers): not the program's own code
STDLIB = re.compile(r"[\\/][Ll]ib[\\/](?:python3?[\d.]*[\\/])?[\w]+\.py$")


@functools.cache
def table() -> tuple[dict[str, OsError], dict[tuple[str, int], OsError]]:
    """The entries by each text, and by (platform, code) for the first code of each (the Linux number for errno)."""
    by_text: dict[str, OsError] = {}
    by_code: dict[tuple[str, int], OsError] = {}
    for entry in load_entries("os_errors.yaml", OsError):
        for text in entry.texts:
            by_text[text] = entry
        by_code.setdefault((entry.platform, entry.codes[0]), entry)
    return by_text, by_code


@functools.lru_cache(maxsize=256)  # a log repeats its errors: ~1,200 "[Errno 2]" lines in a 50 MB timestamped log
def error_entry(kind: str, code: int, text: str, windows: bool) -> OsError | None:
    """The entry for an error as printed: its text decides (errno numbers differ between systems), its code when the
    text is in another language (a Rust "os error N" is Windows' code in a Windows log, else errno)."""
    by_text, by_code = table()
    if (entry := by_text.get(text.strip().rstrip(".").lower())) is not None:
        return entry
    platform = "windows" if kind == "WinError" or (kind == "os" and windows) else "posix"
    return by_code.get((platform, code))


def analyze(ctx: Context) -> list[Finding]:
    for line, m in _errors_from_end(ctx.lines):
        kind = m.group("kind") or "os"
        code = int(m.group("code") or m.group("rcode") or m.group("bcode"))
        windows = ctx.facts.get("log_os") == "windows" or (kind == "os" and code > ERRNO_MAX)
        entry = error_entry(kind, code, m.group("text") or m.group("rtext") or "", windows)
        if entry is None or (entry.empty_path_only and _path(line, m) != ""):
            continue
        if answered_elsewhere(entry.answered_by, entry.answered_when, ctx.lines, line):
            return []
        return [_finding(ctx, line, m, entry, code)]
    return []


def _errors_from_end(lines: list[LogLine]) -> Iterator[tuple[LogLine, re.Match[str]]]:
    """`from_end(lines, OS_ERROR)`, the lines without RUST_MARK read by ERRNO alone (the same matches)."""
    for i in lines_from_end(OS_ERROR, texts(lines)):
        text = lines[i].text
        if m := (OS_ERROR if RUST_MARK in text else ERRNO).search(text):
            yield lines[i], m


def _path(line: LogLine, m: re.Match[str]) -> str | None:
    if m.group("quoted"):
        return m.group("quoted")[1:-1].replace("\\\\", "\\")
    rest = line.text[m.end() :] if m.group("kind") else line.text[: m.start()]
    if m.group("kind") and (found := QUOTED_PATH.search(rest)):
        return found.group("path").replace("\\\\", "\\")
    if not m.group("kind") and (paths := list(RUST_PATH.finditer(rest))):
        return paths[-1].group("path") or paths[-1].group("bare")
    return None


def _finding(ctx: Context, line: LogLine, m: re.Match[str], entry: OsError, code: int) -> Finding:
    path = _path(line, m)
    install = bool(INSTALL.search(line.text)) or any(INSTALL.search(ln.text) for ln in ctx.lines[-60:])
    facts = {"error": entry.id, "code": str(code), "while": "install" if install else "run"}
    if path:
        facts["path"] = path
    if package := _package(ctx, line):
        facts["package"] = package
    title = f"{entry.texts[0][:1].upper()}{entry.texts[0][1:]} ({entry.id})" + (f": {path}" if path else "")
    cause = _cause(m, entry, code, install, path or None, package)
    if entry.empty_path_only:
        title = "A path setting or argument was left empty: the program opened '' (an empty file name)"
        if caller := _caller(ctx, line):
            facts["caller"] = caller
            cause += f". The empty path reached {package or 'the loader'} from {caller}"
    return Finding(
        "os-error",
        title,
        cause,
        _fix(entry, path).format(path=path or "the path the error names", pip=ctx.pip()),
        [line],
        facts,
        entry.sources,
        confidence=VOCABULARY_CONFIDENCE,
    )


def _caller(ctx: Context, at: LogLine) -> str | None:
    """The program's own last frame before the error (not site-packages, not the standard library), with the call
    it made when the log kept that line: the code that passed the empty path on."""
    found = None
    for line in ctx.lines:
        if line.number >= at.number:
            break
        if "Traceback (most recent call last)" in line.text:
            found = None  # an earlier traceback's frames are not this error's
        elif (
            (m := CALLER.search(line.text))
            and not binary_package(m.group("path"))
            and not STDLIB.search(m.group("path"))
        ):
            found = (line, m)
    if found is None:
        return None
    line, m = found
    caller = f"{m.group('function')} ({m.group('path')}, line {m.group('number')})"
    code = next((ln.text.strip() for ln in ctx.lines if ln.number == line.number + 1), "")
    return f"{caller}: `{code}`" if code and not CALLER.search(code) else caller


def _at_root(entry: OsError, path: str | None) -> bool:
    return entry.root_meaning is not None and path is not None and AT_ROOT.fullmatch(path) is not None


def _place(entry: OsError, path: str | None) -> OsErrorPlace | None:
    """The first place of the entry the path lies in (os_errors.yaml `places`), None without a path."""
    if path is None:
        return None
    return next((p for p in entry.places if re.fullmatch(p.path, path, re.I)), None)


def _fix(entry: OsError, path: str | None) -> str:
    if _at_root(entry, path) and entry.root_fix:
        return entry.root_fix
    if place := _place(entry, path):
        return place.fix
    return entry.path_fix if path and entry.path_fix else entry.fix


def _package(ctx: Context, at: LogLine) -> str | None:
    """The installed package whose code raised the error: the last site-packages frame before it (not pip's)."""
    found = None
    for line in ctx.lines:
        if line.number >= at.number:
            break
        if (m := FRAME.search(line.text)) and (package := binary_package(m.group("path"))):
            found = package
    return found if found not in (None, "pip") else None


def _cause(m: re.Match[str], entry: OsError, code: int, install: bool, path: str | None, package: str | None) -> str:
    printed = f"[{m.group('kind')} {code}]" if m.group("kind") else f"os error {code}"
    named = f"{entry.id}, " if entry.platform == "posix" else ""
    where = f" on {path}" if path else f" in {package}'s code" if package else ""
    place = _place(entry, path)
    meaning = (
        entry.root_meaning
        if _at_root(entry, path) and entry.root_meaning
        else place.meaning
        if place
        else entry.meaning
    )
    return (
        f"The operating system refused {'the install' if install else 'the operation'} with {printed} "
        f"({named}{entry.texts[0]}){where}: {meaning}"
    )
