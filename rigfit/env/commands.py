"""`rigfit install`, `rigfit add`, `rigfit resolve` and the `rigfit env check|list` group. Thin: the work is in
rigfit.env's modules, imported when a command runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

from rigfit.cli_args import Argument, Exit, Group, Option
from rigfit.env.options import MirrorOpt, SourceOpt, TorchWheelOpt
from rigfit.kb.typed import dump
from rigfit.terminal import console, err, print_json, usage_error

UI_HELP = "forge | invokeai | a1111 | comfyui"


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
    ui: Annotated[str, Argument(help=UI_HELP)],
    env: Annotated[Optional[str], Option("--env", help="The env folder (default: rigfit's data dir).")] = None,  # noqa: UP045
    source: SourceOpt = None,
    ref: Annotated[Optional[str], Option("--ref", help="Commit or tag to check out (git sources).")] = None,  # noqa: UP045
    mirror: MirrorOpt = None,
    torch_wheel: TorchWheelOpt = None,
    python: Annotated[
        Optional[str],  # noqa: UP045
        Option("--python", help="Interpreter for the env (default python3)."),
    ] = None,
    protect: Annotated[
        Optional[list[str]],  # noqa: UP045
        Option("--protect", help="Protect another package by hash, like torch (repeatable)."),
    ] = None,
    installer: Annotated[Optional[str], Option("--installer", help="uv (default) or pip.")] = None,  # noqa: UP045
    locked: Annotated[
        Optional[str],  # noqa: UP045
        Option("--locked", help="Rebuild from a rigfit-lock.json: same UI commit, wheels and versions."),
    ] = None,
    dry_run: Annotated[bool, Option("--dry-run", help="Print what would happen; change nothing.")] = False,
    as_json: Annotated[bool, Option("--json", help="Print the env record as JSON at the end.")] = False,
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
        locked=Path(locked).expanduser().resolve() if locked else None,
    )
    say = err.print if as_json else _say
    try:
        record = run_install(opts, say)
    except INSTALL_ERRORS as exc:
        err.print(f"[bold red]error:[/] {exc}")
        if not dry_run and _left_incomplete(opts.env_dir):
            err.print(f"The env is marked incomplete; rerun the same command to continue: {opts.env_dir}")
        raise Exit(1) from exc
    except KeyboardInterrupt:
        err.print(f"\ninterrupted: {opts.env_dir} is marked incomplete; rerun the same command to continue.")
        raise Exit(130) from None
    if as_json:
        data = dump(record)
        del data["schema"]
        for package in data["protected"]:
            del package["files"]
        print_json({"schema": "rigfit.install/1", **data})
        return
    if dry_run:
        return
    for pin in record.overridden:
        say(f"overridden: {pin.origin} {pin.requirement} installed as {pin.installed} ({pin.reason})")
    say(f"[bold green]done[/]: {ui} in {record.env_dir}")
    say(f"start it with:  rigfit launch {ui} --env {record.env_dir}")


def _left_incomplete(env_dir: Path) -> bool:
    """Whether the failed install left a record marked incomplete (a refusal before step 1 writes nothing)."""
    from rigfit.env.record import EnvRecordError, load_record, record_path

    try:
        return record_path(env_dir).is_file() and not load_record(env_dir).complete
    except EnvRecordError:
        return False


def env_check(
    env: Annotated[Optional[str], Option("--env", help="The env folder.")] = None,  # noqa: UP045
    as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False,
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
        raise Exit(1)


def env_list(as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False) -> None:
    """rigfit's envs: UI, path, torch, protected packages, last check."""
    from rigfit.env.record import envs_dir, list_records

    records = list_records()
    if as_json:
        print_json(
            {
                "schema": "rigfit.env-list/1",
                "envs": [
                    {k: v for k, v in dump(r).items() if k != "protected"}
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


env_app = Group("Check and list the envs rigfit installed.")
env_app.command("check")(env_check)
env_app.command("list")(env_list)


def add(
    requirements: Annotated[Optional[list[str]], Argument(help="Requirements (pip syntax).")] = None,  # noqa: UP045
    env: Annotated[Optional[str], Option("--env", help="The env folder.")] = None,  # noqa: UP045
    requirement_file: Annotated[
        Optional[list[str]],  # noqa: UP045
        Option("-r", "--requirement", help="A requirements file (repeatable)."),
    ] = None,
    upgrade: Annotated[bool, Option("-U", "--upgrade", help="Upgrade the named packages.")] = False,
    force_reinstall: Annotated[
        bool, Option("--force-reinstall", help="Reinstall the named packages (never a protected one).")
    ] = False,
    installer: Annotated[Optional[str], Option("--installer", help="uv (default) or pip.")] = None,  # noqa: UP045
    dry_run: Annotated[bool, Option("--dry-run", help="Resolve and print; change nothing.")] = False,
) -> None:
    """Install more packages into an env (e.g. an extension's requirements) without touching torch."""
    if not requirements and not requirement_file:
        raise usage_error("name packages (`rigfit add joblib`) or a file (`rigfit add -r requirements.txt`).")
    if installer not in (None, "uv", "pip"):
        raise usage_error(f"--installer {installer}: use uv or pip.")
    from rigfit.env.add import add as run_add
    from rigfit.env.errors import INSTALL_ERRORS

    env_dir = _env_dir(env)
    try:
        result = run_add(
            env_dir,
            requirements or [],
            [Path(f) for f in requirement_file or []],
            _say,
            upgrade=upgrade,
            force_reinstall=force_reinstall,
            dry_run=dry_run,
            installer=installer,  # type: ignore[arg-type]
        )
    except INSTALL_ERRORS as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise Exit(1) from exc
    if result.rolled_back:
        err.print(f"[yellow]rolled back[/] {', '.join(result.rolled_back)} after the step changed them")
    console.print("[bold green]done[/]" + (" (dry run: nothing changed)" if dry_run else ""))


def resolve(
    packages: Annotated[list[str], Argument(help="Packages the workflow needs (pip syntax).")],
    torch: Annotated[str, Option("--torch", help="The torch it must work with, e.g. 2.1.0+cu121.")],
    python: Annotated[str, Option("--python", help="The Python version, e.g. 3.10.")] = "3.10",
    as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False,
) -> None:
    """A working set of versions for these packages against that torch, each pin with its reason."""
    from rigfit.env.resolve import ResolveError
    from rigfit.env.resolve import resolve as run_resolve

    try:
        result = run_resolve(torch, python, packages)
    except ResolveError as exc:
        raise usage_error(str(exc)) from exc
    if as_json:
        print_json(
            {
                "schema": "rigfit.resolve/1",
                "torch": result.torch,
                "python": result.python,
                "packages": result.packages,
                "pins": [{"requirement": r, "reason": why, "kb": kb} for r, why, kb in result.pins],
                "separate": [{"requirement": r, "install": how} for r, how in result.separate],
                "conflict": result.conflict,
                "basis": result.basis,
            }
        )
    elif result.conflict:
        err.print(f"[bold red]no working set[/]: {result.conflict}")
    else:
        pinned = {
            re.split(r"[<>=!~]", r, maxsplit=1)[0].lower().replace("_", "-"): (r, why) for r, why, _ in result.pins
        }
        console.print(f"working set for torch {result.torch} on Python {result.python} ({result.basis}):")
        for name, version in sorted(result.packages.items()):
            why = pinned.get(name)
            console.print(f"  {name}=={version}" + (f"   [cyan]pin {why[0]}[/]: {why[1]}" if why else ""))
        for requirement, how in result.separate:
            console.print(f"  {requirement}   [cyan]from its own index[/]: {how}")
    if result.conflict:
        raise Exit(1)
