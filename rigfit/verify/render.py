"""What verify and bench print: short lines a person can act on (every problem with its fix), and the JSON."""

from __future__ import annotations

from typing import Any

from rigfit.kb.measured import VerifiedFacts
from rigfit.kb.typed import dump
from rigfit.verify.benchmark import IMAGE_STEPS, BenchReport, references
from rigfit.verify.device import DeviceOutcome
from rigfit.verify.imports import ImportOutcome

RANDOM_WEIGHTS_NOTE = (
    "precision was probed with random weights: real checkpoints can still overflow in fp16 where these did not "
    "(rigfit plan's known-bad list still applies)"
)


def seconds(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def mib(value: int | None) -> str:
    return "?" if value is None else f"{value / 2**20:.0f} MiB"


def import_lines(outcomes: list[ImportOutcome]) -> list[str]:
    lines = []
    for o in outcomes:
        mark = "ok " if o.ok else "FAIL"
        head = f"  [{mark}] {o.dist} {o.version or ''}".rstrip()
        lines.append(head if o.problem is None else f"{head}: {o.problem.message}")
        if o.problem and o.problem.fix:
            lines.append(f"         fix: {o.problem.fix}")
    notes = sorted({o.note for o in outcomes if o.note})
    lines.extend(f"  note: {n}" for n in notes)
    return lines


def device_lines(outcome: DeviceOutcome) -> list[str]:
    facts = outcome.facts
    name = facts.get("name") or f"CPU ({facts.get('cpu_capability', '?')} kernels, {facts.get('threads', '?')} threads)"
    lines = [f"  device: {outcome.device} - {name}, torch {facts.get('torch_version', '?')}"]
    if outcome.ops:
        by_dtype: dict[str, list[dict[str, Any]]] = {}
        for op in outcome.ops:
            by_dtype.setdefault(op["dtype"], []).append(op)
        for dtype, ops in by_dtype.items():
            bad = [op["op"] for op in ops if not op.get("ok")]
            text = "matmul, conv2d, GroupNorm, SDPA match the CPU" if not bad else f"FAILED: {', '.join(bad)}"
            lines.append(f"  [{'ok ' if not bad else 'FAIL'}] {dtype}: {text}")
    for probe in outcome.precision:
        if probe.get("finite"):
            diff = probe.get("rel_diff_vs_fp32")
            extra = f" (differs from fp32 by {diff:.1%})" if diff is not None else ""
            lines.append(f"  [ok ] {probe['dtype']}: SD UNet steps + VAE decode stay finite{extra}")
        else:
            where = probe.get("error") or f"inf/NaN from step {probe.get('first_nonfinite_step') or '?'}"
            lines.append(f"  [FAIL] {probe['dtype']}: SD UNet probe: {where.splitlines()[0]}")
    for problem in outcome.problems:
        lines.append(f"  problem: {problem.message}")
        if problem.fix:
            lines.append(f"         fix: {problem.fix}")
    return lines


def precision_advice(outcome: DeviceOutcome) -> list[str]:
    ok = {p["dtype"]: outcome.dtype_ok(p["dtype"]) for p in outcome.precision}
    if not ok:
        return []
    lines = []
    if outcome.device.startswith("cuda"):
        if ok.get("fp16"):
            lines.append("  precision: fp16 works here: keep the UI's half precision (no --no-half)")
        elif ok.get("bf16"):
            lines.append("  precision: fp16 fails, bf16 works: use bf16 where the UI offers it, else --no-half")
        elif ok.get("fp32"):
            lines.append("  precision: only fp32 works: start the UI with --no-half (and --no-half-vae)")
    else:
        lines.append(
            "  precision: on the CPU use fp32 (--precision full --no-half); bench tells whether bf16 is faster"
        )
    lines.append(f"  note: {RANDOM_WEIGHTS_NOTE}")
    return lines


def bench_lines(report: BenchReport) -> list[str]:
    lines = [
        f"  {report.model} at {report.size}x{report.size}{' (reduced widths)' if report.reduced else ''}, "
        f"classifier-free guidance (UNet batch 2), {report.device}"
    ]
    for m in report.matmul:
        if m.get("gflops"):
            lines.append(
                f"  matmul {m['dtype']} {m['n']}x{m['n']}: {m['gflops']:.0f} GFLOP/s "
                f"(median of {len(m['times'])}, {m['min'] * 1e3:.2f}-{m['max'] * 1e3:.2f} ms)"
            )
    if report.device.startswith("cuda"):
        lines.append(f"  TF32: {report.tf32}")
    for run in report.runs:
        if run.error:
            lines.append(f"  [FAIL] {run.label}: {run.error.splitlines()[0]}")
            continue
        spread = f" ({run.step_spread[0]:.3f}-{run.step_spread[1]:.3f})" if run.step_spread else ""
        mark = "*" if run is report.best else " "
        finite = "" if run.finite else "  NaN/inf: unsafe"
        lines.append(
            f" {mark}{run.label:<34} {run.step_seconds:.3f} s/step{spread}  -> {seconds(run.seconds_per_image)}"
            f"/image  peak {mib(run.peak_memory)}{finite}"
        )
    if report.best:
        limit = report.physical_limit(report.best.config["dtype"])
        what = "estimate (--quick)" if report.quick else "chosen" if report.best_note else "fastest safe"
        lines.append(
            f"  {what}: {report.best.label}: {seconds(report.best.seconds_per_image)} per {IMAGE_STEPS}-step "
            "image (stored: rigfit plan adopts it)"
        )
        if report.best_note:
            lines.append(f"  note: {report.best_note}")
        if limit and report.best.seconds_per_image:
            lines.append(
                f"  physical limit at the peak matmul rate measured here: {seconds(limit)} per image "
                f"({report.best.seconds_per_image / limit:.1f}x from it)"
            )
    for error in report.errors:
        lines.append(f"  problem: {error.splitlines()[0] if error else 'unknown'}")
    return lines


def reference_lines(model: str) -> list[str]:
    lines = []
    for ref, secs in references(model):
        steps = f"{ref.steps} steps" if ref.steps else "steps not stated"
        lines.append(f"  {ref.device}: {seconds(secs)}/image ({ref.setup}; {steps}) - {ref.sources[0]}")
    return lines


def import_json(outcome: ImportOutcome) -> dict[str, Any]:
    problem = outcome.problem
    return {
        "dist": outcome.dist,
        "module": outcome.module,
        "version": outcome.version,
        "status": outcome.status,
        "ok": outcome.ok,
        "problem": problem.message if problem else None,
        "fix": problem.fix if problem else None,
        "pair": problem.pair if problem else None,
        "kb": problem.kb if problem else [],
        "note": outcome.note,
    }


def verify_json(facts: VerifiedFacts, imports: list[ImportOutcome], outcome: DeviceOutcome | None) -> dict[str, Any]:
    """The stored facts plus each import and device check as run."""
    return {
        "schema": "rigfit.verify/1",
        **dump(facts),
        "imports": [import_json(o) for o in imports],
        "ops": outcome.ops if outcome else [],
        "precision": outcome.precision if outcome else [],
    }


def report_json(report: BenchReport) -> dict[str, Any]:
    best = report.best
    return {
        "schema": "rigfit.bench/1",
        "device": report.device,
        "model": report.model,
        "size": report.size,
        "reduced": report.reduced,
        "image_steps": IMAGE_STEPS,
        "matmul": report.matmul,
        "tf32": report.tf32,
        "unet_step_flops": report.step_flops,
        "vae_flops": report.vae_flops,
        "runs": [
            {
                **r.config,
                "step_seconds": r.step_seconds,
                "step_spread": r.step_spread,
                "vae_seconds": r.vae_seconds,
                "seconds_per_image": r.seconds_per_image,
                "peak_memory": r.peak_memory,
                "finite": r.finite,
                "error": r.error,
            }
            for r in report.runs
        ],
        "best": best.config if best else None,
        "best_note": report.best_note,
        "quick": report.quick,
        "best_seconds_per_image": best.seconds_per_image if best else None,
        "physical_limit_seconds": report.physical_limit(best.config["dtype"]) if best else None,
        "references": [
            {"id": ref.id, "device": ref.device, "seconds_per_image": secs, "source": ref.sources}
            for ref, secs in references(report.model)
        ],
        "errors": report.errors,
    }
