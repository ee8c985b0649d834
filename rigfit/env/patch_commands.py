"""`rigfit patch list|apply|revert`: compatibility patches of an env's installed files (see rigfit/env/patching.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from rigfit.cli_args import Argument, Exit, Group, Option
from rigfit.terminal import console, err, print_json, usage_error

if TYPE_CHECKING:
    from rigfit.env.patching import PatchStatus

patch_app = Group("Compatibility patches of an env's library files: list, apply, revert.")
EnvOpt = Annotated[Optional[str], Option("--env", help="The env (its folder); default: the only one installed.")]  # noqa: UP045
PatchId = Annotated[str, Argument(help="The patch's id (see `rigfit patch list`).")]

STATE_TEXT = {
    "absent": "package not installed",
    "other-version": "another release installed: does not apply",
    "original": "not applied",
    "applied": "applied",
    "unknown": "file differs from every version rigfit knows: left alone",
}


def _env(env: str | None) -> Path:
    from rigfit.env.record import EnvRecordError
    from rigfit.env.select import chosen_env

    try:
        return chosen_env(env)
    except EnvRecordError as exc:
        raise usage_error(str(exc)) from exc


def pin_note(env_dir: Path, pin_id: str | None) -> str | None:
    """What the patch's preferred pin says in this env: already satisfied, or the command that makes it so."""
    from rigfit.env.patching import in_range, installed_version, site_packages
    from rigfit.kb.loader import by_id
    from rigfit.plan.knowledge import pins

    pin = by_id(pins()).get(pin_id or "")
    if pin is None:
        return None
    site = site_packages(env_dir)
    version = installed_version(site, pin.package) if site else None
    if version and in_range(version, pin.spec):
        return f"not needed here: {pin.package} {version} already satisfies the pin {pin.package}{pin.spec}"
    return f"prefer the pin {pin.package}{pin.spec}: {pin.fix}"


@patch_app.command("list")
def patch_list(env: EnvOpt = None, as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False) -> None:
    """Every known patch and its state in the env."""
    from rigfit.env.patching import patch_entries, patch_status

    env_dir = _env(env)
    rows = [(patch_status(env_dir, e), pin_note(env_dir, e.prefer_pin)) for e in patch_entries().values()]
    if as_json:
        print_json(
            {
                "schema": "rigfit.patch/1",
                "env": str(env_dir),
                "patches": [
                    {
                        "id": s.entry.id,
                        "package": s.entry.package,
                        "versions": s.entry.versions,
                        "state": s.state,
                        "file": str(s.path) if s.path else None,
                        "installed": s.version,
                        "pin": note,
                    }
                    for s, note in rows
                ],
            }
        )
        return
    for status, note in rows:
        entry = status.entry
        console.print(f"[bold]{entry.id}[/]  {entry.package}{entry.versions}  {STATE_TEXT[status.state]}")
        console.print(f"  {entry.why}")
        if note:
            console.print(f"  [cyan]pin:[/] {note}")


def _entry(patch_id: str):
    from rigfit.env.patching import patch_entries

    entry = patch_entries().get(patch_id)
    if entry is None:
        raise usage_error(f"unknown patch '{patch_id}'. Known: {', '.join(patch_entries())} (`rigfit patch list`)")
    return entry


@patch_app.command("apply")
def patch_apply(patch_id: PatchId, env: EnvOpt = None) -> None:
    """Apply a patch: only to the exact file it knows; the original is kept for `rigfit patch revert`."""
    from rigfit.env.patching import apply_patch

    entry, env_dir = _entry(patch_id), _env(env)
    note = pin_note(env_dir, entry.prefer_pin)
    if note:
        console.print(f"[cyan]note:[/] {note}")
    status = _or_exit(lambda: apply_patch(env_dir, entry))
    console.print(f"[green]✓[/] {entry.id} applied to {status.path} (verified; undo: rigfit patch revert {entry.id})")


@patch_app.command("revert")
def patch_revert(patch_id: PatchId, env: EnvOpt = None) -> None:
    """Restore the original file byte for byte."""
    from rigfit.env.patching import revert_patch

    entry, env_dir = _entry(patch_id), _env(env)
    status = _or_exit(lambda: revert_patch(env_dir, entry))
    console.print(f"[green]✓[/] {entry.id}: {status.path or entry.file} is the original again")


def _or_exit(change: Callable[[], PatchStatus]) -> PatchStatus:
    """Apply or revert; a refusal (the file is not the one the patch knows, no such env) is printed, exit 1."""
    from rigfit.env.patching import PatchError
    from rigfit.env.record import EnvRecordError

    try:
        return change()
    except (PatchError, EnvRecordError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise Exit(1) from exc
