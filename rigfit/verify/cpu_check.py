"""Which CPU the checks run for (this one, or an older one emulated by qemu-user) and which instruction-set
extensions a package needs, so that a SIGILL can be turned into "numpy 2.4 needs SSE4.2; this CPU lacks it"."""

from __future__ import annotations

import shutil

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from rigfit.kb.host import CpuRequirement, QemuCpu, cpu_requirements, qemu_cpus
from rigfit.records import record

# OpenBLAS (bundled in numpy's wheels) picks its kernels from the CPU model; these need more than the CPU may have
OPENBLAS_CORE_NEEDS = {"haswell": "avx2", "skylakex": "avx512f", "zen": "avx2", "sandybridge": "avx"}


class CpuModelError(Exception):
    """--cpu names no model rigfit knows, or qemu-user is missing: the message says what to do."""


@record(frozen=True)
class TargetCpu:
    """The CPU the checks are for: `emulated` is a qemu model entry, None for this machine's own CPU."""

    flags: frozenset[str] | None  # None = unknown (flags could not be read)
    emulated: QemuCpu | None = None

    @property
    def label(self) -> str:
        return f"the emulated {self.emulated.qemu} CPU" if self.emulated else "this CPU"

    def prefix(self) -> list[str]:
        """The command prefix that runs a worker on this CPU."""
        if self.emulated is None:
            return []
        qemu = shutil.which("qemu-x86_64")
        if qemu is None:
            raise CpuModelError(
                "--cpu needs qemu-user to emulate an older CPU: install it with `sudo apt install qemu-user` "
                "(Debian/Ubuntu), then run the command again"
            )
        return [qemu, "-cpu", self.emulated.qemu]


def live_cpu() -> TargetCpu:
    """This machine's CPU, with the flags the probe reads (None when it cannot)."""
    from rigfit.probe.cpu import probe_cpu
    from rigfit.probe.source import LiveSource

    info = probe_cpu(LiveSource(), lambda message: None)
    return TargetCpu(flags=frozenset(info.flags) if info.flags else None)


def find_model(name: str) -> QemuCpu:
    wanted = name.strip().lower().replace("_", "-")
    for entry in qemu_cpus():
        if wanted in {entry.qemu.lower(), entry.id, *(a.lower() for a in entry.aliases)}:
            return entry
    known = ", ".join(e.aliases[0] for e in qemu_cpus())
    raise CpuModelError(f"unknown CPU model '{name}': use one of {known}")


def emulated_cpu(name: str) -> TargetCpu:
    model = find_model(name)
    return TargetCpu(flags=frozenset(model.flags), emulated=model)


def requirements_for(package: str, version: str | None, variant: str | None) -> list[CpuRequirement]:
    """KB requirements that apply to this package version (and torch build variant)."""
    found = []
    for req in cpu_requirements():
        if req.package != package or (req.build and req.build != variant):
            continue
        if req.versions and version:
            try:
                if Version(version) not in SpecifierSet(req.versions):
                    continue
            except InvalidVersion:
                pass
        elif req.versions and not version:
            continue
        found.append(req)
    return found


def missing_for(req: CpuRequirement, flags: frozenset[str] | None) -> list[str] | None:
    """Which of the requirement's extensions the CPU lacks: [] = none missing, None = flags unknown."""
    if flags is None:
        return None
    return [flag for flag in req.needs if flag not in flags]


def openblas_core(output: str) -> str | None:
    """The kernel set OpenBLAS announced with OPENBLAS_VERBOSE=2 ('Core: Haswell')."""
    for line in output.splitlines():
        if line.strip().startswith("Core: "):
            return line.strip()[6:].strip()
    return None


def openblas_overreach(output: str, flags: frozenset[str] | None) -> str | None:
    """The OpenBLAS core chosen when it needs an extension this CPU lacks (a wrong pick, not a wrong build)."""
    core = openblas_core(output)
    if core is None or flags is None:
        return None
    need = OPENBLAS_CORE_NEEDS.get(core.lower())
    return core if need and need not in flags else None
