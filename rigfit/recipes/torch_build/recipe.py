"""The build recipe: what to build (release, target CPU, GPU backend) and with which settings, from the KB alone.

A pure function of the request and the machine's size (cores, memory): the script, the prerequisites report and the
tests all read the same `BuildRecipe`.
"""

from __future__ import annotations

import math

from rigfit.kb.torch_source import (
    Backend,
    BuildCaveat,
    BuildFrontend,
    BuildResources,
    BuildSwitch,
    IsaTarget,
    TorchRelease,
    build_torch_command,
    caveats,
    frontend_for,
    resources,
    switches,
)
from rigfit.records import record

GIB = 2**30


@record(frozen=True)
class BuildRequest:
    target: IsaTarget
    backend: Backend
    arch: str | None  # gfx for ROCm ("gfx1030"), compute capability list for CUDA ("8.6")
    release: TorchRelease


@record(frozen=True)
class MachineSize:
    """What bounds the parallel build: cores and memory of the build machine (None = unknown)."""

    cores: int | None = None  # physical
    threads: int | None = None  # logical
    ram_bytes: int | None = None
    swap_bytes: int | None = None


@record(frozen=True)
class Caveat:
    id: str
    message: str
    fix: str
    sources: list[str]


@record
class BuildRecipe:
    request: BuildRequest
    frontend: BuildFrontend
    vision_frontend: BuildFrontend
    env: dict[str, str]  # for both builds
    torch_env: dict[str, str]  # torch only
    vision_env: dict[str, str]  # torchvision only
    unset: list[str]
    cmake_defines: dict[str, str]
    applied: list[BuildSwitch]
    capabilities: dict[str, str]  # ATen kernel copies still compiled -> their flags ("DEFAULT" -> cflags)
    caveats: list[Caveat]
    jobs: int
    jobs_reason: str
    minutes: int | None
    resources: BuildResources
    command: str

    @property
    def cflags(self) -> str:
        return self.env.get("CXXFLAGS", "")


def max_jobs(size: MachineSize, per_job_gb: float) -> tuple[int, str]:
    """Parallel compile jobs: the cores, unless RAM + swap hold fewer jobs of `per_job_gb` each."""
    cpus = size.threads or size.cores
    memory = (size.ram_bytes or 0) + (size.swap_bytes or 0) if size.ram_bytes else None
    by_memory = max(1, math.floor(memory / GIB / per_job_gb)) if memory else None
    if cpus is None and by_memory is None:
        return 1, "cores and memory unknown: 1 job (set MAX_JOBS yourself)"
    if by_memory is not None and (cpus is None or by_memory < cpus):
        total = (memory or 0) / GIB
        return by_memory, f"{total:.0f} GiB RAM+swap / {per_job_gb:g} GiB per job (fewer than the {cpus} CPUs)"
    return int(cpus or 1), f"{cpus} CPUs ({by_memory} jobs would fit in RAM+swap at {per_job_gb:g} GiB each)"


def estimate_minutes(size: MachineSize, jobs: int, res: BuildResources) -> int | None:
    """Scale the reference build time (seed 000: 1h30 on 12 cores) by the physical cores actually kept busy."""
    cores = size.cores or (size.threads // 2 if size.threads else None)
    if not cores:
        return None
    busy = max(1, min(cores, jobs))
    return round(res.reference_minutes * res.reference_cores / busy)


def _values(req: BuildRequest, jobs: int) -> dict[str, str]:
    return {"march": req.target.march, "gfx": req.arch or "", "cuda_arch": req.arch or "", "jobs": str(jobs)}


def _caveat(entry: BuildCaveat, req: BuildRequest) -> Caveat:
    values = {"target": req.target.id, "march": req.target.march, "qemu": req.target.qemu}
    return Caveat(entry.id, entry.message.format(**values), entry.fix.format(**values), entry.sources)


def make_recipe(req: BuildRequest, size: MachineSize) -> BuildRecipe:
    res = resources(req.backend)
    jobs, jobs_reason = max_jobs(size, res.per_job_gb)
    values = _values(req, jobs)
    env: dict[str, str] = {}
    torch_env: dict[str, str] = {}
    vision_env: dict[str, str] = {}
    unset: list[str] = []
    defines: dict[str, str] = {}
    applied: list[BuildSwitch] = []
    capabilities = {"DEFAULT": ""}
    for switch in switches():
        if not switch.applies(req.target, req.backend):
            if switch.capability and switch.capability_flags:
                capabilities[switch.capability] = switch.capability_flags
            continue
        applied.append(switch)
        value = (switch.value or "").format(**values)
        names = [switch.name, *switch.also]
        if switch.kind == "unset":
            unset.extend(names)
        elif switch.kind == "cmake":
            defines.update(dict.fromkeys(names, value))
        else:
            sink = {"both": env, "torch": torch_env, "torchvision": vision_env}[switch.package]
            sink.update(dict.fromkeys(names, value))
    capabilities["DEFAULT"] = env.get("CXXFLAGS", "")
    return BuildRecipe(
        request=req,
        frontend=frontend_for(req.release),
        vision_frontend=frontend_for(req.release, "torchvision"),
        env=env,
        torch_env=torch_env,
        vision_env=vision_env,
        unset=unset,
        cmake_defines=defines,
        applied=applied,
        capabilities=capabilities,
        caveats=[_caveat(c, req) for c in caveats() if c.applies(req.target, req.backend)],
        jobs=jobs,
        jobs_reason=jobs_reason,
        minutes=estimate_minutes(size, jobs, res),
        resources=res,
        command=build_torch_command(req.target.id, req.backend, req.arch, req.release.torch),
    )


__all__ = ["BuildRecipe", "BuildRequest", "Caveat", "MachineSize", "estimate_minutes", "make_recipe", "max_jobs"]
