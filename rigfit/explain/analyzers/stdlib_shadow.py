"""A file named like a standard-library module hides it: a traceback where library code runs `import grp` (or
random, typing, queue...) and the next frame is a `grp.py` outside Python's own Lib folder. Python searches the
script's folder (or the current directory) before the standard library, so a stray file of that name there is
imported instead, and whatever it does (or lacks) fails inside the library that imported it. Found from the frames
alone, whatever the error the stray file raised; a stdlib file in its own Lib folder is never taken for one. Python
3.13+ says it itself ("consider renaming '.../random.py' since it has the same name as the standard library module
named 'random'", or "... if it has the same name as a library you intended to import" for numpy.py and the like)."""

from __future__ import annotations

import re
import sys

from rigfit.explain.analyzers.base import Finding, from_end, last
from rigfit.explain.analyzers.context import Context, removed_stdlib
from rigfit.explain.scan import LogLine

# stdlib modules whose own frames fill ordinary tracebacks (thread and process starts): scanning for them would
# flag every long traceback, and a stray file of one of these names is rare
ROUTINE = frozenset({"threading", "runpy", "subprocess", "contextlib", "tempfile", "os"})


def stdlib_names(interpreter_names: frozenset[str]) -> frozenset[str]:
    """The stdlib module names of any Python 3 the log may come from: this interpreter's, plus those a later release
    removed (imghdr, distutils...), which the log's older Python still has when rigfit runs on a newer one."""
    return frozenset(n for n in (*interpreter_names, *removed_stdlib()) if not n.startswith("_")) - ROUTINE


NAMES = stdlib_names(sys.stdlib_module_names)
# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("stdlib-module-shadowed",)

SIGNALS = (*sorted(f'{name}.py", line' for name in NAMES), "consider renaming '")
KEYWORDS = ("import",)
CONTEXT: tuple[str, ...] = ()

SHADOW_FRAME = re.compile(r'File "(?P<path>(?P<dir>[^"<]*)[\\/](?P<name>\w+)\.py)", line \d+')
# Python's own Lib folder: /usr/lib/python3.12, ...\cpython-3.11.14-windows-x86_64-none\Lib, a conda env's Lib
STDLIB_DIR = re.compile(r"[\\/]lib(?:[\\/]python3\.\d+t?)?$", re.I)
PACKAGES_DIR = re.compile(r"[\\/](?:site|dist)-packages(?P<inside>[\\/].*)?$", re.I)
# CPython 3.13's own words (Objects/moduleobject.c, gh-95754) after an AttributeError/ImportError of a shadowed module
RENAMING = re.compile(
    r"consider renaming '(?P<path>(?P<dir>[^']*?)[\\/]?(?P<stem>\w+)\.py)' (?:since|if) it has the same name as "
    r"(?:the standard library module named '(?P<name>\w+)'|a (?:library|third-party module) you intended to import)"
)
IMPORT_LINE = re.compile(r"\b(?:import|from)\s+(?P<name>\w+)(?:\s+import\b|\s+as\b|\s*,|\s*$)")
SOURCE = [
    "https://docs.python.org/3/library/sys.html#sys.path (the script's folder is searched first)",
    "https://docs.python.org/3/library/sys.html#sys.stdlib_module_names",
    "https://docs.python.org/3/whatsnew/3.13.html#improved-error-messages (consider renaming ...)",
]


def analyze(ctx: Context) -> list[Finding]:
    said = last(ctx.lines, RENAMING)
    if said is not None:
        line, said_match = said
        name, path = said_match["name"] or said_match["stem"], said_match["path"]
        return [_finding(line, name, path, said_match["dir"] or ".", "local", stdlib=bool(said_match["name"]))]
    return _from_frames(ctx)


def _from_frames(ctx: Context) -> list[Finding]:
    """The last frame of a stdlib-named file outside Python's Lib folder, right after a line importing that name."""
    by_number: dict[int, LogLine] = {}  # made at the first frame of a stdlib name (most logs have none)
    for line, m in from_end(ctx.lines, SHADOW_FRAME):
        if m["name"] not in NAMES or STDLIB_DIR.search(m["dir"]):
            continue
        by_number = by_number or {line.number: line for line in ctx.lines}
        importer = by_number.get(line.number - 1)
        imported = IMPORT_LINE.search(importer.text) if importer else None
        if imported and imported["name"] == m["name"]:
            where = PACKAGES_DIR.search(m["dir"])
            kind = "local" if where is None else "package-folder" if where["inside"] else "installed"
            return [_finding(line, m["name"], m["path"], m["dir"], kind)]
    return []


def _finding(line: LogLine, name: str, path: str, folder: str, kind: str, stdlib: bool = True) -> Finding:
    """`kind`: the stray file is "local" (a user's file), "installed" (a module a pip package put in site-packages)
    or in a "package-folder" (an installed package's own module, found first because Python runs inside its folder)."""
    facts = {"module": name, "path": path}
    what = f"its standard module `{name}`" if stdlib else f"the installed library `{name}`"
    if kind == "package-folder":
        cause = (
            f"Python imported {path} in place of {what}: that file is a module of an installed package, and its "
            f"folder ({folder}) is on the module search path ahead of the standard library, because Python was "
            "started from inside that folder (its current directory) or the folder is listed in PYTHONPATH."
        )
        fix = (
            f"Do not delete the file: start the program from its own folder (cd out of {folder}), and remove that "
            "folder from PYTHONPATH if it is set there, then start again."
        )
    elif kind == "installed":
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
            f"Python imported {path} in place of {what}: {folder} comes before the standard library and "
            "site-packages on the module search path (it is the folder of the script that was started, or the current "
            f"directory), so this unrelated file ran where the code expected the real `{name}`, and failed. It is "
            "not a fault of the package that imported it."
        )
        fix = (
            f"Rename or delete {path} (and any `__pycache__/{name}.*.pyc` next to it), then start again; do not name "
            "your own files like standard modules or installed libraries (random.py, typing.py, numpy.py...)."
        )
    owner = "Python's own" if stdlib else "the installed"
    title = f"A file named {name}.py hides {owner} `{name}` module"
    return Finding("stdlib-module-shadowed", title, cause, fix, [line], facts, SOURCE, confidence=0.8)
