"""What a recipe is built from: the plan for a backend (the machine's own, or the one asked for), the GPUs it pins,
the Python of the image, and the host facts a container needs (numeric gids of the ROCm device files).
"""

from __future__ import annotations

import copy

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from rigfit.kb.recipes import base_image
from rigfit.kb.schemas import UiEntry
from rigfit.plan.knowledge import ui_entry
from rigfit.plan.model import Backend, Plan, PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.profile import GpuInfo, Profile
from rigfit.records import field, record

VENDOR = {"cuda": "nvidia", "rocm": "amd"}
KFD = "/dev/kfd"


class RecipeError(Exception):
    """The recipe cannot be made as asked; the message says why and what to do instead."""


@record(frozen=True)
class GpuSlot:
    """One GPU a service is pinned to: its index as the container runtime counts it, and the host port it gets."""

    runtime_index: int | None  # nvidia-smi index (CUDA) or HIP device index (ROCm); None: not pinned
    port: int
    name: str


@record
class Target:
    plan: Plan
    profile: Profile
    ui: UiEntry
    python: str  # minor version of the image's Python ("3.10")
    slots: list[GpuSlot]
    gids: list[int] | None  # numeric gids of /dev/kfd and the render nodes; None: unknown (read from .env)
    listen: bool = False
    pod: bool = False
    notes: list[str] = field(default_factory=list)  # what the person must know about this recipe

    @property
    def backend(self) -> Backend:
        return self.plan.backend

    @property
    def name(self) -> str:
        return f"rigfit-{self.plan.ui}-{self.backend}"


def _plan_for(
    profile: Profile, options: PlanOptions, backend: Backend | None, notes: list[str]
) -> tuple[Plan, Profile]:
    plan = make_plan(profile, options)
    if plan.backend == "xpu" and backend in (None, "xpu"):
        raise RecipeError(
            f"the plan for this machine uses the Intel GPU ({plan.device.name}, PyTorch's XPU build), and rigfit's "
            "container recipes cover cuda, rocm and cpu: install on the host with `rigfit install`, or ask for "
            "--backend cpu."
        )
    if backend is None or plan.backend == backend:
        return plan, profile
    wanted = copy.deepcopy(profile)
    if backend == "cpu":
        wanted.gpus = []
    elif backend == "cuda" and not any(g.vendor == "nvidia" for g in wanted.gpus):
        wanted.gpus = [GpuInfo(vendor="nvidia")]  # stated by --backend: an NVIDIA GPU of unknown model
        notes.append(
            "CUDA asked for, but this profile shows no NVIDIA GPU: the image targets an NVIDIA GPU of unknown model "
            "and driver: run `nvidia-smi` where it will run (the driver must be new enough for the torch line)."
        )
    replanned = make_plan(wanted, options)
    if replanned.backend != backend:
        why = "; ".join(f"{b.message} Fix: {b.fix}" for b in replanned.blockers) or (
            f"the plan for this machine uses {plan.backend}: {plan.device.name} is not a {backend} device."
        )
        raise RecipeError(
            f"cannot make a {backend} recipe from this profile: {why} Ask for the plan's own backend "
            f"({plan.backend}) instead, or capture the {backend} machine (`rigfit capture -o m.tar.gz` there) and "
            "pass it with --from."
        )
    return replanned, wanted


def image_python(plan: Plan, ui: UiEntry, profile: Profile) -> str:
    """The newest published Python that the torch line and the UI both accept; the machine's own when it fits
    (its wheels, e.g. pytorch3d's py310 build, were picked for it)."""
    spec = SpecifierSet(plan.python.required or "") & SpecifierSet(ui.python or "")
    candidates = [p for p in base_image().pythons if Version(p) in spec]
    current = profile.python.version
    own = ".".join(current.split(".")[:2]) if current else None
    if own in candidates:
        return own
    if not candidates:
        raise RecipeError(
            f"no Python of the base image ({', '.join(base_image().pythons)}) fits both torch {plan.torch.version} "
            f"({plan.python.required}) and {ui.name} ({ui.python})."
        )
    return candidates[0]


def runtime_indexes(profile: Profile, backend: Backend) -> list[tuple[int, GpuInfo]]:
    """(runtime index, GPU) for the backend's GPUs: CUDA counts NVIDIA GPUs in the order listed, HIP counts the GPUs
    KFD lists, in KFD node order."""
    vendor = VENDOR.get(backend)
    gpus = [g for g in profile.gpus if g.vendor == vendor]
    if backend == "rocm":
        gpus = sorted((g for g in gpus if g.kfd_node is not None), key=lambda g: g.kfd_node or 0)
    return list(enumerate(gpus))


def _wanted(gpus: str, known: list[tuple[int, GpuInfo]], backend: Backend) -> list[int]:
    """The runtime indexes --gpus names, each one checked against the GPUs the profile knows."""
    if gpus == "all":
        wanted = [i for i, _ in known]
    else:
        try:
            wanted = [int(part) for part in gpus.split(",") if part.strip()]
        except ValueError as exc:
            raise RecipeError(f"--gpus takes 'all' or GPU indexes like 0,1; got '{gpus}'.") from exc
    unknown = [i for i in wanted if i not in dict(known)]
    if unknown or not wanted:
        listed = ", ".join(f"{i} = {g.name or g.pci_id or 'GPU'}" for i, g in known) or "none"
        raise RecipeError(
            f"--gpus {gpus}: no {backend} GPU with index {', '.join(map(str, unknown)) or '(none given)'} in "
            f"this profile (known: {listed})."
        )
    return wanted


def gpu_slots(plan: Plan, profile: Profile, ui: UiEntry, gpus: str | None) -> list[GpuSlot]:
    """One slot per service: the plan's device, or each GPU --gpus names (all | N,N...)."""
    if plan.backend == "cpu":
        if gpus:
            raise RecipeError("--gpus needs a GPU backend: this plan runs on the CPU.")
        return [GpuSlot(None, ui.port, plan.device.name)]
    known = runtime_indexes(profile, plan.backend)
    if not gpus:
        device = plan.device.index
        chosen = [i for i, g in known if device is not None and profile.gpus[device] is g]
        return [GpuSlot(chosen[0] if chosen else None, ui.port, plan.device.name)]
    names = dict(known)
    return [  # each slot runs with the plan's env, made for the plan's device (see differing_gpus)
        GpuSlot(i, ui.port + n, names[i].name or f"GPU {i}") for n, i in enumerate(_wanted(gpus, known, plan.backend))
    ]


def differing_gpus(target: Target) -> str | None:
    """A note when --gpus pins services to GPUs of another ISA than the planned one (the env was made for that)."""
    gfx = {(g.gfx or g.compute_capability) for _, g in runtime_indexes(target.profile, target.backend)}
    planned = target.plan.device.gfx or target.plan.device.compute_capability
    others = sorted(x for x in gfx if x and x != planned)
    if len(target.slots) < 2 or not others:
        return None
    return (
        f"--gpus mixes GPU types ({', '.join(others)} besides the planned {planned}): every service gets the env "
        "planned for the latter; check the others with `rigfit plan` (HSA_OVERRIDE_GFX_VERSION and flags may differ)."
    )


def device_gids(profile: Profile) -> list[int] | None:
    """Numeric gids owning /dev/kfd and the render nodes, as the profile recorded them; None when unknown."""
    gids = profile.permissions.device_gids
    if KFD not in gids:
        return None
    return sorted(set(gids.values()))


def make_target(
    profile: Profile,
    options: PlanOptions,
    backend: Backend | None = None,
    gpus: str | None = None,
    pod: bool = False,
    listen: bool = False,
) -> Target:
    """`options` is the plan's (listen stays off there: inside a container the UI always listens, the host bind and
    the login decide who reaches it)."""
    notes: list[str] = []
    plan, profile = _plan_for(profile, options, backend, notes)
    ui = ui_entry(plan.ui)
    gids = device_gids(profile) if plan.backend == "rocm" else None
    target = Target(
        plan=plan,
        profile=profile,
        ui=ui,
        python=image_python(plan, ui, profile),
        slots=gpu_slots(plan, profile, ui, gpus),
        gids=gids,
        listen=listen,
        pod=pod,
        notes=notes,
    )
    if note := differing_gpus(target):
        notes.append(note)
    if (listen or pod) and ui.auth_file_flag is None:
        if listen:
            raise RecipeError(f"--listen would put {ui.name} on the network without a login. {ui.container.auth_note}")
        notes.append(f"{ui.name} stays on 127.0.0.1 inside the pod. {ui.container.auth_note}")
    return target
