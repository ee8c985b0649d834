"""Precision, memory mode and attention for the chosen device; a measurement (VerifiedFacts) beats the KB."""

from __future__ import annotations

import re
from typing import Literal

from rigfit.kb.fixes import fix_text
from rigfit.kb.measured import VerifiedFacts
from rigfit.kb.memory_modes import MEMORY_MODES, memory_mode_for
from rigfit.kb.schemas import GfxTarget, PrecisionRule, UiEntry
from rigfit.plan.knowledge import in_range, pins, precision_rules, ui_entries, ui_entry, version
from rigfit.plan.model import Advice, Alternative, Decision, DevicePick, PlanOptions, Reason
from rigfit.plan.ui_flags import oom_relief
from rigfit.probe.profile import Profile

GIB = 2**30
VRAM_READ_FROM = {
    "amd": "/sys/class/drm/card*/device/mem_info_vram_total, with the amdgpu driver bound",
    "nvidia": "`nvidia-smi --query-gpu=memory.total --format=csv`",
}
FP32_COST = (
    "fp32 weights take twice the memory (the SDXL UNet grows from about 5 to 10 GB, more than an 8 GB card holds) and "
    "run at roughly half the speed"
)


def match_rule(device: DevicePick, gfx: GfxTarget | None, profile: Profile) -> PrecisionRule | None:
    for rule in precision_rules():
        if device.kind == "cpu":
            cpu = profile.cpu
            native = bool(cpu.avx512_bf16 or cpu.amx_bf16)
            if rule.vendor == "cpu" and ("bf16-native" if native else "no-bf16") in rule.match_generation:
                return rule
            continue
        if rule.vendor != device.vendor:
            continue
        if rule.vendor == "amd":
            if gfx is not None and gfx.generation in rule.match_generation:
                return rule
            continue
        if rule.match_name and not re.search(rule.match_name, device.name or ""):
            continue
        if rule.match_cc and not in_range(device.compute_capability, rule.match_cc):
            continue
        return rule
    return None


SETTINGS = {
    "fp16": ("fp16", "fp16", ["precision.fp16"]),
    "fp16-upcast": (
        "fp16",
        "fp16 weights, sampling upcast to fp32, fp32 VAE",
        ["precision.upcast", "precision.vae_fp32"],
    ),
    "fp32": ("fp32", "fp32 everywhere", ["precision.fp32"]),
    "bf16": ("bf16", "bf16", ["precision.bf16"]),
}

# what `rigfit verify`'s fp16 UNet probe changes: (the KB's key, fp16 came out finite) -> (the key, why)
FP16_MEASURED: dict[tuple[str, bool | None], tuple[str, str]] = {
    ("fp16", False): (
        "fp16-upcast",
        "`rigfit verify` found inf/NaN in fp16 on this card: upcast sampling and an fp32 VAE instead of full fp32.",
    ),
    ("fp16-upcast", True): (
        "fp16",
        "`rigfit verify` ran the UNet probe in fp16 without inf/NaN on this card: plain fp16, no upcast needed.",
    ),
}


def _ui_can_express(
    key: str, ui: UiEntry, alternatives: list[Alternative], reasons: list[Reason]
) -> tuple[str, list[Alternative]]:
    """A measured bf16 the UI has no flag for must not silently drop the UI's precision flags: the plan keeps fp32
    (which the UI can say) and names the UIs that run bf16."""
    if key != "bf16" or ui.flags.get("precision.bf16"):
        return key, alternatives
    others = [u for u in ui_entries().values() if u.flags.get("precision.bf16") and u.id != ui.id]
    reasons.append(
        Reason(
            text=f"{ui.name} has no bf16 mode, so the measured bf16 cannot be set there: fp32 is kept "
            f"({' '.join(ui.flags.get('precision.fp32', [])) or 'its default'}).",
            kb=[ui.id],
        )
    )
    via = ", ".join(f"{u.name} ({' '.join(u.flags['precision.bf16'])})" for u in others if u.flags["precision.bf16"])
    alternatives.append(Alternative(choice=f"bf16 in another UI: {via}", why_not=f"{ui.name} cannot express it"))
    return "fp32", alternatives


def _why_not_fp32(key: str, rule: PrecisionRule | None) -> str:
    if key == "fp16":
        return ": this card handles fp16"
    if key == "fp16-upcast" and rule is not None and rule.fp16 == "slow":
        return ": this card's fp16 is slow, not wrong, and upcast sampling computes in fp32 at fp16's memory"
    return ": upcasting only the sampler and VAE fixes them"


def choose_precision(
    device: DevicePick,
    gfx: GfxTarget | None,
    profile: Profile,
    options: PlanOptions,
    verified: VerifiedFacts | None,
) -> tuple[str, Decision]:
    """The precision key (fp16, fp16-upcast, fp32, bf16) and its decision."""
    rule = match_rule(device, gfx, profile)
    facts = [f"device={device.name}"]
    if device.kind == "cpu":
        facts += [f"cpu.avx512_bf16={profile.cpu.avx512_bf16}", f"cpu.amx_bf16={profile.cpu.amx_bf16}"]
    elif gfx is not None:
        facts.append(f"gpu.generation={gfx.generation}")
    elif device.compute_capability:
        facts.append(f"gpu.compute_capability={device.compute_capability}")
    key: str = rule.prefer if rule else ("fp32" if device.kind == "cpu" else "fp16")
    reasons = [
        Reason(
            text=rule.note if rule else "No precision rule matches this device: the UI default.",
            facts=facts,
            kb=[rule.id] if rule else [],
        )
    ]
    alternatives: list[Alternative] = []
    basis: Literal["kb", "measured", "user", "unknown"] = "kb"
    ui = ui_entry(options.ui)
    if key == "bf16" and not ui.flags.get("precision.bf16"):
        key = "fp32"
        reasons.append(Reason(text=f"{ui.name} has no bf16 mode: fp32 instead.", kb=[ui.id]))
    if verified is not None and verified.best is not None:
        key = {"fp16": "fp16", "bf16": "bf16", "fp32": "fp32"}.get(verified.best.dtype, key)
        basis = "measured"
        reasons.append(
            Reason(
                text=f"`rigfit bench` measured {verified.best.dtype} as the fastest safe setting here.",
                facts=[f"verified.best.dtype={verified.best.dtype}"],
            )
        )
    elif verified is not None and verified.precision_ok:
        fp16_ok = verified.precision_ok.get("fp16")
        measured = FP16_MEASURED.get((key, fp16_ok))
        if measured is not None:
            key, why = measured
            basis = "measured"
            reasons.append(Reason(text=why, facts=[f"verified.precision_ok.fp16={fp16_ok}"]))
    key, alternatives = _ui_can_express(key, ui, alternatives, reasons)
    if options.full_precision:
        reasons.append(Reason(text=f"You asked for full fp32. It works, but {FP32_COST}.", facts=["option=fp32"]))
        key, basis = "fp32", "user"
    elif key in ("fp16", "fp16-upcast", "bf16") and device.kind == "gpu":
        alternatives.append(
            Alternative(
                choice="fp32 everywhere (--no-half --precision full)",
                why_not=f"{FP32_COST}. NaN/black images are a property of the GPU, not of an old CPU"
                + _why_not_fp32(key, rule),
            )
        )
    detail = SETTINGS[key][1]
    return key, Decision(topic="precision", choice=detail, reasons=reasons, alternatives=alternatives, basis=basis)


def choose_attention(torch_version: str | None, backend: str, verified: VerifiedFacts | None) -> Decision:
    if verified is not None and verified.best is not None and verified.best.attention in ("sdpa", "subquad", "split"):
        return Decision(
            topic="attention",
            choice=verified.best.attention,
            basis="measured",
            reasons=[Reason(text="`rigfit bench` measured this attention as fastest.")],
        )
    decision = _attention_from_kb(torch_version, backend)
    if verified is not None and verified.best is not None:  # measured, but not an attention the UIs take a flag for
        decision.reasons.append(
            Reason(
                text=f"`rigfit bench` measured '{verified.best.attention}' attention fastest; the UIs have no flag "
                f"that selects it reliably, so the plan keeps {decision.choice} (see the bench table).",
                facts=[f"verified.best.attention={verified.best.attention}"],
            )
        )
    return decision


def _attention_from_kb(torch_version: str | None, backend: str) -> Decision:
    v = version(torch_version)
    if v is not None and v.major < 2:
        choice = "split" if backend == "cuda" else "subquad"
        return Decision(
            topic="attention",
            choice=choice,
            reasons=[
                Reason(
                    text=f"torch {torch_version} predates scaled-dot-product attention (torch 2.0): "
                    f"{'split' if choice == 'split' else 'sub-quadratic'} attention keeps memory bounded.",
                    facts=[f"torch={torch_version}"],
                )
            ],
        )
    return Decision(
        topic="attention",
        choice="sdpa",
        reasons=[
            Reason(
                text="torch >= 2.0: PyTorch's scaled-dot-product attention, memory-efficient with no extra "
                "package (xformers would pin torch to one release).",
                facts=[f"torch={torch_version or 'source build'}"],
                kb=[p.id for p in pins() if p.package == "xformers"],
            )
        ],
    )


def choose_memory(
    device: DevicePick, precision: str, attention: str, profile: Profile, verified: VerifiedFacts | None, ui: str
) -> tuple[Decision, list[Advice]]:
    warnings: list[Advice] = []
    if device.kind == "cpu":
        return Decision(topic="memory", choice="cpu", reasons=[Reason(text="Runs from system RAM on the CPU.")]), []
    if verified is not None and verified.best is not None and verified.best.memory_mode:
        mode = {"lowvram": "low", "medvram": "medium"}.get(verified.best.memory_mode, verified.best.memory_mode)
        if mode in MEMORY_MODES:
            return Decision(
                topic="memory",
                choice=mode,
                basis="measured",
                reasons=[Reason(text="`rigfit bench` measured this memory mode as the fastest that fits.")],
            ), []
    vram = device.vram_bytes
    if vram is None:
        warnings.append(
            Advice(
                id="vram-unknown",
                message="VRAM size unknown: the plan assumes the normal memory mode, which a small card cannot hold.",
                fix=fix_text(
                    "vram-unknown",
                    read_from=VRAM_READ_FROM.get(device.vendor or "", "the size from the GPU driver"),
                    oom_relief=oom_relief(ui, None),
                ),
                kb=[ui],
            )
        )
        return Decision(
            topic="memory",
            choice="normal",
            basis="unknown",
            reasons=[Reason(text="VRAM unknown.", facts=["gpu.vram_bytes=None"])],
        ), warnings
    gib = vram / GIB
    effective = gib / 2 if precision == "fp32" else gib
    facts = [f"gpu.vram_bytes={vram}", f"precision={precision}"]
    mode, why = memory_mode_for(effective, sdpa=attention == "sdpa")
    reasons = [
        Reason(
            text=f"{gib:.1f} GiB VRAM{' at fp32 (counts as half)' if precision == 'fp32' else ''}: {why}.", facts=facts
        )
    ]
    if device.integrated:
        reasons.append(
            Reason(
                text="Integrated GPU: its 'VRAM' is a carve-out of system RAM; the rest comes through "
                "GTT at system-memory speed.",
                facts=["gpu.integrated=True"],
            )
        )
        warnings.append(
            Advice(
                id="integrated-gpu-shared-memory",
                message="Integrated GPU: its memory is shared with the system (carve-out + GTT), so generation is "
                "bound by RAM bandwidth and large models compete with everything else for RAM.",
                fix=fix_text("integrated-gpu-shared-memory", oom_relief=oom_relief(ui, vram)),
                kb=[ui],
            )
        )
    return Decision(topic="memory", choice=mode, reasons=reasons), warnings
