"""Memory, swap and free disk where rigfit would install."""

from __future__ import annotations

from collections.abc import Callable

from rigfit.probe.profile import Finding, MemoryInfo, Profile
from rigfit.probe.source import CommandSpec, Source

COMMANDS: tuple[CommandSpec, ...] = ()


def probe_memory(source: Source, warn: Callable[[str], None]) -> MemoryInfo:
    return MemoryInfo()  # STUB


def memory_findings(profile: Profile) -> list[Finding]:
    return []
