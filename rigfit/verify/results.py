"""What verify and bench measured, as the VerifiedFacts `rigfit plan` reads: built from their outcomes and stored
beside what the other command measured for the same environment and device."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rigfit.kb.measured import BenchConfig, VerifiedFacts, load_verified, save_verified
from rigfit.verify.benchmark import BenchReport, Run
from rigfit.verify.cpu_check import TargetCpu
from rigfit.verify.device import DeviceOutcome
from rigfit.verify.diagnose import Problem
from rigfit.verify.envscan import TargetEnv, torch_build
from rigfit.verify.imports import ImportOutcome


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _problem_text(problem: Problem) -> str:
    return f"{problem.message} (fix: {problem.fix})" if problem.fix else problem.message


def _record_imports(facts: VerifiedFacts, imports: list[ImportOutcome]) -> None:
    facts.imports_ok = {o.dist: o.ok for o in imports}
    facts.import_failures = {o.dist: o.problem.message for o in imports if o.problem}
    facts.problems = [_problem_text(p) for o in imports if (p := o.problem)]
    facts.notes = sorted({o.note for o in imports if o.note})


def _record_device(facts: VerifiedFacts, outcome: DeviceOutcome) -> None:
    """The device's facts; the recommended dtype is bench's best when it ran, else the best dtype found safe."""
    facts.device_name = outcome.facts.get("name")
    facts.ops_ok = outcome.ops_ok
    facts.precision_ok = {p["dtype"]: outcome.dtype_ok(p["dtype"]) for p in outcome.precision}
    facts.problems += [_problem_text(p) for p in outcome.problems]
    safe = [d for d in ("fp16", "bf16", "fp32") if facts.precision_ok.get(d)]
    if facts.best is not None:
        facts.recommended_dtype = facts.best.dtype
    elif safe:
        facts.recommended_dtype = "fp32" if outcome.device == "cpu" and "fp32" in safe else safe[0]


def verified_facts(
    env: TargetEnv, cpu: TargetCpu, imports: list[ImportOutcome], outcome: DeviceOutcome | None
) -> VerifiedFacts:
    """Verify's outcomes, keeping what bench stored for the same device (verify does not measure speed)."""
    device = f"qemu:{cpu.emulated.qemu}" if cpu.emulated else (outcome.device if outcome else "cpu")
    previous = load_verified(str(env.root), device)
    facts = VerifiedFacts(
        env_dir=str(env.root), device=device, emulated_cpu=cpu.emulated.qemu if cpu.emulated else None
    )
    if previous is not None:
        facts.best, facts.bench_runs, facts.bench_model = previous.best, previous.bench_runs, previous.bench_model
        facts.matmul_gflops = previous.matmul_gflops
    facts.torch_version = torch_build(env).get("version")
    _record_imports(facts, imports)
    if outcome is not None:
        _record_device(facts, outcome)
    facts.measured_at = _now()
    return facts


def bench_config(run: Run) -> BenchConfig:
    return BenchConfig(
        dtype=run.config["dtype"],
        attention=run.config.get("attention") or "sdpa",
        channels_last=bool(run.config.get("channels_last")),
        memory_mode=run.config.get("memory_mode"),
        seconds_per_image=run.seconds_per_image,
        peak_memory_bytes=run.peak_memory,
        step_seconds=run.step_seconds,
        vae_seconds=run.vae_seconds,
        finite=run.finite,
        error=run.error,
    )


def store_bench(env: TargetEnv, report: BenchReport) -> Path:
    """Bench's runs and best configuration, stored over verify's facts for the same device (kept)."""
    facts = load_verified(str(env.root), report.device) or VerifiedFacts(env_dir=str(env.root), device=report.device)
    facts.bench_runs = [bench_config(r) for r in report.runs]
    facts.bench_model = report.model
    facts.best = next((b for b, r in zip(facts.bench_runs, report.runs, strict=True) if r is report.best), None)
    facts.recommended_dtype = facts.best.dtype if facts.best else facts.recommended_dtype
    facts.matmul_gflops = {m["dtype"]: m["gflops"] for m in report.matmul if m.get("gflops")}
    facts.measured_at = _now()
    return save_verified(facts)
