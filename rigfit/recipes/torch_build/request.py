"""From the command's options and the machine profile to a build request: target CPU, backend, release."""

from __future__ import annotations

from rigfit.kb.loader import KbError
from rigfit.kb.torch_source import (
    Backend,
    IsaTarget,
    find_isa_target,
    isa_target_for,
    isa_targets,
    kernel_gfx,
    release_for,
)
from rigfit.probe.profile import GpuInfo, Profile
from rigfit.recipes.torch_build.recipe import BuildRequest, MachineSize
from rigfit.records import record


class RequestError(Exception):
    """The options cannot make a build request: the message names the option and the fix."""


@record(frozen=True)
class Options:
    target: str | None = None  # --for
    rocm: str | None = None
    cuda: str | None = None
    cpu: bool = False
    torch: str | None = None


def target_cpu(name: str | None, profile: Profile) -> IsaTarget:
    known = ", ".join(t.id for t in isa_targets())
    if name and name.lower() != "native":
        found = find_isa_target(name)
        if found is None:
            raise RequestError(f"--for {name}: unknown CPU target; use one of {known}, or native")
        return found
    found = isa_target_for(profile.cpu.flags)
    if found is None:
        raise RequestError(
            f"the CPU's instruction sets are unknown ({profile.source or 'this machine'}): name the target with "
            f"--for ({known})"
        )
    return found


def _main_gpu(profile: Profile) -> GpuInfo | None:
    usable = [g for g in profile.gpus if g.vendor in ("amd", "nvidia") and not g.integrated]
    return max(usable, key=lambda g: g.vram_bytes or 0) if usable else None


def backend_for(options: Options, profile: Profile) -> tuple[Backend, str | None]:
    chosen = [flag for flag, on in (("--rocm", options.rocm), ("--cuda", options.cuda), ("--cpu", options.cpu)) if on]
    if len(chosen) > 1:
        raise RequestError(f"{' and '.join(chosen)}: choose one backend")
    if options.rocm:
        return "rocm", options.rocm.lower()
    if options.cuda:
        return "cuda", options.cuda
    if options.cpu:
        return "cpu", None
    gpu = _main_gpu(profile)
    if gpu and gpu.vendor == "amd" and gpu.gfx and not gpu.atomics_rejected:
        return "rocm", kernel_gfx(gpu.gfx)
    if gpu and gpu.vendor == "nvidia" and gpu.compute_capability:
        return "cuda", gpu.compute_capability
    return "cpu", None


def build_request(options: Options, profile: Profile) -> BuildRequest:
    target = target_cpu(options.target, profile)
    backend, arch = backend_for(options, profile)
    try:
        release = release_for(backend, profile.rocm.version, options.torch)
    except KbError as exc:
        raise RequestError(f"--torch {options.torch}: {exc}") from exc
    return BuildRequest(target=target, backend=backend, arch=arch, release=release)


def machine_size(profile: Profile) -> MachineSize:
    return MachineSize(
        cores=profile.cpu.cores,
        threads=profile.cpu.threads,
        ram_bytes=profile.memory.total_bytes,
        swap_bytes=profile.memory.swap_total_bytes,
    )


__all__ = ["Options", "RequestError", "backend_for", "build_request", "machine_size", "target_cpu"]
