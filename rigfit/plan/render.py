"""Render a plan: the readable report, the reasoning tree (--explain), and the JSON document (--json)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from rigfit.kb.typed import dump
from rigfit.plan.knowledge import ui_entry
from rigfit.plan.model import Plan
from rigfit.probe.profile import Profile
from rigfit.terminal import escape, prose

if TYPE_CHECKING:
    from rich.console import Console
    from rich.tree import Tree

SCHEMA = "rigfit.plan/1"
VERDICT = {"ok": "[green]ok[/]", "slow": "[yellow]slow[/]", "tight": "[yellow]tight[/]", "no": "[red]no[/]"}


def plan_json(profile: Profile, plan: Plan) -> dict[str, Any]:
    return {"schema": SCHEMA, "profile": dump(profile), "plan": {**dump(plan), "reasons": plan.reasons}}


def launch_line(plan: Plan) -> str:
    ui = ui_entry(plan.ui)
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in plan.env.items())
    return " ".join(p for p in (env, ui.launch, " ".join(plan.ui_flags)) if p)


def _command(cmd: str) -> str:
    return f"    [cyan]$[/] {escape(cmd)}"


def _problem(mark: str, message: str, fix: str) -> str:
    return f"  {mark} {prose(message, 4, 4)}\n      [cyan]fix:[/] {prose(fix, 11, 11)}"


def _section(console: Console, title: str, lines: list[str]) -> None:
    """A titled block of ready-marked-up lines; nothing at all when there are none."""
    if lines:
        console.print(f"\n[bold underline]{title}[/]")
        for line in lines:
            console.print(line)


def render_plan(profile: Profile, plan: Plan, console: Console, installed_launch: str | None = None) -> None:
    """`installed_launch`: the `rigfit launch` command of an env rigfit installed for this UI, shown instead of
    the UI's own launch line (rigfit starts that env with the flags it recorded, after its checks)."""
    ui = ui_entry(plan.ui)
    console.print(f"[bold]rigfit plan[/] — {escape(profile.source or 'this machine')} — {escape(ui.name)}")
    device = plan.decision("device")
    console.print(
        f"\n[bold underline]Device[/]\n  {escape(device.choice if device else plan.device.name)}, "
        f"backend {plan.backend}"
    )
    torch = plan.decision("torch")
    console.print(f"\n[bold underline]Torch[/]\n  {escape(torch.choice if torch else '?')}")
    for reason in (torch.reasons if torch else [])[:2]:
        console.print(f"  [dim]because[/] {prose(reason.text, 10, 4, console)}")
    for cmd in plan.torch.install:
        console.print(_command(cmd))
    if plan.python.message:
        console.print(_problem("[yellow]![/]", plan.python.message, plan.python.how or ""))
    console.print("\n[bold underline]Precision and memory[/]")
    console.print(f"  {escape(plan.precision_detail)}; memory mode {plan.memory_mode}; attention {plan.attention}")
    if installed_launch:
        console.print(f"\n[bold underline]Launch {escape(ui.name)}[/] [dim](installed by rigfit)[/]")
        console.print(_command(installed_launch))
    else:
        console.print(f"\n[bold underline]Launch {escape(ui.name)}[/]\n{_command(launch_line(plan))}")
    for key, value in plan.ui_config.items():
        console.print(f"  setting {escape(key)}: {escape(value)}")
    for name, value in plan.env_kept.items():
        console.print(f"  kept your {escape(name)}={escape(value)}")
    if plan.pins:
        console.print(f"\n[bold underline]Pins[/]\n  {escape(' '.join(plan.pins))}")
    console.print("\n[bold underline]Models[/]")
    for m in plan.models:
        console.print(f"  {VERDICT[m.verdict]} {escape(m.name)}: {escape(m.note)}")
    _section(console, "Warnings", [_problem("[yellow]![/]", w.message, w.fix) for w in plan.warnings])
    _section(console, "Blockers", [_problem("[bold red]✗[/]", b.message, b.fix) for b in plan.blockers])
    _section(console, "Prove it on this machine", [_command(c) for c in plan.checks])
    console.print("\n[dim]Why each choice: rigfit plan --explain[/]")


def explain_tree(profile: Profile, plan: Plan) -> Tree:
    from rich.tree import Tree

    root = Tree(f"[bold]Plan for {escape(profile.source or 'this machine')}[/] ({escape(ui_entry(plan.ui).name)})")
    for d in plan.decisions:
        basis = "" if d.basis == "kb" else f" [magenta]({d.basis})[/]"
        node = root.add(f"[bold]{escape(d.topic)}[/]: {escape(d.choice)}{basis}")
        for r in d.reasons:
            cites = []
            if r.facts:
                cites.append("facts: " + ", ".join(r.facts))
            if r.kb:
                cites.append("kb: " + ", ".join(r.kb))
            node.add(escape(r.text) + (f" [dim]({escape('; '.join(cites))})[/]" if cites else ""))
        if d.alternatives:
            alts = node.add("[dim]alternatives[/]")
            for a in d.alternatives:
                alts.add(f"{escape(a.choice)}: [dim]{escape(a.why_not)}[/]")
    if plan.warnings:
        warnings = root.add("[bold yellow]warnings[/]")
        for w in plan.warnings:
            kb = f" [dim](kb: {escape(', '.join(w.kb))})[/]" if w.kb else ""
            warnings.add(f"[dim]{escape(w.id)}[/] {escape(w.message)}{kb}").add(f"[cyan]fix:[/] {escape(w.fix)}")
    if plan.blockers:
        blockers = root.add("[bold red]blockers[/]")
        for b in plan.blockers:
            blockers.add(f"{escape(b.message)} [cyan]fix:[/] {escape(b.fix)}")
    return root
