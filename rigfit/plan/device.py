"""Which device runs Stable Diffusion: assess every GPU for a torch backend, pick the best usable one, else the CPU."""

from __future__ import annotations

from rigfit.kb.cuda_support import cc_covered, cuda_lines_for
from rigfit.kb.fixes import fix_text
from rigfit.kb.gpus import model_of
from rigfit.kb.rocm_support import rocm_support
from rigfit.kb.schemas import GfxTarget, xpu_ui_names
from rigfit.plan.knowledge import (
    gfx_targets,
    newest_first,
    newest_wheel,
    override_target,
    wheel_lines,
)
from rigfit.plan.model import Alternative, Blocker, DevicePick, Reason
from rigfit.probe.fault_findings import FAULTS
from rigfit.probe.pcie_slots import atomics_slot_advice
from rigfit.probe.profile import GpuInfo, Profile, isa_name, sm_name
from rigfit.records import field, record

GIB = 2**30
VULKAN_ENGINE = (
    "stable-diffusion.cpp with its Vulkan backend (leejet/stable-diffusion.cpp): runs SD1.5/SDXL/Flux GGUF on any "
    "Vulkan GPU through Mesa RADV, no ROCm, no PCIe atomics, no AVX needed"
)


@record(frozen=True)
class BackendDriver:
    """The kernel driver a vendor's torch backend needs, and the blocker when another one holds the card."""

    driver: str
    blocker_id: str
    why: str  # the message after "<GPU> is driven by '<driver>'"
    fix: str


BACKEND_DRIVERS = {
    "nvidia": BackendDriver(
        driver="nvidia",
        blocker_id="nvidia-driver-not-bound",
        why=", which CUDA cannot use.",
        fix=fix_text("nvidia-driver-not-bound"),
    ),
    "amd": BackendDriver(
        driver="amdgpu",
        blocker_id="amdgpu-not-bound",
        why="; ROCm needs the amdgpu driver.",
        fix=fix_text("amdgpu-not-bound"),
    ),
}


@record
class GpuAssessment:
    """Can a torch backend use this GPU, and if not, why (blockers) and what else could."""

    index: int
    gpu: GpuInfo
    backend: str | None  # "cuda" | "rocm" | None when no torch backend can use it
    reasons: list[Reason] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    gfx_entry: GfxTarget | None = None
    kernel_gfx: str | None = None  # ISA whose kernels run on it: its own, or the one an override borrows

    @property
    def usable(self) -> bool:
        return self.backend is not None and not any(b.blocks in ("gpu", "all") for b in self.blockers)


def label(g: GpuInfo) -> str:
    ident = isa_name(g.gfx, g.compute_capability)
    return f"{g.name or 'unknown GPU'}" + (f" ({ident})" if ident else "") + (f" [{g.pci_id}]" if g.pci_id else "")


def _foreign_driver(g: GpuInfo) -> Blocker | None:
    """Another kernel driver than the one the vendor's torch backend needs holds the card."""
    need = BACKEND_DRIVERS.get(g.vendor or "")
    if need is None or not g.driver or g.driver == need.driver:
        return None
    return Blocker(
        id=need.blocker_id, message=f"{label(g)} is driven by '{g.driver}'{need.why}", fix=need.fix, blocks="gpu"
    )


def _nvidia_driver_fault(profile: Profile, g: GpuInfo) -> Blocker | None:
    """A broken NVIDIA driver state doctor reports as a blocker (nouveau owns the card, the module is not loaded or
    does not match, no device initialised): CUDA cannot use the card, whatever its compute capability."""
    if g.vendor != "nvidia":
        return None
    for fault in profile.gpu_faults:
        kind = FAULTS.get(fault.kind)
        if kind and kind.severity == "blocker" and kind.finding.startswith(("gpu.nvidia", "gpu.nouveau", "gpu.nvml")):
            return Blocker(
                id=kind.finding.removeprefix("gpu.").replace("_", "-"),
                message=f"{label(g)}: {kind.means} (`{fault.evidence[:160]}`).",
                fix=kind.fix(fault),
                blocks="gpu",
            )
    return None


def _init_failed(profile: Profile, g: GpuInfo) -> Blocker | None:
    """The kernel log says this GPU's driver gave up ("amdgpu ...: Fatal error during GPU init"): no runtime can use
    the card, whatever its generation."""
    for fault in profile.gpu_faults:
        kind = FAULTS.get(fault.kind)
        if kind and kind.finding == "gpu.init_failed" and g.driver and fault.detail == g.driver:
            return Blocker(
                id="gpu-init-failed",
                message=f"{label(g)}: {kind.means} (`{fault.evidence[:160]}`).",
                fix=kind.fix(fault),
                blocks="gpu",
            )
    return None


def _assess_nvidia(a: GpuAssessment) -> None:
    g = a.gpu
    cc = g.compute_capability
    if cc is None:
        a.backend = "cuda"
        a.reasons.append(Reason(text=f"{label(g)}: compute capability unknown; assuming a current CUDA wheel fits."))
        return
    lines = cuda_lines_for(cc)
    if not lines:
        a.blockers.append(
            Blocker(
                id="cuda-arch-unsupported",
                message=f"No official torch CUDA wheel has kernels for {sm_name(cc)} ({label(g)}).",
                fix=fix_text("cuda-arch-unsupported"),
                blocks="gpu",
                kb=[w.id for w in wheel_lines() if w.kind == "cuda"],
            )
        )
        return
    a.backend = "cuda"
    a.reasons.append(
        Reason(
            text=f"{sm_name(cc)} has kernels in {lines[0].id}.",
            facts=[f"gpu[{a.index}].compute_capability={cc}"],
            kb=[lines[0].id],
        )
    )


def _atomics_rejected(a: GpuAssessment, profile: Profile, entry: GfxTarget | None) -> bool:
    """The kernel driver skipped the card for lack of PCIe atomics: a blocker, and nothing else to assess."""
    g = a.gpu
    rejected = bool(g.atomics_rejected) or (g.pci_id or "-") in profile.pcie_atomics_rejected
    if rejected:
        support = rocm_support(g.gfx)
        # with atomics it would still need the route doctor names (gpu.rocm_dropped): one text for both
        also = f" Even with atomics: {support.dropped_text()}" if support.dropped else ""
        a.blockers.append(
            Blocker(
                id="pcie-atomics-rejected",
                message=f"ROCm cannot use {label(g)}: the kernel driver skipped it ('PCI rejects atomics'); "
                f"{(g.gfx or 'this')} cards need PCIe atomics end to end.{also}",
                fix=fix_text("pcie-atomics-rejected", slot=atomics_slot_advice(profile.cpu)),
                blocks="gpu",
                kb=[entry.id] if entry else [],
            )
        )
        return True
    return False


def _rocm_route(a: GpuAssessment, entry: GfxTarget | None, facts: list[str], verified: bool) -> bool:
    """How ROCm can run the card's ISA (own kernels, an override, a community build), or the blocker; False when
    ROCm is not planned for it."""
    g = a.gpu
    if entry is None:
        a.reasons.append(
            Reason(
                text=f"{label(g)}: gfx target {'unknown' if not g.gfx else g.gfx + ' has no ROCm support rigfit knows'}"
                "; ROCm is not planned for it.",
                facts=facts,
            )
        )
        return False
    support = rocm_support(g.gfx)
    if support.route == "native":
        a.backend, a.kernel_gfx = "rocm", g.gfx
        a.reasons.append(
            Reason(text=f"{g.gfx} has its own kernels in official ROCm wheels.", facts=facts, kb=[entry.id])
        )
    elif entry.override and entry.override_reliability == "unreliable" and not entry.known_good_torch and not verified:
        a.reasons.append(
            Reason(
                text=f"{g.gfx} could borrow {override_target(entry.override)} kernels with HSA_OVERRIDE_GFX_VERSION="
                f"{entry.override}, but that is unreliable on this ISA and no torch line is known to work: the plan "
                "stays on the CPU until `rigfit verify` passes with the override set.",
                facts=facts,
                kb=[entry.id],
            )
        )
    elif entry.override and entry.override_reliability in ("good", "unreliable"):
        a.backend, a.kernel_gfx = "rocm", override_target(entry.override)
        a.reasons.append(
            Reason(
                text=f"No official wheel ships {g.gfx} kernels; HSA_OVERRIDE_GFX_VERSION={entry.override} lets it run "
                f"{a.kernel_gfx} kernels ({entry.override_reliability}).",
                facts=facts,
                kb=[entry.id],
            )
        )
    elif entry.known_good_torch:
        a.backend, a.kernel_gfx = "rocm", g.gfx
        a.reasons.append(
            Reason(text=f"{g.gfx} runs only on community builds: {support.dropped_text()}", facts=facts, kb=[entry.id])
        )
    else:
        a.blockers.append(
            Blocker(
                id="rocm-no-kernels",
                message=f"No torch ROCm build runs {label(g)}: no kernels for {g.gfx}"
                + (f", and the {entry.override} override is known to crash" if entry.override else "")
                + (f"; {support.dropped_text()}" if support.dropped else "."),
                fix=fix_text("rocm-no-kernels"),
                blocks="gpu",
                kb=[entry.id],
            )
        )
        return False
    return True


def _kfd_blockers(a: GpuAssessment, profile: Profile) -> None:
    """ROCm reaches the card through /dev/kfd: missing or not openable is a blocker."""
    if profile.kfd_access == "permission_denied":
        a.blockers.append(
            Blocker(
                id="kfd-permission-denied",
                message="/dev/kfd exists but this user cannot open it, so ROCm sees no GPU.",
                fix=fix_text("kfd-permission-denied"),
                blocks="gpu",
            )
        )
    elif profile.kfd_access == "missing":
        fix = fix_text("kfd-missing", case="container" if profile.python.container else "host")
        a.blockers.append(
            Blocker(id="kfd-missing", message="/dev/kfd does not exist: ROCm has no device.", fix=fix, blocks="gpu")
        )


def _assess_amd(a: GpuAssessment, profile: Profile, verified: bool) -> None:
    g = a.gpu
    facts = [f"gpu[{a.index}].gfx={g.gfx}"]
    entry = gfx_targets().get(g.gfx or "")
    a.gfx_entry = entry
    if _atomics_rejected(a, profile, entry) or not _rocm_route(a, entry, facts, verified):
        return
    _kfd_blockers(a, profile)


@record(frozen=True)
class XpuUi:
    """The UI the plan is for, as far as Intel GPUs go: its name, and whether it runs on torch.xpu (uis.yaml)."""

    name: str = "the UI"
    runs_xpu: bool = False


def _assess_intel(a: GpuAssessment, ui: XpuUi) -> None:
    """An Intel GPU: PyTorch's XPU build runs Arc and Core Ultra GPUs (gpus.yaml `xpu`); the plan uses it when the UI
    runs on torch.xpu, and says why not when it does not."""
    g = a.gpu
    model = model_of(g.pci_id, g.name)
    if model is None or not model.xpu:
        a.reasons.append(_no_backend(g))
        return
    line = newest_wheel("xpu")
    if not ui.runs_xpu:
        a.reasons.append(
            Reason(
                text=f"{label(g)}: PyTorch's XPU build runs this GPU, but rigfit knows of no {ui.name} release that "
                f"runs on torch.xpu without Intel's discontinued IPEX extension: the plan uses the CPU. "
                f"{xpu_ui_names()} run on it.",
                kb=[model.id, line.id],
            )
        )
        return
    a.backend = "xpu"
    a.reasons.append(
        Reason(
            text=f"{label(g)}: PyTorch's XPU build (torch {line.torch}+xpu) runs this GPU; it needs Intel's GPU "
            "driver stack (compute runtime, Level Zero) on the host.",
            facts=[f"gpu[{a.index}].pci_id={g.pci_id}"],
            kb=[model.id, line.id],
        )
    )


def _no_backend(g: GpuInfo) -> Reason:
    """A GPU rigfit plans no torch backend for."""
    model = model_of(g.pci_id, g.name)
    if g.vendor == "intel" and model is not None:
        return Reason(text=f"{label(g)}: no torch build has a GPU backend for this Intel generation.", kb=[model.id])
    return Reason(text=f"{label(g)}: no CUDA/ROCm torch backend for vendor '{g.vendor or 'unknown'}'.")


def assess_gpus(profile: Profile, verified_gpu: bool = False, ui: XpuUi | None = None) -> list[GpuAssessment]:
    """Each GPU's usability; verified_gpu = `rigfit verify` proved GPU ops correct, which lifts 'unreliable' doubts;
    `ui` says whether the UI runs on an Intel GPU (PyTorch's XPU build)."""
    found = []
    for i, g in enumerate(profile.gpus):
        a = GpuAssessment(index=i, gpu=g, backend=None)
        wrong_driver = _foreign_driver(g) or _nvidia_driver_fault(profile, g) or _init_failed(profile, g)
        if wrong_driver is not None:
            a.blockers.append(wrong_driver)
        if g.vendor == "nvidia":
            _assess_nvidia(a)
        elif g.vendor == "amd":
            _assess_amd(a, profile, verified_gpu)
        elif g.vendor == "intel":
            _assess_intel(a, ui or XpuUi())
        else:
            a.reasons.append(_no_backend(g))
        found.append(a)
    return found


def _newest_line_runs_it(g: GpuInfo) -> bool:
    """The newest torch line has kernels for it: a Tesla K80 only runs an old CUDA 11.8 line, an RX 580 only a
    community ROCm 5.7 build; beside a card the current lines run, they are the worse pick whatever their VRAM."""
    if g.vendor == "nvidia" and g.compute_capability:
        newest = newest_first([w for w in wheel_lines() if w.kind == "cuda"])
        return not newest or cc_covered(g.compute_capability, newest[0].cuda_archs)
    support = rocm_support(g.gfx) if g.vendor == "amd" else None
    return support is None or not support.dropped


def rank(a: GpuAssessment) -> tuple[bool, bool, bool, int]:
    """Usable first, then discrete over integrated, then one the newest torch line runs, then more VRAM."""
    return (a.usable, a.gpu.integrated is not True, _newest_line_runs_it(a.gpu), a.gpu.vram_bytes or 0)


def pick_device(
    profile: Profile, assessed: list[GpuAssessment]
) -> tuple[GpuAssessment | None, DevicePick, list[Reason], list[Alternative]]:
    """The best usable GPU, or the CPU; with the reasons and the devices not chosen."""
    usable = sorted((a for a in assessed if a.usable), key=rank, reverse=True)
    alternatives: list[Alternative] = []
    for a in assessed:
        if a in usable[:1]:
            continue
        why = "; ".join(b.message for b in a.blockers) or "; ".join(r.text for r in a.reasons) or "not usable"
        if a.usable:
            why = (
                "integrated GPU sharing system memory"
                if a.gpu.integrated
                else f"less VRAM ({(a.gpu.vram_bytes or 0) / GIB:.1f} GiB)"
            )
        alternatives.append(Alternative(choice=label(a.gpu), why_not=why))
    if usable:
        best = usable[0]
        g = best.gpu
        reasons = list(best.reasons)
        if len(profile.gpus) > 1:
            reasons.append(
                Reason(
                    text="Chosen over the other GPU(s): usable by a torch backend, discrete before integrated, "
                    "then one the newest torch line runs, then the most VRAM.",
                    facts=[
                        f"gpu[{best.index}].integrated={g.integrated}",
                        f"gpu[{best.index}].vram_bytes={g.vram_bytes}",
                    ],
                )
            )
        pick = DevicePick(
            index=best.index,
            name=g.name or "unknown GPU",
            kind="gpu",
            vendor=g.vendor,
            gfx=g.gfx,
            compute_capability=g.compute_capability,
            vram_bytes=g.vram_bytes,
            integrated=g.integrated,
        )
        return best, pick, reasons, alternatives
    cpu = profile.cpu
    reasons = [
        Reason(
            text="No GPU a torch backend can use"
            + (" (see the blockers)" if profile.gpus else ": none found")
            + "; Stable Diffusion runs on the CPU, minutes per image.",
            facts=[f"gpus={len(profile.gpus)}"],
        )
    ]
    if profile.gpus:
        alternatives.append(
            Alternative(choice=VULKAN_ENGINE, why_not="a separate program, not a torch backend the UIs can use")
        )
    return None, DevicePick(name=cpu.model or "CPU", kind="cpu", vendor=cpu.vendor), reasons, alternatives
