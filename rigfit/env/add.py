"""`rigfit add`: more packages in an installed env (an extension's requirements), under the same protection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rigfit.env.guard import Guarded, guarded_step
from rigfit.env.installer import InstallerKind, Step, choose_installer
from rigfit.env.overrides import ConflictError, ReqLine, parse_line, read_requirements
from rigfit.env.record import EnvRecord, load_record, save_record

Say = Callable[[str], None]


def env_constraints(record: EnvRecord) -> list[str]:
    """What install settled besides the protected packages: the KB pins and the overridden pins' ranges."""
    return [*record.pins, *(o.installed for o in record.overridden)]


def add(
    env_dir: Path,
    requirements: list[str],
    files: list[Path],
    say: Say,
    *,
    upgrade: bool = False,
    force_reinstall: bool = False,
    dry_run: bool = False,
    installer: InstallerKind | None = None,
) -> Guarded:
    record = load_record(env_dir)
    if not record.protected:
        raise ConflictError(f"{env_dir} records no protected torch: reinstall it with `rigfit install {record.ui}`.")
    lines = [parse_line(text, "command line") for text in requirements]
    for path in files:
        if not path.is_file():
            raise ConflictError(f"{path} does not exist: give an existing requirements file to -r.")
        lines += read_requirements(path)
    reinstall = _reinstallable(lines, record, say) if force_reinstall else []
    chosen = choose_installer(record.python, installer)
    for pin in env_constraints(record):
        say(f"  constraint {pin} (from the install)")
    if force_reinstall:  # the protected ones are met already; named, pip would reinstall them too
        requirements = [
            ln.text for ln in lines[: len(requirements)] if ln.name not in {p.name for p in record.protected}
        ]
    step = Step(requirements=requirements, files=files, constraints=env_constraints(record), reinstall=reinstall)
    step.upgrade = [ln.name for ln in lines if ln.name] if upgrade else []
    result = guarded_step(record, chosen, step, lines, say, dry_run=dry_run)
    if not dry_run:
        save_record(record)
    return result


def _reinstallable(lines: list[ReqLine], record: EnvRecord, say: Say) -> list[str]:
    """--force-reinstall applies to the requested packages, never to a protected one."""
    protected = {p.name for p in record.protected}
    names = [ln.name for ln in lines if ln.name]
    for name in names:
        if name in protected:
            say(f"  {name} is protected: not reinstalled (rigfit keeps the recorded build)")
    return [n for n in names if n not in protected]
