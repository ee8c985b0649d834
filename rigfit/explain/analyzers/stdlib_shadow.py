"""A file named like a standard-library module hides it: a traceback where library code runs `import grp` (or
random, typing, queue...) and the next frame is a `grp.py` outside Python's own Lib folder. Python searches the
script's folder (or the current directory) before the standard library, so a stray file of that name there is
imported instead, and whatever it does (or lacks) fails inside the library that imported it. Found from the frames
alone, whatever the error the stray file raised; a stdlib file in its own Lib folder is never taken for one."""

from __future__ import annotations

import re
import sys

from rigfit.explain.analyzers.base import Finding
from rigfit.explain.analyzers.context import Context
from rigfit.explain.scan import LogLine

# stdlib modules whose own frames fill ordinary tracebacks (thread and process starts): scanning for them would
# flag every long traceback, and a stray file of one of these names is rare
ROUTINE = frozenset({"threading", "runpy", "subprocess", "contextlib", "tempfile", "os"})
NAMES = frozenset(n for n in sys.stdlib_module_names if not n.startswith("_")) - ROUTINE
SIGNALS = tuple(sorted(f'{name}.py", line' for name in NAMES))
KEYWORDS = ("import",)
CONTEXT: tuple[str, ...] = ()

SHADOW_FRAME = re.compile(r'File "(?P<path>(?P<dir>[^"<]*)[\\/](?P<name>\w+)\.py)", line \d+')
# Python's own Lib folder: /usr/lib/python3.12, ...\cpython-3.11.14-windows-x86_64-none\Lib, a conda env's Lib
STDLIB_DIR = re.compile(r"[\\/]lib(?:[\\/]python3\.\d+t?)?$", re.I)
PACKAGES_DIR = re.compile(r"[\\/](?:site|dist)-packages$", re.I)
IMPORT_LINE = re.compile(r"\b(?:import|from)\s+(?P<name>\w+)(?:\s+import\b|\s+as\b|\s*,|\s*$)")
SOURCE = [
    "https://docs.python.org/3/library/sys.html#sys.path (the script's folder is searched first)",
    "https://docs.python.org/3/library/sys.html#sys.stdlib_module_names",
]


def analyze(ctx: Context) -> list[Finding]:
    by_number = {line.number: line for line in ctx.lines}
    for line in reversed(ctx.lines):
        m = SHADOW_FRAME.search(line.text)
        if m is None or m["name"] not in NAMES or STDLIB_DIR.search(m["dir"]):
            continue
        importer = by_number.get(line.number - 1)
        imported = IMPORT_LINE.search(importer.text) if importer else None
        if imported and imported["name"] == m["name"]:
            return [_finding(line, m["name"], m["path"], m["dir"], installed=bool(PACKAGES_DIR.search(m["dir"])))]
    return []


def _finding(line: LogLine, name: str, path: str, folder: str, installed: bool) -> Finding:
    facts = {"module": name, "path": path}
    if installed:
        cause = (
            f"Python imported {path} as its standard module `{name}`: a pip package installed a module of that name "
            "into site-packages (an old backport such as `typing` or `enum34`, or a package that ships its own "
            f"`{name}.py`), and it replaces the real one for every library that imports `{name}`."
        )
        fix = (
            f"Find the package that owns it (`python -m pip show -f <package>` lists its files; often it is named "
            f"`{name}`) and uninstall it from this environment, then start again."
        )
    else:
        cause = (
            f"Python imported {path} in place of its standard module `{name}`: {folder} comes before the standard "
            "library on the module search path (it is the folder of the script that was started, or the current "
            f"directory), so this unrelated file ran where library code expected Python's `{name}`, and failed. It is "
            "not a fault of the package that imported it."
        )
        fix = (
            f"Rename or delete {path} (and any `__pycache__/{name}.*.pyc` next to it), then start again; do not name "
            f"your own files like standard modules ({name}.py, random.py, typing.py...)."
        )
    title = f"A file named {name}.py hides Python's own `{name}` module"
    return Finding("stdlib-module-shadowed", title, cause, fix, [line], facts, SOURCE, confidence=0.8)
