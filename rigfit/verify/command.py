"""`rigfit verify` and `rigfit bench`: thin commands over imports.py, device.py and benchmark.py."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from rigfit.verify.benchmark import BenchReport, run_bench
from rigfit.verify.cpu_check import CpuModelError, TargetCpu, emulated_cpu
from rigfit.verify.device import DeviceOutcome, check_device, device_name
from rigfit.verify.envscan import EnvError, TargetEnv, resolve_env, scan_env, torch_build
from rigfit.verify.imports import ImportOutcome, check_imports, needed_env
from rigfit.verify.render import (
    bench_lines,
    device_lines,
    import_lines,
    precision_advice,
    reference_lines,
    report_json,
)
from rigfit.verify.store import BenchConfig, VerifiedFacts, load_verified, save_verified

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EnvOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option("--env", help="The UI's virtual environment (default: the active one, $VIRTUAL_ENV)."),
]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (GPU when torch sees one) | cpu | cuda")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def _open_env(env: str | None) -> TargetEnv:
    try:
        return scan_env(resolve_env(env))
    except EnvError as exc:
        raise _fail(str(exc)) from exc


def _live_cpu() -> TargetCpu:
    from rigfit.probe.cpu import probe_cpu
    from rigfit.probe.source import LiveSource

    info = probe_cpu(LiveSource(), lambda message: None)
    return TargetCpu(flags=frozenset(info.flags) if info.flags else None)


def _progress(line: str) -> None:
    """Worker progress lines, shown on stderr so that --json output stays clean."""
    if not line.startswith("RIGFIT-PROGRESS "):
        return
    try:
        fields = json.loads(line[len("RIGFIT-PROGRESS ") :])
    except ValueError:
        return
    if "importing" in fields or fields.get("stage") == "ops":
        return
    err.print("  ... " + ", ".join(f"{k} {v}" for k, v in fields.items()), style="dim")


def verified_facts(
    env: TargetEnv, cpu: TargetCpu, imports: list[ImportOutcome], outcome: DeviceOutcome | None
) -> VerifiedFacts:
    device = f"qemu:{cpu.emulated.qemu}" if cpu.emulated else (outcome.device if outcome else "cpu")
    previous = load_verified(str(env.root), device)
    facts = VerifiedFacts(
        env_dir=str(env.root), device=device, emulated_cpu=cpu.emulated.qemu if cpu.emulated else None
    )
    if previous is not None:  # keep bench's results: verify does not measure speed
        facts.best, facts.bench_runs, facts.bench_model = previous.best, previous.bench_runs, previous.bench_model
        facts.matmul_gflops = previous.matmul_gflops
    facts.torch_version = torch_build(env).get("version")
    facts.imports_ok = {o.dist: o.ok for o in imports}
    facts.import_failures = {o.dist: o.problem.message for o in imports if o.problem}
    facts.problems = [f"{p.message} (fix: {p.fix})" if p.fix else p.message for o in imports if (p := o.problem)]
    facts.notes = sorted({o.note for o in imports if o.note})
    if outcome is not None:
        facts.device_name = outcome.facts.get("name")
        facts.ops_ok = outcome.ops_ok
        facts.precision_ok = {p["dtype"]: outcome.dtype_ok(p["dtype"]) for p in outcome.precision}
        facts.problems += [f"{p.message} (fix: {p.fix})" if p.fix else p.message for p in outcome.problems]
        safe = [d for d in ("fp16", "bf16", "fp32") if facts.precision_ok.get(d)]
        if facts.best is not None:
            facts.recommended_dtype = facts.best.dtype
        elif safe:
            facts.recommended_dtype = "fp32" if outcome.device == "cpu" and "fp32" in safe else safe[0]
    facts.measured_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return facts


def verify(
    env: EnvOpt = None,
    cpu: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cpu", help="Check for an older CPU under qemu-user: westmere, nehalem, core2, penryn..."),
    ] = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Prove the environment works on this hardware: imports, device ops, precision. Exit 1 when something fails."""
    target = _open_env(env)
    try:
        target_cpu = emulated_cpu(cpu) if cpu else _live_cpu()
        target_cpu.prefix()
    except CpuModelError as exc:
        raise _fail(str(exc)) from exc
    err.print(f"verify: importing the environment's key packages, each in its own process, on {target_cpu.label}")
    imports = check_imports(target, target_cpu)
    torch_ok = any(o.dist == "torch" and o.ok for o in imports)
    outcome = None
    if torch_ok:
        err.print("verify: device operations and the SD UNet precision probe")
        outcome = check_device(
            target, target_cpu, device="cpu" if cpu else device, extra_env=needed_env(imports), on_line=_progress
        )
    facts = verified_facts(target, target_cpu, imports, outcome)
    path = save_verified(facts)
    if as_json:
        data = facts.model_dump()
        data["imports"] = [
            {
                "dist": o.dist,
                "module": o.module,
                "version": o.version,
                "status": o.status,
                "ok": o.ok,
                "problem": o.problem.message if o.problem else None,
                "fix": o.problem.fix if o.problem else None,
                "pair": o.problem.pair if o.problem else None,
                "kb": o.problem.kb if o.problem else [],
                "note": o.note,
            }
            for o in imports
        ]
        data["ops"] = outcome.ops if outcome else []
        data["precision"] = outcome.precision if outcome else []
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        console.print(f"[bold]rigfit verify[/] {target.root} ({target_cpu.label})")
        console.print("imports:")
        for line in import_lines(imports):
            console.print(line, markup=False)
        if not torch_ok:
            console.print("device checks skipped: torch does not import (fix that first)")
        if outcome is not None:
            console.print("device:")
            for line in device_lines(outcome) + precision_advice(outcome):
                console.print(line, markup=False)
        verdict = "everything checked works" if not facts.problems else f"{len(facts.problems)} problem(s) above"
        console.print(f"{verdict}; stored for rigfit plan: {path}")
    raise typer.Exit(1 if facts.problems else 0)


def _store_bench(env: TargetEnv, report: BenchReport) -> Path:
    facts = load_verified(str(env.root), report.device) or VerifiedFacts(env_dir=str(env.root), device=report.device)
    runs = [
        BenchConfig(
            dtype=r.config["dtype"],
            attention=r.config.get("attention") or "sdpa",
            channels_last=bool(r.config.get("channels_last")),
            memory_mode=r.config.get("memory_mode"),
            seconds_per_image=r.seconds_per_image,
            peak_memory_bytes=r.peak_memory,
            step_seconds=r.step_seconds,
            vae_seconds=r.vae_seconds,
            finite=r.finite,
            error=r.error,
        )
        for r in report.runs
    ]
    facts.bench_runs = runs
    facts.bench_model = report.model
    facts.best = next((b for b, r in zip(runs, report.runs, strict=True) if r is report.best), None)
    facts.recommended_dtype = facts.best.dtype if facts.best else facts.recommended_dtype
    facts.matmul_gflops = {m["dtype"]: m["gflops"] for m in report.matmul if m.get("gflops")}
    facts.measured_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return save_verified(facts)


def _bench_device(
    env: TargetEnv, device: str, model: str, reduced: bool, size: int
) -> tuple[str, dict[str, bool], dict[str, Any]]:
    """The device to bench, the dtypes verify found safe on it, and its facts (a quick ops check when unverified)."""
    if device == "auto":
        stored = load_verified(str(env.root), "cuda:0") or load_verified(str(env.root), "cpu")
    else:
        stored = load_verified(str(env.root), device_name(device))
    if stored is not None and stored.precision_ok:
        return stored.device, dict(stored.precision_ok), {"name": stored.device_name}
    err.print("bench: no verify results for this environment yet: checking the device first")
    outcome = check_device(
        env, TargetCpu(flags=None), device=device, model=model, reduced=reduced, size=size, on_line=_progress
    )
    safe = {p["dtype"]: outcome.dtype_ok(p["dtype"]) for p in outcome.precision}
    return outcome.device, safe or {"fp32": True}, outcome.facts


def bench(
    env: EnvOpt = None,
    model: Annotated[str, typer.Option("--model", help="sd15 | sdxl")] = "sd15",
    steps: Annotated[int, typer.Option("--steps", help="UNet steps to time per configuration.")] = 2,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Write a comparison PNG.")] = None,  # noqa: UP045
    quick: Annotated[
        bool, typer.Option("--quick", help="One configuration, one step: an estimate in seconds.")
    ] = False,
    device: DeviceOpt = "auto",
    size: Annotated[int, typer.Option("--size", help="Image side in pixels (default 512 / 1024 for SDXL).")] = 0,
    reduced: Annotated[
        bool, typer.Option("--reduced", help="Tiny UNet widths, same code path (tests, smoke checks).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure seconds per image for each candidate configuration; the fastest safe one feeds the plan."""
    if model not in ("sd15", "sdxl"):
        raise _fail(f"unknown model '{model}': use sd15 or sdxl")
    if steps < 1:
        raise _fail("--steps must be at least 1")
    target = _open_env(env)
    chosen, safe, device_facts = _bench_device(target, device, model, reduced, size)
    err.print(f"bench: {model} on {chosen} ({device_facts.get('name') or 'CPU'}), dtypes {sorted(safe)}")
    report = run_bench(
        target,
        device=chosen,
        model=model,
        steps=steps,
        safe=safe,
        has_xformers="xformers" in target.distributions,
        vram=device_facts.get("total_memory"),
        quick=quick,
        reduced=reduced,
        size=size,
        on_line=_progress,
    )
    path = _store_bench(target, report) if report.runs else None
    if plot:
        from rigfit.verify.plot import PlotError, plot_report

        try:
            plot_report(report, Path(plot))
        except PlotError as exc:
            err.print(f"[yellow]warning:[/] {exc}")
    if as_json:
        sys.stdout.write(json.dumps(report_json(report), indent=2) + "\n")
    else:
        console.print(f"[bold]rigfit bench[/] {target.root}")
        for line in bench_lines(report):
            console.print(line, markup=False)
        console.print("published figures (20-step images):")
        for line in reference_lines(model):
            console.print(line, markup=False)
        if path:
            console.print(f"stored for rigfit plan: {path}")
    raise typer.Exit(0 if report.best else 1)
