"""`rigfit verify` and `rigfit bench`: thin commands over imports.py, device.py, benchmark.py and results.py."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

from rigfit.cli_args import Exit, Option
from rigfit.env.record import EnvRecordError
from rigfit.env.select import chosen_env
from rigfit.kb.measured import save_verified
from rigfit.terminal import console, err, print_json, usage_error
from rigfit.verify.benchmark import checked_target, run_bench, verified_target
from rigfit.verify.cpu_check import CpuModelError, emulated_cpu, live_cpu
from rigfit.verify.device import check_device
from rigfit.verify.envscan import EnvError, TargetEnv, scan_env
from rigfit.verify.imports import check_imports, needed_env
from rigfit.verify.render import (
    bench_lines,
    device_lines,
    import_lines,
    precision_advice,
    reference_lines,
    report_json,
    verify_json,
)
from rigfit.verify.results import store_bench, verified_facts

EnvOpt = Annotated[
    Optional[str],  # noqa: UP045
    Option(
        "--env",
        help="The UI's virtual environment (default: the active one, $VIRTUAL_ENV, else the one env rigfit installed).",
        metavar="DIR",
    ),
]
DeviceOpt = Annotated[
    str,
    Option("--device", help="auto (CUDA/ROCm, else an Intel XPU, else the CPU) | cpu | cuda | xpu", metavar="DEVICE"),
]
JsonOpt = Annotated[bool, Option("--json", help="Print JSON.")]


def _open_env(env: str | None) -> TargetEnv:
    try:
        return scan_env(_env_dir(env))
    except EnvError as exc:
        raise usage_error(str(exc)) from exc


def _env_dir(env: str | None) -> Path:
    """--env, else the active venv, else the env rigfit installed (as `rigfit launch` picks it)."""
    given = env or os.environ.get("VIRTUAL_ENV")
    if given:
        return Path(given).expanduser().absolute()
    try:
        return chosen_env(None)
    except EnvRecordError as exc:
        raise EnvError(f"no environment given (--env DIR, or an active venv), and {exc}") from exc


def nothing_checked(target: TargetEnv) -> str:
    """Why verify checked nothing, and what to do."""
    where = ", ".join(str(p) for p in target.site_packages) or f"{target.root} (no site-packages found)"
    return (
        f"nothing was checked: {target.root} holds none of the packages verify imports (torch, numpy, diffusers...): "
        f"no *.dist-info of them in {where}. Pass the Stable Diffusion UI's own venv with --env, or install the UI's "
        "requirements into this one first"
    )


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


def verify(
    env: EnvOpt = None,
    cpu: Annotated[
        Optional[str],  # noqa: UP045
        Option(
            "--cpu", help="Check for an older CPU under qemu-user: westmere, nehalem, core2, penryn...", metavar="MODEL"
        ),
    ] = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Prove the environment works on this hardware: imports, device ops, precision. Exit 1 when something fails."""
    target = _open_env(env)
    try:
        target_cpu = emulated_cpu(cpu) if cpu else live_cpu()
        target_cpu.prefix()
    except CpuModelError as exc:
        raise usage_error(str(exc)) from exc
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
    if not imports:  # nothing checked is not a success
        facts.problems.append(nothing_checked(target))
    path = save_verified(facts)
    if as_json:
        print_json(verify_json(facts, imports, outcome))
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
    raise Exit(1 if facts.problems else 0)


def bench(
    env: EnvOpt = None,
    model: Annotated[str, Option("--model", help="sd15 | sdxl", metavar="MODEL")] = "sd15",
    steps: Annotated[int, Option("--steps", help="UNet steps to time per configuration.", metavar="N")] = 2,
    plot: Annotated[Optional[str], Option("--plot", help="Write a comparison PNG.", metavar="FILE.png")] = None,  # noqa: UP045
    quick: Annotated[bool, Option("--quick", help="One configuration, one step: an estimate in seconds.")] = False,
    device: DeviceOpt = "auto",
    size: Annotated[
        int, Option("--size", help="Image side in pixels (default 512 / 1024 for SDXL).", metavar="PIXELS")
    ] = 0,
    reduced: Annotated[
        bool, Option("--reduced", help="Tiny UNet widths, same code path (tests, smoke checks).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure seconds per image for each candidate configuration; the fastest safe one feeds the plan."""
    if model not in ("sd15", "sdxl"):
        raise usage_error(f"unknown model '{model}': use sd15 or sdxl")
    if steps < 1:
        raise usage_error("--steps must be at least 1")
    target = _open_env(env)
    chosen = verified_target(target, device)
    if chosen is None:
        err.print("bench: no verify results for this environment yet: checking the device first")
        chosen = checked_target(target, device, model=model, reduced=reduced, size=size, on_line=_progress)
    err.print(f"bench: {model} on {chosen.device} ({chosen.name or 'CPU'}), dtypes {sorted(chosen.safe)}")
    report = run_bench(
        target,
        device=chosen.device,
        model=model,
        steps=steps,
        safe=chosen.safe,
        has_xformers="xformers" in target.distributions,
        vram=chosen.total_memory,
        quick=quick,
        reduced=reduced,
        size=size,
        on_line=_progress,
    )
    path = store_bench(target, report) if report.runs else None
    if plot:
        from rigfit.verify.plot import PlotError, plot_report

        try:
            plot_report(report, Path(plot))
        except PlotError as exc:
            err.print(f"[yellow]warning:[/] {exc}")
    if as_json:
        print_json(report_json(report))
    else:
        console.print(f"[bold]rigfit bench[/] {target.root}")
        for line in bench_lines(report):
            console.print(line, markup=False)
        console.print("published figures (20-step images):")
        for line in reference_lines(model):
            console.print(line, markup=False)
        if path:
            console.print(f"stored for rigfit plan: {path}")
    raise Exit(0 if report.best else 1)
