"""`rigfit plan`: probe (or replay) the machine, plan the stack for one UI, render it. Thin: no rules here."""

from __future__ import annotations

from typing import Annotated, Optional

from rigfit.cli_args import Exit, Option
from rigfit.plan.model import EXTRAS, MODEL_FAMILIES, UIS
from rigfit.terminal import console, err, print_json, usage_error


def plan(
    from_: Annotated[
        Optional[str],  # noqa: UP045
        Option(
            "--from",
            help="Replay a capture, or read a pasted tool output (text file, or - for stdin), instead of this machine.",
            metavar="CAPTURE|FILE|-",
        ),
    ] = None,
    ui: Annotated[str, Option("--ui", help="forge | a1111 | comfyui | sdnext | invokeai", metavar="UI")] = "forge",
    as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False,
    explain: Annotated[bool, Option("--explain", help="Print the reasoning as a tree.")] = False,
    with_: Annotated[
        Optional[list[str]],  # noqa: UP045
        Option("--with", help="Extra package the workflow needs (repeatable): pytorch3d.", metavar="PACKAGE"),
    ] = None,
    model: Annotated[
        Optional[list[str]],  # noqa: UP045
        Option("--model", help="Model family you want to run (repeatable): sd15, sdxl, flux."),
    ] = None,
    full_precision: Annotated[
        bool, Option("--full-precision", help="Insist on fp32 everywhere (costs 2x memory, ~2x time).")
    ] = False,
    listen: Annotated[bool, Option("--listen", help="Serve the UI on the local network.")] = False,
    env: Annotated[
        Optional[str],  # noqa: UP045
        Option("--env", help="Use what `rigfit verify`/`bench` measured for this environment (a venv).", metavar="DIR"),
    ] = None,
) -> None:
    """Decide the whole stack for this machine (torch, env vars, precision, UI flags, models), with reasons."""
    if ui not in UIS:
        raise usage_error(f"unknown UI '{ui}'. Valid UIs: {', '.join(UIS)}.")
    extras = with_ or []
    unknown = [e for e in extras if e not in EXTRAS]
    if unknown:
        raise usage_error(f"unknown --with {', '.join(unknown)}. Valid: {', '.join(EXTRAS)}.")
    families = model or []
    if bad := [m for m in families if m not in MODEL_FAMILIES]:
        raise usage_error(f"unknown --model {', '.join(bad)}. Valid: {', '.join(MODEL_FAMILIES)}.")
    from rigfit.kb.measured import latest_verified
    from rigfit.plan.model import PlanOptions
    from rigfit.plan.planner import make_plan
    from rigfit.plan.render import explain_tree, plan_json, render_plan
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import ENV_VARS, CaptureError, open_source

    try:
        source = open_source(from_)
    except CaptureError as exc:
        raise usage_error(str(exc)) from exc
    profile = probe_machine(source, torch_check=False)
    user_env = {name: value for name in ENV_VARS if (value := source.env(name)) is not None}
    options = PlanOptions(
        ui=ui,  # type: ignore[arg-type]
        extras=extras,  # type: ignore[arg-type]
        full_precision=full_precision,
        listen=listen,
        user_env=user_env,
        models=families,
    )
    verified = None
    if env is not None:
        if from_:
            err.print("[bold red]error:[/] --env uses measurements of this machine; it cannot go with --from.")
            raise Exit(2)
        verified = latest_verified(env)
        if verified is None:
            err.print(f"[yellow]note:[/] nothing measured yet for {env}: run `rigfit verify --env {env}` first.")
    result = make_plan(profile, options, verified)
    if as_json:
        print_json(plan_json(profile, result))
        return
    if explain:
        console.print(explain_tree(profile, result), soft_wrap=False)  # wrapped, never cropped
    else:
        render_plan(profile, result, console, None if from_ else _installed_launch(ui, env, listen))


def _installed_launch(ui: str, env: str | None, listen: bool) -> str | None:
    """`rigfit launch ...` when rigfit installed this UI (in --env DIR, else its default env): that env's start is
    rigfit's (its recorded flags, checks, login), not the raw launcher line."""
    from pathlib import Path

    from rigfit.env.record import EnvRecordError, default_env_dir, load_record

    env_dir = Path(env).expanduser().resolve() if env else default_env_dir(ui)
    try:
        record = load_record(env_dir)
    except EnvRecordError:
        return None
    if record.ui != ui or not record.complete:
        return None
    where = f" --env {env_dir}" if env else ""
    return f"rigfit launch {ui}{where}" + (" --listen" if listen else "")
