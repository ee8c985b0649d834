"""Schemas of the host knowledge: host.yaml (memory, disk, Python, CPU routes), bench_refs.yaml, qemu_cpus.yaml and
cpu_requirements.yaml (instruction-set extensions package builds execute; probe and verify both use it)."""

from __future__ import annotations

from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries, version_ranges
from rigfit.records import field, record


@record(frozen=True, kw_only=True)
class HostRule(KbEntry):
    """host.yaml: a threshold or route about the host (RAM, swap, disk, Python, CPU) and its fix."""

    summary: str
    needs: list[str] = field(default_factory=list)  # CPU flags the rule is about
    min_gib: float | None = None  # size threshold (RAM, swap or free disk)
    fix: str | None = None


@record(frozen=True, kw_only=True)
class BenchRef(KbEntry):
    """bench_refs.yaml: a published (or seed-reported) time per image on a named machine, to compare against."""

    device: str  # "AMD Radeon RX 5500 XT 8 GB"
    kind: Literal["gpu", "cpu"]
    model: Literal["sd15", "sdxl"]
    resolution: int  # image side in pixels
    steps: int | None = None  # sampler steps per image the figure was measured with; None when not stated
    seconds_per_image: float | None = None  # as reported, for `steps` steps
    iterations_per_second: float | None = None  # as reported (a CFG step at batch 1 = one UNet call at batch 2)
    setup: str  # UI / library, precision, flags
    note: str | None = None

    def seconds_for(self, steps: int) -> float | None:
        """The figure scaled to `steps` sampler steps (the VAE share is small and ignored)."""
        if self.iterations_per_second:
            return steps / self.iterations_per_second
        if self.seconds_per_image and self.steps:
            return self.seconds_per_image * steps / self.steps
        return self.seconds_per_image


@record(frozen=True, kw_only=True)
class QemuCpu(KbEntry):
    """qemu_cpus.yaml: a CPU model `qemu-x86_64 -cpu NAME` emulates, with the instruction-set flags it exposes."""

    qemu: str  # the -cpu argument
    aliases: list[str]  # what people type: westmere, x5670, core2...
    description: str
    flags: list[str]  # /proc/cpuinfo names
    openblas_core: str | None = None  # the OPENBLAS_CORETYPE whose kernels fit these flags (numpy's OpenBLAS)


@record(frozen=True, kw_only=True)
class CpuRequirement(KbEntry):
    """cpu_requirements.yaml: instruction-set extensions a package build executes, so a SIGILL can name them."""

    package: str  # distribution name, lower case
    versions: str | None = None  # PEP 440 range; None = every version
    build: Literal["rocm", "cuda", "cpu"] | None = None  # torch build variant it applies to
    needs: list[str]  # /proc/cpuinfo flag names, all required
    label: str  # in words: "x86-64-v2 (SSE4.2 and POPCNT)"
    failure: str  # how it fails without them
    fix: str

    def _check(self) -> None:
        version_ranges(self, "versions")


def bench_refs() -> tuple[BenchRef, ...]:
    return load_entries("bench_refs.yaml", BenchRef)


def qemu_cpus() -> tuple[QemuCpu, ...]:
    return load_entries("qemu_cpus.yaml", QemuCpu)


def cpu_requirements() -> tuple[CpuRequirement, ...]:
    return load_entries("cpu_requirements.yaml", CpuRequirement)


def host_rules() -> tuple[HostRule, ...]:
    return load_entries("host.yaml", HostRule)
