"""The input every analyzer reads: the kept lines in log order, the merged facts, and facts read once for all."""

from __future__ import annotations

import functools
import re

from rigfit.explain.analyzers.base import env_python, python_version, torch_version, ver
from rigfit.explain.facts import Facts
from rigfit.explain.scan import LogLine
from rigfit.kb.diagnosis import NativeLibrary, PythonModule, PythonName, RemovedStdlibModule, UiLogPrefix
from rigfit.kb.loader import by_id, load_entries
from rigfit.kb.schemas import WheelLine
from rigfit.records import record

CUSTOM_NODE = re.compile(r"[\\/](?:custom_nodes|extensions(?:-builtin)?)[\\/](?P<node>[\w.-]+)")


@record
class Context:
    lines: list[LogLine]
    facts: Facts

    @functools.cached_property
    def python(self) -> str | None:
        return python_version(self.lines)

    @functools.cached_property
    def env_python(self) -> str | None:
        return env_python(self.lines)

    @functools.cached_property
    def torch(self) -> str | None:
        return torch_version(self.lines)

    def plugin(self, before: int) -> str | None:
        """The custom node or extension whose file is the last one in the traceback before line `before`."""
        found = None
        for line in self.lines:
            if line.number > before:
                break
            if m := CUSTOM_NODE.search(line.text):
                found = m.group("node")
        return found

    def pip(self) -> str:
        """pip of the env the log's code ran in: its venv's python, the portable ComfyUI's embedded one, or python."""
        if self.env_python:
            return f"{self.env_python} -m pip"
        if any("python_embeded" in line.text or "ComfyUI_windows_portable" in line.text for line in self.lines):
            return r"python_embeded\python.exe -m pip"  # run from the ComfyUI_windows_portable folder
        return "python -m pip"


@functools.cache
def ui_log_prefixes() -> dict[str, str]:
    """Every bracketed prefix a UI prints on its own lines, lower case -> the UI (ui_log_prefixes.yaml)."""
    return {p.lower(): e.ui for e in load_entries("ui_log_prefixes.yaml", UiLogPrefix) for p in e.prefixes}


@functools.cache
def modules() -> dict[str, PythonModule]:
    return by_id(load_entries("python_modules.yaml", PythonModule))


@functools.cache
def removed_stdlib() -> dict[str, RemovedStdlibModule]:
    """Standard-library modules a Python release removed (python_stdlib_removed.yaml), by import name."""
    return by_id(load_entries("python_stdlib_removed.yaml", RemovedStdlibModule))


@functools.cache
def names() -> tuple[PythonName, ...]:
    return load_entries("python_names.yaml", PythonName)


@functools.cache
def native_libs() -> tuple[tuple[re.Pattern[str], NativeLibrary], ...]:
    return tuple((re.compile(e.pattern, re.I), e) for e in load_entries("native_libs.yaml", NativeLibrary))


def native_lib(file_name: str) -> NativeLibrary | None:
    base = re.split(r"[\\/]", file_name)[-1]
    return next((e for pattern, e in native_libs() if pattern.search(base)), None)


def class_name_entry(cls: str, name: str) -> PythonName | None:
    """The KB entry for a method or attribute `name` of objects of class `cls` (its last dotted part)."""
    short = cls.rsplit(".", 1)[-1]
    return next((e for e in names() if short in e.classes and name in e.names), None)


def name_entry(module: str, name: str) -> PythonName | None:
    """The KB entry for `name` looked up in `module` or a submodule of the entry's module."""
    for entry in names():
        if name in entry.names and (module == entry.module or module.startswith(entry.module + ".")):
            return entry
    return None


@functools.cache
def _wheel_lines() -> tuple[WheelLine, ...]:
    return tuple(w for w in load_entries("torch_wheels.yaml", WheelLine) if w.torch and w.python and w.kind != "source")


def max_python_for_torch(torch: str) -> str | None:
    """The newest CPython the torch release has wheels for, bounded by the KB's wheel line of the nearest release at
    or after it (a release never has wheels for a newer Python than the releases that follow it)."""
    later = [w for w in _wheel_lines() if ver(w.torch) >= ver(torch)]
    if not later:
        return None
    line = min(later, key=lambda w: ver(w.torch))
    m = re.search(r"<\s*3\.(\d+)", line.python or "")
    return f"3.{int(m[1]) - 1}" if m else None
