"""What `rigfit build-torch` prints: the recipe with its reasons, the prerequisites, the check's findings; and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from rigfit.recipes.torch_build.check import CheckOutcome
from rigfit.recipes.torch_build.prereqs import Prereq
from rigfit.recipes.torch_build.recipe import BuildRecipe

MARKS = {"ok": "[green]ok[/]", "missing": "[red]MISSING[/]", "warn": "[yellow]warn[/]", "unknown": "[dim]?[/]"}
MAX_OFFENDERS = 20


def _duration(minutes: int | None) -> str:
    if minutes is None:
        return "unknown"
    return f"about {minutes // 60}h{minutes % 60:02d}"


def render_recipe(recipe: BuildRecipe, prereqs: list[Prereq], script: Path, console: Console) -> None:
    req = recipe.request
    console.print(f"[bold]rigfit build-torch[/]  {escape(recipe.command)}")
    console.print(
        f"torch {req.release.tag} + torchvision {req.release.vision_tag} ({req.release.frontend} build), for "
        f"{req.target.id} ({escape(req.target.description)})"
        + (f", {req.backend.upper()} {req.arch}" if req.arch else ", CPU only")
    )
    console.print("\n[bold]Prerequisites[/]")
    for item in prereqs:
        console.print(f"  {MARKS[item.status]} {escape(item.name)}: {escape(item.detail)}")
        if item.fix and item.status != "ok":
            console.print(f"     fix: {escape(item.fix)}")
    console.print("\n[bold]Build settings[/] (rigfit/kb/torch_build/switches.yaml)")
    for switch in recipe.applied:
        names = [switch.name, *switch.also]
        if switch.kind == "cmake":
            shown = " ".join(f"{n}={recipe.cmake_defines[n]}" for n in names) + " (CMake cache)"
        elif switch.kind == "unset":
            shown = f"unset {switch.name}"
        else:
            merged = {**recipe.env, **recipe.torch_env, **recipe.vision_env}
            shown = " ".join(f"{n}={merged[n]}" for n in names)
        console.print(f"  {escape(shown)}  [dim]{escape(switch.why.split('. ')[0].rstrip('.'))} ({switch.id})[/]")
    copies = ", ".join(recipe.capabilities)
    console.print(f"  ATen CPU kernel copies compiled: {copies}")
    if recipe.caveats:
        console.print("\n[bold yellow]Where the source build is not enough[/]")
        for caveat in recipe.caveats:
            console.print(f"  - {escape(caveat.message)}")
            console.print(f"    check/fix: {escape(caveat.fix)}")
            console.print(f"    [dim]sources: {escape(', '.join(caveat.sources))}[/]")
    console.print(
        f"\nMAX_JOBS={recipe.jobs} ({escape(recipe.jobs_reason)}); expected time {_duration(recipe.minutes)} "
        f"[dim](scaled from: {escape(recipe.resources.reference)})[/]"
    )
    console.print(f"Script: {escape(str(script))}  (resumable; log: {escape(str(script.parent / 'build.log'))})")


def recipe_json(recipe: BuildRecipe, prereqs: list[Prereq], script: Path) -> dict[str, Any]:
    req = recipe.request
    return {
        "schema": "rigfit.build-torch/1",
        "command": recipe.command,
        "torch": req.release.torch,
        "torchvision": req.release.torchvision,
        "tags": [req.release.tag, req.release.vision_tag],
        "frontend": req.release.frontend,
        "target": {"id": req.target.id, "march": req.target.march, "qemu": req.target.qemu},
        "backend": req.backend,
        "arch": req.arch,
        "env": recipe.env,
        "torch_env": recipe.torch_env,
        "torchvision_env": recipe.vision_env,
        "unset": recipe.unset,
        "cmake_defines": recipe.cmake_defines,
        "kernel_copies": list(recipe.capabilities),
        "switches": [s.id for s in recipe.applied],
        "caveats": [{"id": c.id, "message": c.message, "fix": c.fix, "source": c.sources} for c in recipe.caveats],
        "max_jobs": recipe.jobs,
        "max_jobs_reason": recipe.jobs_reason,
        "minutes": recipe.minutes,
        "prerequisites": [vars(p) for p in prereqs],
        "script": str(script),
    }


def render_check(outcome: CheckOutcome, console: Console) -> None:
    console.print(f"[bold]rigfit build-torch --check[/] {escape(outcome.path)} for {outcome.target}")
    console.print(f"  extensions this CPU lacks: {', '.join(outcome.lacks) or 'none'}")
    for run in outcome.runs:
        mark = "[green]ok[/]" if run.ok else f"[red]{run.status.upper()}[/]"
        console.print(f"  {mark} {escape(run.what)} under qemu: {escape(run.detail)}")
    scan = outcome.scan
    console.print(
        f"  scanned {len(scan.files)} ELF file(s); {scan.dispatch_functions} dispatch-copy function(s) use missing "
        "extensions (expected: chosen at run time only on CPUs that have them)"
    )
    for offender in scan.offenders[:MAX_OFFENDERS]:
        console.print(f"  [red]outside dispatch:[/] {escape(offender.describe())}")
    if len(scan.offenders) > MAX_OFFENDERS:
        console.print(f"  ... and {len(scan.offenders) - MAX_OFFENDERS} more function(s) (--json lists all)")
    for error in scan.errors:
        console.print(f"  [red]error:[/] {escape(error)}")
    for note in outcome.notes:
        console.print(f"  note: {escape(note)}")
    verdict = "no instruction this CPU lacks outside the dispatch copies" if outcome.ok else "NOT safe for this CPU"
    console.print(f"[bold]{verdict}[/]")


def check_json(outcome: CheckOutcome) -> dict[str, Any]:
    return {
        "schema": "rigfit.build-torch-check/1",
        "path": outcome.path,
        "target": outcome.target,
        "lacks": outcome.lacks,
        "ok": outcome.ok,
        "runs": [vars(r) for r in outcome.runs],
        "files": outcome.scan.files,
        "dispatch_functions": outcome.scan.dispatch_functions,
        "offenders": [
            {"file": o.file, "function": o.function, "extensions": o.extensions, "example": o.example}
            for o in outcome.scan.offenders
        ],
        "errors": outcome.scan.errors,
        "notes": outcome.notes,
    }


__all__ = ["check_json", "recipe_json", "render_check", "render_recipe"]
