"""Start an installed UI in the background and wait until it answers; stop it; say what runs.

Stage functions the commands call: `prepare` (preflight + the command), `start` (state file, wait, crash
explanation), `stop_env`, `running`. Messages are for people: each problem says what is wrong and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rigfit.env.record import EnvRecord, EnvRecordError, load_record, now
from rigfit.env.select import chosen_env
from rigfit.kb.schemas import UiEntry
from rigfit.launch.auth import (
    DEFAULT_USER,
    AuthError,
    Credentials,
    credentials,
    ensure_account,
    redact,
    redact_text,
    ui_has_auth,
)
from rigfit.launch.health import LogFollower, StartWatch, WaitResult, http_status, wait_until_up
from rigfit.launch.launcher import LOCALHOST, LaunchCommand, build_command, full_env, urls_for
from rigfit.launch.preflight import (
    LaunchProblem,
    fitting_models,
    model_folder,
    models_in,
    port_problem,
    protected_problems,
    record_problems,
)
from rigfit.launch.process import is_same_process, start_detached, stop_group
from rigfit.launch.state import RunState, all_states, load_state, log_path, remove_state, save_state, state_path
from rigfit.plan.knowledge import ui_entry
from rigfit.records import field, record


class LaunchError(Exception):
    """The UI cannot start, or died starting: what, the fix, and what its log says."""

    def __init__(self, message: str, fix: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.log_tail = message, fix, log_tail


@record
class LaunchOptions:
    ui: str | None = None
    env: str | None = None
    port: int | None = None
    listen: bool = False
    no_auth: bool = False
    auth: str | None = None  # USER:PASSWORD
    extra: list[str] = field(default_factory=list)
    timeout: float = 600.0


@record
class Prepared:
    record: EnvRecord
    ui: UiEntry
    command: LaunchCommand
    creds: Credentials | None
    warnings: list[LaunchProblem]
    listen: bool


def _record(options: LaunchOptions) -> EnvRecord:
    try:
        env_dir = chosen_env(options.env, options.ui)
        record = load_record(env_dir)
    except EnvRecordError as exc:
        raise LaunchError(str(exc).split(": ")[0], str(exc).split(": ", 1)[-1]) from exc
    if options.ui and record.ui != options.ui:
        raise LaunchError(
            f"{env_dir} holds {record.ui}, not {options.ui}", f"rigfit launch {record.ui} --env {env_dir}"
        )
    return record


def _credentials(options: LaunchOptions, ui: UiEntry) -> Credentials | None:
    if not options.listen or options.no_auth:
        return None
    if not ui_has_auth(ui):
        raise LaunchError(
            f"{ui.name} has no login of its own: with --listen anyone on your network could use it",
            "keep it on this machine (no --listen), put it behind a reverse proxy with a login, "
            "or accept the risk with --listen --no-auth",
        )
    try:
        return credentials(ui.id, options.auth, ui.auth_account.user if ui.auth_account else DEFAULT_USER)
    except AuthError as exc:
        raise LaunchError(str(exc), "--auth USER:PASSWORD, or leave it out to get a generated password") from exc


def prepare(options: LaunchOptions) -> Prepared:
    """Everything checked before anything starts; LaunchError on the first blocking problem."""
    record = _record(options)
    ui = ui_entry(record.ui)
    env_dir = Path(record.env_dir)
    problems = record_problems(record)
    old = load_state(state_path(env_dir))
    if old is not None and is_same_process(old.pid, old.start_ticks):
        problems.insert(0, LaunchProblem(f"{ui.name} already runs from {env_dir} at {old.urls[0]}", "rigfit stop"))
    port = options.port or ui.port or 7860
    if not problems:
        busy = port_problem(port, "0.0.0.0" if options.listen else LOCALHOST)
        problems += [busy] if busy else []
    blocking = [p for p in problems if p.blocking]
    if blocking:
        raise LaunchError(blocking[0].message, blocking[0].fix)
    creds = _credentials(options, ui)
    command = build_command(record, ui, port=port, listen=options.listen, creds=creds, extra=options.extra)
    warnings = [p for p in problems if not p.blocking] + _patches_back(record)
    folder = model_folder(ui, Path(record.ui_dir))
    if folder is not None and not models_in(ui, Path(record.ui_dir)):
        fits = "".join(f"\n    - {line}" for line in fitting_models(ui.id))
        warnings.append(
            LaunchProblem(
                f"no model in {folder}: the UI starts (downloading nothing), but generates nothing until one is there",
                (ui.model_howto or "put a checkpoint (.safetensors) in {folder}.").format(folder=folder)
                + f" What fits this machine (rigfit plan):{fits}",
                blocking=False,
            )
        )
    return Prepared(record, ui, command, creds, warnings, options.listen)


def _patches_back(record: EnvRecord) -> list[LaunchProblem]:
    """Patches the env record lists whose file an install replaced: applied again (they are known files)."""
    if not record.patches:
        return []
    from rigfit.env.patching import PatchError, reapply_patches

    try:
        again = reapply_patches(Path(record.env_dir))
    except (PatchError, EnvRecordError) as exc:
        return [LaunchProblem(f"a recorded patch could not be applied again: {exc}", "rigfit patch list", False)]
    return [
        LaunchProblem(f"patch {s.entry.id} applied again to {s.path} (an install had replaced it)", "none", False)
        for s in again
    ]


def create_login(prepared: Prepared) -> None:
    """A UI whose login is an account in its own database (InvokeAI) gets it before it starts: otherwise its first
    page lets whoever comes first on the network create the administrator. LaunchError when that fails."""
    if prepared.creds is None or prepared.ui.auth_account is None:
        return
    record = prepared.record
    failed = ensure_account(prepared.ui, record.python, Path(record.ui_dir), prepared.creds)
    if failed:
        raise LaunchError(
            f"cannot create the {prepared.ui.name} login {prepared.creds.user}: {failed}",
            f"check the env with `rigfit env check --env {record.env_dir}` (a login is an email address for "
            f"{prepared.ui.name}: --auth you@example.org:PASSWORD), or start without --listen",
        )


def start(
    prepared: Prepared, timeout: float, on_line: Callable[[str, str | None], None] | None = None
) -> tuple[RunState, WaitResult]:
    """Start the UI, record it, wait for its health endpoint. LaunchError (with the log's tail) when it dies."""
    env_dir = Path(prepared.record.env_dir)
    log = log_path(env_dir)
    log.parent.mkdir(parents=True, exist_ok=True)
    offset = log.stat().st_size if log.exists() else 0
    command = prepared.command
    create_login(prepared)
    pid, ticks = start_detached(command.argv, command.cwd, full_env(command.env_added, command.env_secret), log)
    state = RunState(
        ui=prepared.ui.id,
        env_dir=str(env_dir),
        pid=pid,
        start_ticks=ticks,
        port=command.port,
        urls=urls_for(command.port, prepared.listen),
        command=redact(command.argv, prepared.creds),
        env=command.env_added,
        cwd=str(command.cwd),
        log=str(log),
        started_at=now(),
        listen=prepared.listen,
        auth_user=prepared.creds.user if prepared.creds else None,
    )
    save_state(state)
    _check_env_while_starting(prepared.record, state)
    health = f"http://{LOCALHOST}:{command.port}{prepared.ui.health or '/'}"
    creds = prepared.creds
    show = None if on_line is None else lambda line, phase: on_line(redact_text(line, creds), phase)
    watch = StartWatch(LogFollower(log, offset), prepared.ui.start_phases, prepared.ui.ready_line, show)
    waited = wait_until_up(health, pid, ticks, watch, timeout)
    if waited.status == "died":
        remove_state(state_path(env_dir))
        raise LaunchError(
            f"{prepared.ui.name} exited while starting (after {waited.seconds:.0f} s)",
            f"read the explanation below, then the whole log: {log}",
            log_tail=redact_text(log_tail(log, offset), creds),
        )
    return state, waited


def _check_env_while_starting(record: EnvRecord, state: RunState) -> None:
    """The env check (protected files: ~12k stats for torch) runs while the UI imports in its own process, not
    before it: it took a few tenths of a second off the start. A changed file stops the UI at once, before it has
    written anything (it is still importing), and nothing is recorded as running."""
    changed = protected_problems(record)
    if changed:
        stop_group(state.pid, state.start_ticks, grace=5)
        remove_state(state_path(Path(record.env_dir)))
        raise LaunchError(changed[0].message, changed[0].fix)


def log_tail(log: Path, offset: int = 0, lines: int = 30) -> str:
    """The last lines written to the log since `offset` (the start of this launch)."""
    try:
        with open(log, "rb") as stream:
            stream.seek(offset)
            text = stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def log_since(log: Path, offset: int = 0) -> str:
    try:
        with open(log, "rb") as stream:
            stream.seek(offset)
            return stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


@record
class StopResult:
    state: RunState | None
    outcome: str  # stopped | killed | gone | not-ours | none


def stop_env(env: str | None, ui: str | None) -> list[StopResult]:
    """Stop what rigfit started for one env (or every env when neither is given and several run)."""
    if env or ui:
        try:
            paths = [state_path(chosen_env(env, ui))]
        except EnvRecordError as exc:
            raise LaunchError(str(exc), "rigfit status shows what runs") from exc
    else:
        paths = [path for path, _ in all_states()]
    results = []
    for path in paths:
        state = load_state(path)
        if state is None:
            remove_state(path)
            results.append(StopResult(None, "none"))
            continue
        outcome = stop_group(state.pid, state.start_ticks)
        remove_state(path)
        results.append(StopResult(state, outcome))
    return results


@record
class Running:
    state: RunState
    alive: bool
    answers: bool


def running() -> list[Running]:
    """What the state files say runs; stale files (the process is gone or the PID reused) are removed."""
    found = []
    for path, state in all_states():
        if state is None or not is_same_process(state.pid, state.start_ticks):
            remove_state(path)
            continue
        ui = ui_entry(state.ui)
        status = http_status(f"http://{LOCALHOST}:{state.port}{ui.health or '/'}")
        found.append(Running(state, True, status == 200))
    return found
