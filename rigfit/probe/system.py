"""Operating system and Python: distro, kernel, venv, PEP 668, container, WSL."""

from __future__ import annotations

from collections.abc import Callable

from rigfit.probe.profile import Finding, OsInfo, Profile, PythonInfo
from rigfit.probe.source import CommandSpec, Source

COMMANDS = (CommandSpec("uname", ("uname", "-a")),)


def probe_system(source: Source, warn: Callable[[str], None]) -> tuple[OsInfo, PythonInfo]:
    return OsInfo(), PythonInfo()  # STUB


def system_findings(profile: Profile) -> list[Finding]:
    return []
