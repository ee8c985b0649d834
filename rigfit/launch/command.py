"""`rigfit launch`, `stop`, `status`, `logs`: start the installed UI and watch it; thin, the work is in run.py."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Optional

from rigfit.cli_args import Argument, Exit, Option
from rigfit.env.options import MirrorOpt, SourceOpt, TorchWheelOpt
from rigfit.kb.typed import dump
from rigfit.terminal import confirm, console, err, escape, print_json, usage_error

ANSI = re.compile(r"\x1b\[[0-9;]*m")  # a UI's coloured log lines (InvokeAI), shown as plain text
UIS_HELP = "forge | a1111 | comfyui | sdnext | invokeai (default: the only env installed)"
EnvOpt = Annotated[Optional[str], Option("--env", help="The env's folder (from `rigfit install --env`).")]  # noqa: UP045
PortOpt = Annotated[Optional[int], Option("--port", help="Port to serve on (default: the UI's own).")]  # noqa: UP045
ListenOpt = Annotated[
    bool, Option("--listen", help="Serve on the local network, with the UI's login (a generated password).")
]


def _split_args(args: list[str] | None) -> tuple[str | None, list[str]]:
    """`[UI] [-- extra UI args]`: a first word naming a UI is the UI, the rest goes to the UI unchanged."""
    from rigfit.plan.model import UIS

    words = list(args or [])
    if words and words[0] in UIS:
        return words[0], words[1:]
    if words and not words[0].startswith("-"):
        raise usage_error(f"unknown UI '{words[0]}'. Valid UIs: {', '.join(UIS)} (UI flags go after --)")
    return None, words


def show_error(exc: Exception, ui_label: str = "", tail_shown: bool = False) -> None:
    """A launch problem and its fix; for a UI that died starting, its log's tail (unless it was just streamed)
    and what `rigfit explain` recognises in it."""
    from rigfit.launch.run import LaunchError

    if isinstance(exc, LaunchError):
        err.print(f"[bold red]✗[/] {escape(exc.message)}\n  [cyan]fix:[/] {escape(exc.fix)}")
        if exc.log_tail:
            if not tail_shown:
                err.print("\n[bold]Last lines of its log:[/]")
                err.print(escape(exc.log_tail))
            _explain(f"{ui_label}\n{exc.log_tail}")
    else:
        err.print(f"[bold red]✗[/] {escape(str(exc))}")


def _explain(text: str) -> None:
    from rigfit.explain.match import explain_text
    from rigfit.explain.render import render_explain

    result = explain_text(text)
    if result.explanations:
        err.print("\n[bold]rigfit explain:[/]")
        render_explain(result, "the UI's log", err, None)
    else:
        err.print("\n[dim]rigfit explain recognises nothing in it; `rigfit explain LOG` on the whole log may.[/]")


def _line_printer(quiet: bool):
    def show(line: str, phase: str | None) -> None:
        if phase:
            console.print(f"  [cyan]…[/] {escape(phase)}")
        elif not quiet and line.strip():
            console.print(f"  [dim]{escape(ANSI.sub('', line)[:200])}[/]")

    return show


def launch(
    args: Annotated[Optional[list[str]], Argument(help=f"[UI] [-- UI flags]. UI: {UIS_HELP}")] = None,  # noqa: UP045
    env: EnvOpt = None,
    listen: ListenOpt = False,
    port: PortOpt = None,
    no_auth: Annotated[bool, Option("--no-auth", help="With --listen: no login (anyone on the network).")] = False,
    auth: Annotated[Optional[str], Option("--auth", help="Your own login, USER:PASSWORD.")] = None,  # noqa: UP045
    foreground: Annotated[bool, Option("--foreground", help="Stay attached; Ctrl-C stops the UI.")] = False,
    script: Annotated[
        Optional[Path],  # noqa: UP045
        Option("--script", help="Write the equivalent shell script to FILE instead of starting."),
    ] = None,
    timeout: Annotated[float, Option("--timeout", help="Seconds to wait for the UI to answer.")] = 600.0,
    quiet: Annotated[bool, Option("--quiet", help="Show what it is doing, not every log line.")] = False,
) -> None:
    """Start the installed UI in the background and wait until it answers; print its URL."""
    from rigfit.launch.run import LaunchError, LaunchOptions, prepare

    ui, extra = _split_args(args)
    options = LaunchOptions(ui, env, port, listen, no_auth, auth, extra, timeout)
    try:
        prepared = prepare(options)
    except LaunchError as exc:
        show_error(exc)
        raise Exit(1) from exc
    if script is not None:
        _write_script(prepared, script)
        return
    if foreground:
        _run_attached(prepared, timeout, quiet)
    else:
        start_prepared(prepared, timeout, quiet)


def start_prepared(prepared, timeout: float, quiet: bool = False) -> None:
    """Start, wait, print the URLs (shared with `rigfit up`). Exit 1 when it dies or does not answer in time."""
    from rigfit.launch.run import LaunchError, start

    for warning in prepared.warnings:
        console.print(f"[yellow]![/] {escape(warning.message)}\n  [cyan]fix:[/] {escape(warning.fix)}")
    if prepared.listen and prepared.creds is None:
        err.print("[yellow]warning:[/] --no-auth: anyone who can reach this machine can use the UI and its API.")
    console.print(f"[bold]Starting {escape(prepared.ui.name)}[/] [dim]({' '.join(prepared.command.argv[1:])})[/]")
    try:
        state, waited = start(prepared, timeout, on_line=_line_printer(quiet))
    except LaunchError as exc:
        # the UI's name first, so explain knows which UI the log is from whatever the folder names
        show_error(exc, f"rigfit launch: {prepared.ui.name}", tail_shown=not quiet)
        raise Exit(1) from exc
    if waited.status == "timeout":
        err.print(
            f"[yellow]![/] {escape(prepared.ui.name)} does not answer after {waited.seconds:.0f} s "
            f"(last seen: {escape(waited.phase or 'starting')}); it keeps running.\n"
            f"  [cyan]fix:[/] watch it with `rigfit logs -f`, or stop it with `rigfit stop`"
        )
        raise Exit(1)
    console.print(f"[green]✓[/] {escape(prepared.ui.name)} answers after {waited.seconds:.1f} s:")
    for url in state.urls:
        console.print(f"  {url}")
    if prepared.creds is not None:
        shown = prepared.creds.password if prepared.creds.generated else "(yours)"
        console.print(
            f"  login: {escape(prepared.creds.user)} / {escape(shown)}  [dim](kept in {prepared.creds.path})[/]"
        )
        if prepared.ui.auth_account is not None:
            console.print(f"  [dim]scripts log in with: {escape(prepared.ui.auth_account.login)}[/]")
        if prepared.creds.generated:
            console.print("  [yellow]This password is shown once; it stays in that file (only you can read it).[/]")
    console.print("[dim]Stop it with `rigfit stop`; its log: `rigfit logs -f`.[/]")


def _write_script(prepared, path: Path) -> None:
    from rigfit.launch.run import LaunchError, create_login
    from rigfit.launch.script import launch_script

    try:
        create_login(prepared)  # the script starts the UI with its login on: the account must exist first
    except LaunchError as exc:
        show_error(exc)
        raise Exit(1) from exc
    text = launch_script(prepared.record, prepared.ui, prepared.command, prepared.creds)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    console.print(f"[green]✓[/] wrote {path}: run it with `{path}`")


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run_attached(prepared, timeout: float, quiet: bool) -> None:
    """--foreground: start, then print the UI's log until it exits. Ctrl-C, SIGTERM or a closed terminal (SIGHUP)
    stop the UI's whole process group (its own session: the terminal's Ctrl-C does not reach it by itself)."""
    import signal

    from rigfit.launch.process import stop_group
    from rigfit.launch.state import load_state, remove_state, state_path

    path = state_path(Path(prepared.record.env_dir))
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        start_prepared(prepared, timeout, quiet)
        _follow_until_exit(path, prepared.creds)
    except KeyboardInterrupt:
        state = load_state(path)
        if state is not None:
            console.print(f"stopping {escape(state.ui)}: {stop_group(state.pid, state.start_ticks)}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    remove_state(path)


def _follow_until_exit(path: Path, creds) -> None:
    from rigfit.launch.auth import redact_text
    from rigfit.launch.health import LogFollower
    from rigfit.launch.process import group_is_ours, wait_reaped
    from rigfit.launch.state import load_state

    state = load_state(path)
    if state is None:
        return
    follower = LogFollower(Path(state.log), Path(state.log).stat().st_size)
    while group_is_ours(state.pid, state.start_ticks):
        for line in follower.new_lines():
            console.print(escape(redact_text(line, creds)))
        wait_reaped(state.pid)
        time.sleep(0.3)
    for line in follower.new_lines():
        console.print(escape(redact_text(line, creds)))


def stop(
    ui: Annotated[Optional[str], Argument(help=UIS_HELP)] = None,  # noqa: UP045
    env: EnvOpt = None,
) -> None:
    """Stop the UI rigfit started (only its own process group, checked by PID and start time)."""
    from rigfit.launch.run import LaunchError, stop_env

    try:
        results = stop_env(env, ui)
    except LaunchError as exc:
        show_error(exc)
        raise Exit(1) from exc
    if not results:
        console.print("Nothing rigfit started is running.")
    for result in results:
        state = result.state
        name = state.ui if state else "?"
        text = {
            "stopped": f"[green]✓[/] stopped {name} (PID {state.pid if state else '?'})",
            "killed": f"[yellow]✓[/] {name} did not stop on SIGTERM; killed it (SIGKILL)",
            "gone": f"{name} had already exited; removed its stale state file",
            "not-ours": f"{name} had already exited and its PID now belongs to another process (left alone); "
            "removed the stale state file",
            "none": "removed an unreadable state file",
        }[result.outcome]
        console.print(text)


def status(as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False) -> None:
    """What rigfit started and still runs: URL, uptime, memory, last log lines."""
    from rigfit.launch.process import group_rss_bytes
    from rigfit.launch.run import log_tail, running

    found = running()
    if as_json:
        print_json(
            {
                "schema": "rigfit.status/1",
                "running": [
                    {
                        **dump(r.state),
                        "answers": r.answers,
                        "rss_bytes": group_rss_bytes(r.state.pid),
                    }
                    for r in found
                ],
            }
        )
        return
    if not found:
        console.print("Nothing rigfit started is running. Start it with `rigfit launch`.")
        return
    from datetime import datetime, timezone

    for r in found:
        s = r.state
        up = datetime.now(timezone.utc) - datetime.fromisoformat(s.started_at)
        answer = "[green]answers[/]" if r.answers else "[yellow]not answering yet[/]"
        console.print(f"[bold]{s.ui}[/] {answer}  {' '.join(s.urls)}")
        console.print(
            f"  PID {s.pid}, up {int(up.total_seconds()) // 60} min, {group_rss_bytes(s.pid) / 2**30:.1f} GiB"
        )
        console.print(f"  env {s.env_dir}; log {s.log}")
        for line in log_tail(Path(s.log), lines=5).splitlines():
            console.print(f"  [dim]{escape(line[:160])}[/]")


def logs(
    ui: Annotated[Optional[str], Argument(help=UIS_HELP)] = None,  # noqa: UP045
    env: EnvOpt = None,
    follow: Annotated[bool, Option("-f", "--follow", help="Keep printing new lines.")] = False,
    lines: Annotated[int, Option("-n", "--lines", help="How many last lines.")] = 40,
) -> None:
    """The UI's log (what `rigfit launch` started)."""
    from rigfit.env.record import EnvRecordError
    from rigfit.env.select import chosen_env
    from rigfit.launch.health import LogFollower
    from rigfit.launch.run import log_tail
    from rigfit.launch.state import log_path

    try:
        path = log_path(chosen_env(env, ui))
    except EnvRecordError as exc:
        raise usage_error(str(exc)) from exc
    if not path.exists():
        raise usage_error(f"no log yet at {path}: start the UI with `rigfit launch`")
    print(log_tail(path, lines=lines), flush=True)
    if follow:
        follower = LogFollower(path, path.stat().st_size)
        try:
            while True:
                for line in follower.new_lines():
                    print(line, flush=True)
                time.sleep(0.5)
        except KeyboardInterrupt:
            return


def up(
    ui: Annotated[str, Argument(help="forge | invokeai | a1111 | comfyui")] = "forge",
    env: EnvOpt = None,
    listen: ListenOpt = False,
    port: PortOpt = None,
    yes: Annotated[bool, Option("--yes", "-y", help="Install without asking.")] = False,
    mirror: MirrorOpt = None,
    torch_wheel: TorchWheelOpt = None,
    source: SourceOpt = None,
    timeout: Annotated[float, Option("--timeout", help="Seconds to wait for the UI to answer.")] = 600.0,
) -> None:
    """From this machine to a running UI: doctor, plan, install (if needed), launch; prints the URL."""
    from rigfit.env.record import default_env_dir
    from rigfit.launch.run import LaunchError, LaunchOptions, prepare
    from rigfit.launch.up import UpOptions, UpStopped, doctor_stage, install_stage, plan_stage
    from rigfit.plan.model import UIS

    if ui not in UIS:
        raise usage_error(f"unknown UI '{ui}'. Valid UIs: {', '.join(UIS)}.")
    options = UpOptions(ui, env, listen, port, yes, mirror, torch_wheel or [], source)
    env_dir = Path(env).expanduser().resolve() if env else default_env_dir(ui)
    try:
        profile = doctor_stage(console.print)
        plan_stage(profile, options, console.print)
        install_stage(options, env_dir, console.print, confirm)
        prepared = prepare(LaunchOptions(ui, str(env_dir), port, listen, timeout=timeout))
    except UpStopped as exc:
        err.print(f"[bold red]✗ {exc.stage}[/] {escape(exc.message)}\n  [cyan]fix:[/] {escape(exc.fix)}")
        raise Exit(1) from exc
    except LaunchError as exc:
        err.print("[bold red]✗ launch[/]")
        show_error(exc)
        raise Exit(1) from exc
    start_prepared(prepared, timeout, quiet=True)
