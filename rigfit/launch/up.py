"""`rigfit up`: doctor -> plan -> install (when needed) -> launch, each stage's verdict on one line.

The first blocker stops the chain with its fix. Each stage is the same function its own command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rigfit.env.record import EnvRecordError, load_record
from rigfit.plan.model import Plan
from rigfit.probe.profile import Profile
from rigfit.records import field, record

Say = Callable[[str], None]


class UpStopped(Exception):
    """A stage found a blocker: which stage, what, and the fix."""

    def __init__(self, stage: str, message: str, fix: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage, self.message, self.fix = stage, message, fix


@record
class UpOptions:
    ui: str = "forge"
    env: str | None = None
    listen: bool = False
    port: int | None = None
    yes: bool = False
    mirror: str | None = None
    torch_wheels: list[str] = field(default_factory=list)
    source: str | None = None


def doctor_stage(say: Say) -> Profile:
    """Probe this machine; stop when nothing can run Stable Diffusion on it."""
    from rigfit.plan.summary import doctor_summary
    from rigfit.probe.gather import findings_for, probe_machine
    from rigfit.probe.report import nothing_can_run
    from rigfit.probe.source import open_source

    profile = probe_machine(open_source(None), torch_check=False)
    _, plan_findings = doctor_summary(profile)
    findings = findings_for(profile, also=plan_findings)
    blockers = [f for f in findings if f.severity == "blocker"]
    if nothing_can_run(profile, findings):
        first = blockers[0]
        raise UpStopped("doctor", first.message, first.fix or "rigfit doctor shows every check")
    warnings = sum(1 for f in findings if f.severity == "warning")
    gpus = ", ".join(g.name or "GPU" for g in profile.gpus) or "no GPU"
    say(f"[green]✓ doctor[/]  {profile.cpu.model or 'CPU'}; {gpus}; {warnings} warning(s) (`rigfit doctor`)")
    return profile


def plan_stage(profile: Profile, options: UpOptions, say: Say) -> Plan:
    from rigfit.plan.model import PlanOptions
    from rigfit.plan.planner import make_plan

    plan = make_plan(profile, PlanOptions(ui=options.ui, listen=options.listen))  # type: ignore[arg-type]
    if plan.torch.source == "none" or any(b.blocks == "all" for b in plan.blockers):
        blocker = next((b for b in plan.blockers), None)
        raise UpStopped(
            "plan",
            blocker.message if blocker else "no torch fits this machine",
            blocker.fix if blocker else "rigfit plan --explain",
        )
    torch = f"torch {plan.torch.version or '?'} {plan.torch.variant or ''}".strip()
    say(f"[green]✓ plan[/]    {plan.device.name}, backend {plan.backend}, {torch}, {plan.precision_detail}")
    return plan


def installed_ok(env_dir: Path) -> str | None:
    """Why the env needs an install (None when it is complete and its protected files are intact)."""
    from rigfit.env.protect import ProtectError, verify

    try:
        record = load_record(env_dir)
    except EnvRecordError:
        return "not installed yet"
    if not record.complete:
        return "its last install did not finish"
    try:
        problems = verify(env_dir, record.protected)
    except ProtectError as exc:
        return str(exc)
    return f"{len(problems)} protected file(s) changed" if problems else None


def install_stage(options: UpOptions, env_dir: Path, say: Say, confirm: Callable[[str], bool]) -> None:
    from rigfit.env.errors import INSTALL_ERRORS
    from rigfit.env.install import InstallOptions, install

    need = installed_ok(env_dir)
    if need is None:
        say(f"[green]✓ install[/] {options.ui} already installed and intact in {env_dir}")
        return
    if not options.yes and not confirm(f"Install {options.ui} into {env_dir} ({need})?"):
        raise UpStopped("install", f"{options.ui} is not installed ({need})", f"rigfit up {options.ui} --yes")
    say(f"[bold]… install[/] {options.ui} into {env_dir} ({need})")
    opts = InstallOptions(
        ui=options.ui,
        env_dir=env_dir,
        source=options.source,
        mirror=Path(options.mirror).expanduser().resolve() if options.mirror else None,
        torch_wheels=options.torch_wheels,
    )
    try:
        record = install(opts, lambda line: say(f"  {line}"))
    except INSTALL_ERRORS as exc:
        # the message names the cause and its fix (offline: --source/--mirror, which `rigfit up` takes too)
        fix = f"do what the line above says, then run the same `rigfit up {options.ui}` again: the install continues"
        raise UpStopped("install", str(exc), fix) from exc
    say(f"[green]✓ install[/] {options.ui} in {record.env_dir}")
