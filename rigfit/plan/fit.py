"""What fits: models per VRAM/RAM, bus warnings, and the compatibility pins the chosen stack needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rigfit.kb.fixes import fix_text
from rigfit.kb.schemas import ModelEntry
from rigfit.plan.knowledge import in_range, models, pins, ui_entry
from rigfit.plan.model import Advice, Decision, DevicePick, ModelFit, PlanOptions, Reason
from rigfit.plan.ui_flags import FLAG_PREFIX, oom_relief
from rigfit.probe.pcie_slots import faster_slot_advice, slow_link
from rigfit.probe.profile import CpuInfo, GpuInfo, Profile

GIB = 2**30
GB = 1e9
Verdict = Literal["ok", "slow", "tight", "no"]
LANE_GBPS = {2.5: 0.25, 5.0: 0.5, 8.0: 0.985, 16.0: 1.97, 32.0: 3.94}  # usable GB/s per lane per PCIe generation


def _vram_verdict(m: ModelEntry, vram: int, precision: str) -> tuple[Verdict, str]:
    have = vram / GB / (2 if precision == "fp32" else 1)
    verdict: Verdict
    if have >= m.vram_gb_comfortable:
        verdict, note = "ok", f"fits in {vram / GIB:.0f} GiB VRAM"
    elif have >= m.vram_gb_min:
        verdict, note = "tight", f"runs with offloading (comfortable from {m.vram_gb_comfortable:g} GB)"
    else:
        verdict, note = "no", f"needs at least {m.vram_gb_min:g} GB VRAM"
    if precision == "fp32" and verdict != "ok":
        note += " (fp32 doubles its size)"
    return verdict, note


def model_fit(m: ModelEntry, device: DevicePick, precision: str, ram: int | None) -> ModelFit:
    """One model against this machine's VRAM (or RAM on the CPU)."""
    vram = device.vram_bytes
    verdict: Verdict
    if device.kind == "cpu":
        verdict = "no" if m.family == "flux" and (ram is None or ram / GB < m.ram_gb_min) else "slow"
        note = "runs on the CPU: minutes per image" if verdict == "slow" else f"needs {m.ram_gb_min:g} GB RAM"
    elif vram is None:
        verdict, note = "tight", "VRAM unknown"
    else:
        verdict, note = _vram_verdict(m, vram, precision)
    if ram is not None and ram / GB < m.ram_gb_min and verdict != "no":
        verdict, note = "tight", note + f"; only {ram / GIB:.0f} GiB RAM for a {m.ram_gb_min:g} GB need: swap"
    if m.note and m.family == "flux" and verdict != "no":
        note += f". {m.note}"
    return ModelFit(id=m.id, name=m.name, verdict=verdict, note=note)


def fit_models(
    device: DevicePick, precision: str, profile: Profile, ui: str, asked: Sequence[str] = ()
) -> tuple[list[ModelFit], Decision, list[Advice]]:
    """Every model's verdict; the long how-to for Flux on a small card only when the person asked about Flux."""
    ram = profile.memory.total_bytes
    vram = device.vram_bytes
    fits = [model_fit(m, device, precision, ram) for m in models()]
    warnings: list[Advice] = []
    flux = [f for f in fits if f.id.startswith("flux") and f.verdict != "ok"]
    if "flux" in asked and device.kind == "gpu" and vram is not None and vram / GIB <= 8.5 and flux:
        warnings.append(flux_advice(vram, ui))
    ok = [f.name for f in fits if f.verdict in ("ok", "slow")]
    decision = Decision(
        topic="models",
        choice=", ".join(ok) or "none comfortably",
        reasons=[
            Reason(
                text="Each model's VRAM/RAM need against this machine.",
                facts=[f"gpu.vram_bytes={vram}", f"memory.total_bytes={ram}", f"precision={precision}"],
                kb=[m.id for m in models()],
            )
        ],
    )
    return fits, decision, warnings


def flux_advice(vram: int, ui_id: str) -> Advice:
    """Flux on a small card: which 4-bit variant to download, how the chosen UI loads it, the flag if it still OOMs."""
    ui = ui_entry(ui_id)
    model = next((m for m in models() if m.id == ui.flux_model), None)
    steps = [f"Download {model.name}: {model.download}." if model and model.download else "", ui.flux_quantized]
    if ui.flux_model:
        steps.append(f"If it still runs out of memory, {oom_relief(ui_id, vram)}.")
    return Advice(
        id="flux-8gb",
        message=f"Flux on {vram / GIB:.0f} GiB: the bf16 and fp8 checkpoints do not fit; only 4-bit variants (GGUF Q4, "
        "NF4) run, with the text encoder in system RAM, at minutes per image. SD1.5 and SDXL (Lightning for speed) "
        "are the practical models here.",
        fix=" ".join(s for s in steps if s),
        kb=[m for m in (ui.flux_model, ui.id) if m],
    )


def bus_warning(gpu: GpuInfo | None, ui_id: str, memory_mode: str, cpu: CpuInfo) -> Advice | None:
    """A slow PCIe link (the same test as doctor's) makes every offload and model load crawl; say by how much and what
    avoids it. An unknown width is counted as x16: the time is then a best case."""
    slow = slow_link(gpu) if gpu is not None else None
    if gpu is None or gpu.pcie is None or slow is None:
        return None
    speed = gpu.pcie.speed_gts or slow.speed_gts
    width = gpu.pcie.width or slow.width
    if not speed:
        return None
    gbps = LANE_GBPS.get(speed, 0.0) * (width or 16)
    limited = ""
    if gpu.pcie.max_speed_gts and gpu.pcie.max_speed_gts > speed:
        limited = f" (the card can do {gpu.pcie.max_speed_gts:g} GT/s: the slot or board limits it)"
    ui = ui_entry(ui_id)
    fix = fix_text("pcie-slow-link", case="keep-loaded")
    if ui.oom_flags is not None:
        fix += fix_text("pcie-slow-link", case="after-oom", medium=ui.oom_flags.medium, low=ui.oom_flags.low)
    keep = [f for f in ui.flags.get("memory.high", []) if not f.startswith(FLAG_PREFIX)]
    if memory_mode in ("normal", "high") and not set(keep) <= set(ui.flags.get(f"memory.{memory_mode}", [])):
        fix += fix_text("pcie-slow-link", case="keep-flags", flags=" ".join(keep))
    fix += f". {faster_slot_advice(cpu)}"
    shown = f"x{width}" if width else "(width unknown, at best x16)"
    return Advice(
        id="pcie-slow-link",
        message=f"PCIe link {speed:g} GT/s {shown} = about {gbps:.1f} GB/s{limited}: moving the 5 GB SDXL UNet to the "
        f"card takes {5 / gbps:.1f} s at best, and offloading modes move weights like that for every image.",
        fix=fix,
        kb=[ui.id],
    )


def choose_pins(torch_version: str | None, options: PlanOptions, profile: Profile) -> tuple[list[str], Decision | None]:
    lines: list[str] = []
    reasons: list[Reason] = []
    level = profile.cpu.x86_64_level
    for p in pins():
        hit = []
        if p.applies_if_torch and torch_version and in_range(torch_version, p.applies_if_torch):
            hit.append(f"torch={torch_version}")
        if p.applies_if_x86_level_below and level is not None and level < p.applies_if_x86_level_below:
            hit.append(f"cpu.x86_64_level={level}")
        if set(p.applies_with) & set(options.extras):
            hit.append(f"extras={','.join(options.extras)}")
        if options.ui in p.applies_to_ui:
            hit.append(f"ui={options.ui}")
        if not hit:
            continue
        req = f"{p.package}{p.spec}"
        if req not in lines:
            lines.append(req)
        reasons.append(Reason(text=f"{req}: {p.when}. Without it: {p.symptom}", facts=hit, kb=[p.id]))
    if not lines:
        return [], None
    return lines, Decision(topic="pins", choice=" ".join(lines), reasons=reasons)
