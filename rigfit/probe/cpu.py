"""CPU: architecture, model, topology, and the instruction-set flags that decide which binaries can run."""

from __future__ import annotations

from collections.abc import Callable

from rigfit.probe.profile import CpuInfo, Finding, Profile
from rigfit.probe.source import CommandSpec, Source

COMMANDS = (CommandSpec("lscpu", ("lscpu",)),)


def probe_cpu(source: Source, warn: Callable[[str], None]) -> CpuInfo:
    return CpuInfo()  # STUB: filled by the CPU probe work (issue 2)


def cpu_findings(profile: Profile) -> list[Finding]:
    return []
