"""`rigfit plan`: probe (or replay) the machine, plan the stack for one UI, render it. Thin: no rules here."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from rigfit.plan.model import EXTRAS, UIS


def plan(
    from_: Annotated[Optional[str], typer.Option("--from", help="Replay a capture instead of this machine.")] = None,  # noqa: UP045
    ui: Annotated[str, typer.Option("--ui", help="forge | a1111 | comfyui | sdnext | invokeai")] = "forge",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Print the reasoning as a tree.")] = False,
    with_: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--with", help="Extra package the workflow needs (repeatable): pytorch3d."),
    ] = None,
    full_precision: Annotated[
        bool, typer.Option("--full-precision", help="Insist on fp32 everywhere (costs 2x memory, ~2x time).")
    ] = False,
    listen: Annotated[bool, typer.Option("--listen", help="Serve the UI on the local network.")] = False,
    env: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--env", help="Use what `rigfit verify`/`bench` measured for this environment (a venv)."),
    ] = None,
) -> None:
    """Decide the whole stack for this machine (torch, env vars, precision, UI flags, models), with reasons."""
    err = Console(stderr=True, highlight=False)
    if ui not in UIS:
        err.print(f"[bold red]error:[/] unknown UI '{ui}'. Valid UIs: {', '.join(UIS)}.")
        raise typer.Exit(2)
    extras = with_ or []
    unknown = [e for e in extras if e not in EXTRAS]
    if unknown:
        err.print(f"[bold red]error:[/] unknown --with {', '.join(unknown)}. Valid: {', '.join(EXTRAS)}.")
        raise typer.Exit(2)
    from rigfit.plan.model import PlanOptions
    from rigfit.plan.planner import make_plan
    from rigfit.plan.render import explain_tree, plan_json, render_plan
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import ENV_VARS, CaptureError, open_source
    from rigfit.verify.store import latest_verified

    try:
        source = open_source(from_)
    except CaptureError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    profile = probe_machine(source, torch_check=False)
    user_env = {name: value for name in ENV_VARS if (value := source.env(name)) is not None}
    options = PlanOptions(ui=ui, extras=extras, full_precision=full_precision, listen=listen, user_env=user_env)  # type: ignore[arg-type]
    verified = None
    if env is not None:
        if from_:
            err.print("[bold red]error:[/] --env uses measurements of this machine; it cannot go with --from.")
            raise typer.Exit(2)
        verified = latest_verified(env)
        if verified is None:
            err.print(f"[yellow]note:[/] nothing measured yet for {env}: run `rigfit verify --env {env}` first.")
    result = make_plan(profile, options, verified)
    if as_json:
        sys.stdout.write(json.dumps(plan_json(profile, result), indent=2) + "\n")
        return
    console = Console(highlight=False)
    if explain:
        console.print(explain_tree(profile, result))
    else:
        render_plan(profile, result, console)
