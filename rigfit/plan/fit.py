"""What fits: models per VRAM/RAM, bus warnings, and the compatibility pins the chosen stack needs."""

from __future__ import annotations

from rigfit.plan.knowledge import in_range, models, pins, ui_entry
from rigfit.plan.model import Advice, Decision, DevicePick, ModelFit, PlanOptions, Reason
from rigfit.plan.ui_flags import FLAG_PREFIX, oom_relief
from rigfit.probe.profile import GpuInfo, Profile

GIB = 2**30
GB = 1e9
LANE_GBPS = {2.5: 0.25, 5.0: 0.5, 8.0: 0.985, 16.0: 1.97, 32.0: 3.94}  # usable GB/s per lane per PCIe generation


def fit_models(
    device: DevicePick, precision: str, profile: Profile, ui: str
) -> tuple[list[ModelFit], Decision, list[Advice]]:
    ram = profile.memory.total_bytes
    vram = device.vram_bytes
    fits: list[ModelFit] = []
    warnings: list[Advice] = []
    for m in models():
        ram_short = ram is not None and ram / GB < m.ram_gb_min
        if device.kind == "cpu":
            verdict = "no" if m.family == "flux" and (ram is None or ram / GB < m.ram_gb_min) else "slow"
            note = "runs on the CPU: minutes per image" if verdict == "slow" else f"needs {m.ram_gb_min:g} GB RAM"
        elif vram is None:
            verdict, note = "tight", "VRAM unknown"
        else:
            have = vram / GB / (2 if precision == "fp32" else 1)
            if have >= m.vram_gb_comfortable:
                verdict, note = "ok", f"fits in {vram / GIB:.0f} GiB VRAM"
            elif have >= m.vram_gb_min:
                verdict, note = "tight", f"runs with offloading (comfortable from {m.vram_gb_comfortable:g} GB)"
            else:
                verdict, note = "no", f"needs at least {m.vram_gb_min:g} GB VRAM"
            if precision == "fp32" and verdict != "ok":
                note += " (fp32 doubles its size)"
        if ram_short and verdict != "no":
            verdict, note = "tight", note + f"; only {ram / GIB:.0f} GiB RAM for a {m.ram_gb_min:g} GB need: swap"
        if m.note and m.family == "flux" and verdict != "no":
            note += f". {m.note}"
        fits.append(ModelFit(id=m.id, name=m.name, verdict=verdict, note=note))
    flux = [f for f in fits if f.id.startswith("flux") and f.verdict != "ok"]
    if device.kind == "gpu" and vram is not None and vram / GIB <= 8.5 and flux:
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


def bus_warning(gpu: GpuInfo | None, ui_id: str, memory_mode: str) -> Advice | None:
    """PCIe links slower than gen3 x8 make every offload and model load crawl; say by how much and what avoids it."""
    if gpu is None or gpu.pcie is None or not gpu.pcie.speed_gts or not gpu.pcie.width or gpu.integrated:
        return None
    speed, width = gpu.pcie.speed_gts, gpu.pcie.width
    gbps = LANE_GBPS.get(speed, 0.0) * width
    if speed >= 8 and width >= 8:
        return None
    limited = ""
    if gpu.pcie.max_speed_gts and gpu.pcie.max_speed_gts > speed:
        limited = f" (the card can do {gpu.pcie.max_speed_gts:g} GT/s: the slot or board limits it)"
    ui = ui_entry(ui_id)
    fix = (
        "Keep one checkpoint loaded and generate in batches instead of switching models between images; prefer "
        "models that fit in VRAM (see Models) so nothing is offloaded per image"
    )
    if ui.oom_flags is not None:
        fix += f", and add {ui.oom_flags.medium} or {ui.oom_flags.low} only after an actual out-of-memory error"
    keep = [f for f in ui.flags.get("memory.high", []) if not f.startswith(FLAG_PREFIX)]
    if memory_mode in ("normal", "high") and not set(keep) <= set(ui.flags.get(f"memory.{memory_mode}", [])):
        fix += f"; {' '.join(keep)} keeps the weights on the card between images"
    fix += "."
    if limited:
        fix += (
            " Moving the card helps only if the board has a faster slot: compare LnkCap and LnkSta in `sudo lspci -vv`."
        )
    return Advice(
        id="pcie-slow-link",
        message=f"PCIe link {speed:g} GT/s x{width} = about {gbps:.1f} GB/s{limited}: moving the 5 GB SDXL UNet to the "
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
