"""One install step under protection: refuse what would touch a protected package, resolve first (dry run), run,
check every protected file's hash, and roll back from the recorded wheel when something changed one anyway."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rigfit.env.installer import Installer, InstallerError, Outcome, Step, installer_hint
from rigfit.env.overrides import (
    ConflictError,
    ReqLine,
    companion_pins,
    direct_conflicts,
    protected_changes,
    resolver_cause,
)
from rigfit.env.protect import FileProblem, requirement_for, verify
from rigfit.env.record import EnvRecord, ProtectedPackage
from rigfit.records import field, record

Say = Callable[[str], None]
PROGRESS_WORDS = ("Downloading", "Downloaded", "Prepared", "Installed", "Uninstalled", "Resolved", "Building")


@record
class Guarded:
    outcome: Outcome
    rolled_back: list[str] = field(default_factory=list)  # protected packages restored after the step


def protection_constraints(protected: list[ProtectedPackage], installer: Installer) -> list[str]:
    """uv takes the wheel itself (`torch @ file://...`); pip's constraints cannot hold URLs, so name==version."""
    if installer.kind == "uv":
        return [requirement_for(p) for p in protected]
    return [f"{p.name}=={p.version}" for p in protected]


def guarded_step(
    record: EnvRecord, installer: Installer, step: Step, lines: list[ReqLine], say: Say, *, dry_run: bool = False
) -> Guarded:
    """Run `step` without letting it change a protected package; ConflictError (before anything ran) otherwise."""
    env_dir = Path(record.env_dir)
    protected = record.protected
    conflicts = direct_conflicts(lines, protected, env_dir)
    if conflicts:
        raise ConflictError(_refusal(conflicts, protected))
    step.constraints = [*protection_constraints(protected, installer), *step.constraints]
    say(f"resolving with {installer.kind} (dry run)")
    planned = _resolve_with_companions(installer, step, companion_pins(lines, protected), say)
    if not planned.ok and (hint := installer_hint(planned.output)):
        raise InstallerError(hint)
    if not planned.ok:
        raise ConflictError(_refusal([_name_lines(resolver_cause(planned.output), lines)], protected))
    touched = protected_changes(planned.changes, protected)
    if touched:
        raise ConflictError(_refusal(touched, protected))
    say(f"resolved: {_summary(planned)}")
    if dry_run or planned.nothing_to_do:
        return Guarded(planned)
    say(f"installing with {installer.kind}")
    outcome = installer.run(step, dry_run=False, on_line=progress(say))
    if not outcome.ok:
        raise ConflictError(f"the install step failed: {resolver_cause(outcome.output)}")
    restored = restore_protected(record, installer, say)
    return Guarded(outcome, restored)


def restore_protected(record: EnvRecord, installer: Installer, say: Say) -> list[str]:
    """Check every protected file; reinstall each changed package from its recorded wheel (or exact version)."""
    problems = verify(Path(record.env_dir), record.protected)
    if not problems:
        say(f"protected packages byte-identical: {', '.join(f'{p.name} {p.version}' for p in record.protected)}")
        return []
    changed = sorted({p.package for p in problems})
    say(
        f"[bold red]a step changed protected files[/] ({describe_problems(problems)}): "
        f"rolling back {', '.join(changed)}"
    )
    packages = [p for p in record.protected if p.name in changed]
    step = Step(requirements=[requirement_for(p) for p in packages], no_deps=True, reinstall=changed, link_copy=True)
    outcome = installer.run(step, dry_run=False)
    left = verify(Path(record.env_dir), packages)
    if not outcome.ok or left:
        raise ConflictError(
            f"rolling back {', '.join(changed)} failed ({describe_problems(left) or resolver_cause(outcome.output)}): "
            f"reinstall with `rigfit install {record.ui} --env {record.env_dir}`."
        )
    say(f"rolled back {', '.join(changed)}: byte-identical again")
    return changed


def describe_problems(problems: list[FileProblem], limit: int = 3) -> str:
    shown = ", ".join(f"{p.package}: {p.path} {p.kind}" for p in problems[:limit])
    more = f" and {len(problems) - limit} more" if len(problems) > limit else ""
    return shown + more


def _refusal(reasons: list[str], protected: list[ProtectedPackage]) -> str:
    held = ", ".join(f"{p.name} {p.version}" for p in protected)
    return (
        "refused, nothing was installed: "
        + "; ".join(reasons)
        + f". The protected packages ({held}) stay as they are: drop or change that requirement (or install a "
        "release of it made for this torch)."
    )


def _resolve_with_companions(
    installer: Installer, step: Step, companions: list[tuple[ReqLine, str]], say: Say
) -> Outcome:
    """The dry run, asking first for the torchaudio release made for the protected torch; where no index has it,
    the resolver's own choice (a torchaudio whose requirements accept this torch), said in words."""
    if not companions:
        return installer.run(step, dry_run=True)
    base = list(step.constraints)
    step.constraints = [*base, *(pin for _, pin in companions)]
    planned = installer.run(step, dry_run=True)
    line, pin = companions[0]
    if planned.ok:
        say(f"{line.origin} {line.text}: {pin}, the release made for the protected torch")
        return planned
    step.constraints = base
    planned = installer.run(step, dry_run=True)
    chosen = next((c.new for c in planned.changes if c.name == "torchaudio"), None) if planned.ok else None
    if chosen:
        say(
            f"{line.origin} {line.text}: no index here has {pin} (the release made for the protected torch); "
            f"torchaudio {chosen} is taken instead, whose requirements accept this torch"
        )
    return planned


def _name_lines(cause: str, lines: list[ReqLine]) -> str:
    """The resolver's words, plus the file:line of each requirement it mentions."""
    words = cause.lower().replace("_", "-")
    named = [f"{ln.origin} {ln.text}" for ln in lines if ln.name and f"{ln.name}" in words]
    return cause + (f" (requirements involved: {', '.join(named)})" if named else "")


def _summary(outcome: Outcome) -> str:
    if not outcome.changes:
        return "nothing to change"
    new = [c for c in outcome.changes if c.old is None]
    replaced = [c for c in outcome.changes if c.old is not None and c.new is not None]
    removed = [c for c in outcome.changes if c.new is None]
    parts = [f"{len(new)} to install"]
    if replaced:
        parts.append(f"{len(replaced)} to replace ({', '.join(f'{c.name} {c.old} -> {c.new}' for c in replaced[:6])})")
    if removed:
        parts.append(f"{len(removed)} to remove")
    return ", ".join(parts)


def progress(say: Say) -> Callable[[str], None]:
    def show(line: str) -> None:
        text = line.strip()
        if text.startswith(PROGRESS_WORDS):
            say(f"  {text}")

    return show
