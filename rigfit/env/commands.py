"""`rigfit install`, `rigfit add`, `rigfit resolve` and the `rigfit env check|list` group. Thin: the work is in
rigfit.env's modules, imported when a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rigfit.terminal import console, err, print_json, usage_error

UI_HELP = "forge | a1111 | comfyui"


def _say(message: str) -> None:
    console.print(message)


def _env_dir(env: str | None, ui: str | None = None) -> Path:
    from rigfit.env.record import default_env_dir, list_records

    if env:
        return Path(env).expanduser().resolve()
    if ui:
        return default_env_dir(ui)
    records = list_records()
    if len(records) == 1:
        return Path(records[0].env_dir)
    raise usage_error("name the env with --env DIR (`rigfit env list` shows rigfit's envs).")


def install(
    ui: Annotated[str, typer.Argument(help=UI_HELP)],
    env: Annotated[Optional[str], typer.Option("--env", help="The env folder (default: rigfit's data dir).")] = None,  # noqa: UP045
    source: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--source", help="The UI's code: a local folder, a .tar.gz or a git URL (default: upstream)."),
    ] = None,
    ref: Annotated[Optional[str], typer.Option("--ref", help="Commit or tag to check out (git sources).")] = None,  # noqa: UP045
    mirror: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--mirror", help="A folder of <repository>.tar.gz archives or git repos standing in for GitHub."),
    ] = None,
    torch_wheel: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--torch-wheel", help="Your own torch/torchvision/torchaudio wheel (repeatable)."),
    ] = None,
    python: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--python", help="Interpreter for the env (default python3)."),
    ] = None,
    protect: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--protect", help="Protect another package by hash, like torch (repeatable)."),
    ] = None,
    installer: Annotated[Optional[str], typer.Option("--installer", help="uv (default) or pip.")] = None,  # noqa: UP045
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would happen; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the env record as JSON at the end.")] = False,
) -> None:
    """Install a UI into its own env, with a torch nothing can overwrite (checked by hash after every step)."""
    if installer not in (None, "uv", "pip"):
        raise usage_error(f"--installer {installer}: use uv or pip.")
    from rigfit.env.errors import INSTALL_ERRORS
    from rigfit.env.install import InstallOptions
    from rigfit.env.install import install as run_install

    opts = InstallOptions(
        ui=ui,
        env_dir=_env_dir(env, ui),
        source=source,
        ref=ref,
        mirror=Path(mirror).expanduser().resolve() if mirror else None,
        torch_wheels=torch_wheel or [],
        python=python,
        dry_run=dry_run,
        installer=installer,  # type: ignore[arg-type]
        protect=protect or [],
    )
    say = err.print if as_json else _say
    try:
        record = run_install(opts, say)
    except INSTALL_ERRORS as exc:
        err.print(f"[bold red]error:[/] {exc}")
        if not dry_run:
            err.print(f"The env is marked incomplete; rerun the same command to continue: {opts.env_dir}")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        err.print(f"\ninterrupted: {opts.env_dir} is marked incomplete; rerun the same command to continue.")
        raise typer.Exit(130) from None
    if as_json:
        print_json({"schema": "rigfit.install/1", **record.model_dump(by_alias=True, exclude={"schema_"})})
        return
    if dry_run:
        return
    for pin in record.overridden:
        say(f"overridden: {pin.origin} {pin.requirement} installed as {pin.installed} ({pin.reason})")
    say(f"[bold green]done[/]: {ui} in {record.env_dir}")
    say(f"start it with:  rigfit launch {ui} --env {record.env_dir}")


def env_check(
    env: Annotated[Optional[str], typer.Option("--env", help="The env folder.")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Re-verify that every protected package (torch...) is byte-identical to what rigfit installed."""
    from rigfit.env.guard import describe_problems
    from rigfit.env.protect import ProtectError, verify
    from rigfit.env.record import EnvRecordError, load_record, now, save_record

    env_dir = _env_dir(env)
    try:
        record = load_record(env_dir)
        problems = verify(env_dir, record.protected)
    except (EnvRecordError, ProtectError) as exc:
        raise usage_error(str(exc)) from exc
    changed = sorted({p.package for p in problems})
    fix = f"rigfit install {record.ui} --env {env_dir}" + "".join(
        f" --torch-wheel {p.wheel}" for p in record.protected if p.wheel
    )
    if not problems:
        record.last_check = now()
        save_record(record)
    if as_json:
        print_json(
            {
                "schema": "rigfit.env-check/1",
                "env": str(env_dir),
                "ok": not problems,
                "complete": record.complete,
                "protected": [{"name": p.name, "version": p.version, "files": len(p.files)} for p in record.protected],
                "problems": [{"package": p.package, "path": p.path, "kind": p.kind} for p in problems],
                "fix": fix if problems else None,
            }
        )
    elif problems:
        for name in changed:
            mine = [p for p in problems if p.package == name]
            err.print(f"[bold red]{name}: {len(mine)} files changed or missing[/] ({describe_problems(mine)})")
        err.print(f"fix: reinstall the protected packages from their wheels: `{fix}`")
    else:
        files = sum(len(p.files) for p in record.protected)
        console.print(
            f"ok: {', '.join(f'{p.name} {p.version}' for p in record.protected)} byte-identical ({files} files)"
            + (
                ""
                if record.complete
                else f"; the install is incomplete: rerun `rigfit install {record.ui} --env {env_dir}`"
            )
        )
    if problems:
        raise typer.Exit(1)


def env_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """rigfit's envs: UI, path, torch, protected packages, last check."""
    from rigfit.env.record import envs_dir, list_records

    records = list_records()
    if as_json:
        print_json(
            {
                "schema": "rigfit.env-list/1",
                "envs": [
                    r.model_dump(by_alias=True, exclude={"protected"})
                    | {"protected": [f"{p.name}=={p.version}" for p in r.protected]}
                    for r in records
                ],
            }
        )
        return
    if not records:
        console.print(f"no envs under {envs_dir()}: `rigfit install forge` makes one.")
        return
    for r in records:
        held = ", ".join(f"{p.name} {p.version}" for p in r.protected) or "nothing protected"
        state = "" if r.complete else " [yellow](incomplete)[/]"
        console.print(f"{r.ui:8} {r.env_dir}{state}\n         protected: {held}; last check: {r.last_check or 'never'}")


env_app = typer.Typer(no_args_is_help=True, help="Check and list the envs rigfit installed.", rich_markup_mode=None)
env_app.command("check")(env_check)
env_app.command("list")(env_list)
