"""Probe a machine (live or captured) into a Profile plus findings, within a deadline.

Every command any probe needs is started at once, in parallel, each with its own timeout; the whole run has a
deadline, so doctor finishes in bounded time even when every tool hangs (InvokeAI's launcher does the same).
Each area module (cpu, memory, system, gpus, permissions) exposes COMMANDS, a probe function and a findings
function; torch_probe has a fact (the torch import, started first) instead of COMMANDS. This module only wires them
together.
"""

from __future__ import annotations

from collections.abc import Iterable

from rigfit.probe import cpu, cuda_toolkit, gpus, memory, permissions, system, torch_probe, visible_devices
from rigfit.probe.fault_findings import gpu_fault_findings
from rigfit.probe.profile import Finding, Profile
from rigfit.probe.source import Source
from rigfit.proc.background import Background

COMMANDS = (
    *cpu.COMMANDS,
    *memory.COMMANDS,
    *system.COMMANDS,
    *gpus.COMMANDS,
    *permissions.COMMANDS,
    *cuda_toolkit.COMMANDS,
)
COMMAND_DEADLINE_S = 6.0
SEVERITY_ORDER = {"blocker": 0, "warning": 1, "info": 2}


def probe_machine(source: Source, *, torch_check: bool = True, env: str | None = None) -> Profile:
    """Everything doctor knows about the machine behind `source` (the torch of `env`, a venv, when given).
    Never raises for bad input."""
    profile = Profile(source=source.label, whole=source.whole_files)
    profile.warnings.extend(source.warnings)
    warn = profile.warnings.append
    # the torch import (a subprocess with its own timeout) runs while the commands run
    torch_fact = Background("torch-import", torch_probe.torch_fact, source, torch_check, env)
    source.prefetch(COMMANDS, COMMAND_DEADLINE_S)
    profile.cpu = cpu.probe_cpu(source, warn)
    profile.memory = memory.probe_memory(source, warn)
    profile.os, profile.python = system.probe_system(source, warn)
    gpus.probe_gpus(source, profile, warn)
    profile.cuda_toolkit = cuda_toolkit.probe_cuda_toolkit(source)
    profile.device_selection = visible_devices.read_device_selection(source)
    profile.permissions = permissions.probe_permissions(source, warn)
    profile.kfd_access = profile.permissions.kfd_access
    profile.torch = torch_probe.probe_torch(torch_fact.result(), profile, warn, source.missing_fact("torch"))
    return profile


def findings_for(profile: Profile, also: Iterable[Finding] = ()) -> list[Finding]:
    """Every check's outcome plus `also` (what other stages add, e.g. the plan's), blockers first."""
    found = [
        *cpu.cpu_findings(profile),
        *memory.memory_findings(profile),
        *system.system_findings(profile),
        *gpus.gpu_findings(profile),
        *visible_devices.hidden_gpu_findings(profile),
        *gpu_fault_findings(profile),
        *permissions.permission_findings(profile),
        *torch_probe.torch_findings(profile),
        *also,
    ]
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])
