"""Start a UI in its own process group and stop exactly that group, never anything else.

A running UI is known by its state file (state.py): the leader's PID, its process group and the leader's start time
(field 22 of /proc/PID/stat, in clock ticks since boot). A PID whose start time differs is another process that got
the number later: it is never signalled. Group members are read from /proc (field 5, the process group), so a
group whose leader already exited is still stopped, and zombies count as gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rigfit.records import record

PROC = Path("/proc")


@record(frozen=True)
class ProcStat:
    pid: int
    state: str  # R, S, D, Z...
    pgrp: int
    start_ticks: int
    rss_pages: int
    threads: int

    @property
    def gone(self) -> bool:
        """Exited: a zombie whose threads have all ended (a leader can show Z while its other threads still run and
        still hold its sockets)."""
        return self.state == "Z" and self.threads <= 1


def read_stat(pid: int) -> ProcStat | None:
    """/proc/PID/stat, parsed after the command name (which may hold spaces and parentheses)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text[text.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state); field N is fields[N - 3]
    return ProcStat(pid, fields[0], int(fields[2]), int(fields[19]), int(fields[21]), int(fields[17]))


def start_ticks(pid: int) -> int | None:
    stat = read_stat(pid)
    return stat.start_ticks if stat else None


def is_same_process(pid: int, ticks: int) -> bool:
    """The process with this PID is the one that started at `ticks` (not a later one given the same number)."""
    stat = read_stat(pid)
    return stat is not None and stat.start_ticks == ticks and not stat.gone


def group_members(pgid: int) -> list[ProcStat]:
    """Live (non-zombie) processes of one process group."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None and stat.pgrp == pgid and not stat.gone:
                found.append(stat)
    return found


def group_rss_bytes(pgid: int) -> int:
    return sum(s.rss_pages for s in group_members(pgid)) * os.sysconf("SC_PAGE_SIZE")


def start_detached(argv: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path) -> tuple[int, int]:
    """Start `argv` in a new session (its own process group), output appended to `log`, a file only its owner reads
    (a UI may print its arguments, a login among them). Returns (pid, start ticks)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # a log from before keeps no wider mode
    with os.fdopen(fd, "ab") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ticks = start_ticks(proc.pid)
    if ticks is None:  # it exited at once: its log says why
        proc.wait()
        return proc.pid, -1
    return proc.pid, ticks


def group_is_ours(pid: int, ticks: int) -> bool:
    """May the group `pid` leads be signalled? Yes while the leader is the one rigfit started, or, once it exited,
    while members remain (the kernel never hands out a PID still used as a process group ID)."""
    stat = read_stat(pid)
    if stat is not None and not stat.gone:
        return stat.start_ticks == ticks
    return bool(group_members(pid))


def stop_group(pid: int, ticks: int, grace: float = 15.0) -> str:
    """SIGTERM the group rigfit started, SIGKILL what is left after `grace` seconds.

    Returns "stopped", "killed" (needed SIGKILL), "gone" (nothing left) or "not-ours" (the PID now names another
    process: nothing was signalled)."""
    if not group_is_ours(pid, ticks):
        stat = read_stat(pid)
        return "not-ours" if stat is not None and not stat.gone else "gone"
    if not group_members(pid):
        return "gone"
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_members(pid):
            return "stopped"
        time.sleep(0.2)
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return "killed"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def wait_reaped(pid: int) -> None:
    """Reap our own child if it is one (tests, --foreground); a no-op for a process we did not fork."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
