"""Run a program bounded in time and bytes, in its own process group, and leave nothing of it behind.

`subprocess.run(timeout=...)` kills only the direct child and then waits for its pipes: a tool's children (a shell
script's `sleep`, a driver helper) keep running and keep the pipes open, and a tool printing 50 MB is read whole into
memory. Here the program starts a new session (its own process group), its pipes are read with a byte cap, and once it
has exited, timed out or printed too much, its whole group is killed before it is reaped (while its zombie still
holds the group's id, so no other process can have been given that id). A grandchild that left the group on purpose
(setsid) cannot hold rigfit: its pipes are abandoned after a short grace time.

On Linux every program started here (but the probe's short tools) is also told to die with rigfit (PR_SET_PDEATHSIG):
a rigfit killed with SIGKILL runs no cleanup, and without it an installer (uv, pip) would go on writing into the env.
The signal is tied to the thread that started the program; every caller waits for the program in that same thread.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Literal

from rigfit.records import field, record

MAX_OUTPUT_BYTES = 4 * 1024 * 1024  # kept per stream by default
DRAIN_GRACE_S = 0.3  # after the program ended: time left to pipes a stray grandchild may still hold
_POLL_S = 0.05  # how often the exit is checked where the kernel has no pidfd (Linux < 5.3)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@record
class Capture:
    """What a pipe said: the first (`keep="head"`) or last (`keep="tail"`) `limit` bytes of it."""

    limit: int
    keep: Literal["head", "tail"] = "head"
    data: bytearray = field(default_factory=bytearray)
    cut: bool = False  # more was printed than was kept

    def add(self, chunk: bytes) -> None:
        if self.keep == "head":
            room = self.limit - len(self.data)
            self.data += chunk[: max(room, 0)]
            self.cut |= len(chunk) > room
            return
        self.data += chunk
        if len(self.data) > 2 * self.limit:  # trim in large steps: appending stays linear
            del self.data[: len(self.data) - self.limit]
            self.cut = True

    def bytes(self) -> bytes:
        return bytes(self.data[-self.limit :]) if self.keep == "tail" else bytes(self.data)


@record
class Finished:
    stdout: bytes
    stderr: bytes
    returncode: int | None  # None when rigfit killed it (timeout or too much output)
    timed_out: bool = False
    cut: bool = False  # it printed more than was kept (and, with stop_when_cut, was killed for it)
    seconds: float = 0.0


class _Lines:
    """Calls `on_line` with each complete line of a byte stream, as it arrives."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.partial = b""

    def feed(self, chunk: bytes) -> None:
        *complete, self.partial = (self.partial + chunk).split(b"\n")
        for raw in complete:
            # a broken progress display must not lose the program's result
            with contextlib.suppress(Exception):
                self.on_line(raw.decode("utf-8", errors="replace"))
        if len(self.partial) > MAX_OUTPUT_BYTES:  # one endless line: do not hold it
            self.partial = b""


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    merge_stderr: bool = False,
    max_bytes: int = MAX_OUTPUT_BYTES,
    keep: Literal["head", "tail"] = "head",
    stop_when_cut: bool = False,
    on_line: Callable[[str], None] | None = None,
    die_with_rigfit: bool = True,
) -> Finished:
    """Run `argv` (no shell) with stdin closed; raises OSError only when it cannot start.

    `merge_stderr` sends stderr into stdout (one stream, in order). With `stop_when_cut`, a program that prints more
    than `max_bytes` is killed there (a tool's head is all that is read). `on_line` sees each stdout line as it comes.
    `die_with_rigfit=False` spares the death-signal hook (a plain fork instead of vfork, some ms each) for short
    programs that their timeout ends anyway, such as the probe's tools.
    """
    start = time.monotonic()
    proc = spawn(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        env=env,
        die_with_rigfit=die_with_rigfit,
    )
    captures = {"stdout": Capture(max_bytes, keep), "stderr": Capture(max_bytes, keep)}
    lines = _Lines(on_line) if on_line else None
    sel = selectors.DefaultSelector()
    for name in ("stdout", "stderr"):
        pipe = getattr(proc, name)
        if pipe is not None:
            os.set_blocking(pipe.fileno(), False)
            sel.register(pipe, selectors.EVENT_READ, name)
    exit_fd = _pidfd(proc.pid)
    if exit_fd is not None:
        sel.register(exit_fd, selectors.EVENT_READ, "exit")
    deadline = start + timeout
    timed_out = killed = False
    try:
        while True:
            if _exited(proc.pid):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not _read_ready(sel, min(remaining, _POLL_S) if exit_fd is None else remaining, captures, lines):
                continue
            if stop_when_cut and captures["stdout"].cut:
                killed = True
                break
        _kill_group(proc.pid)
        _drain(sel, captures, lines, time.monotonic() + DRAIN_GRACE_S)
    finally:
        _kill_group(proc.pid)  # also when reading failed: never leave the group running
        sel.close()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        if exit_fd is not None:
            os.close(exit_fd)
        proc.wait()
    return Finished(
        stdout=captures["stdout"].bytes(),
        stderr=captures["stderr"].bytes(),
        returncode=None if timed_out or killed else proc.returncode,
        timed_out=timed_out,
        cut=captures["stdout"].cut or captures["stderr"].cut,
        seconds=time.monotonic() - start,
    )


def spawn(argv: Sequence[str], die_with_rigfit: bool = True, **popen: object) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session (process group), killed by the kernel if rigfit dies first (Linux)."""
    hook = _die_with_parent() if die_with_rigfit else None
    return subprocess.Popen(list(argv), start_new_session=True, preexec_fn=hook, **popen)  # type: ignore[call-overload]


def _die_with_parent() -> Callable[[], None] | None:
    """The hook run in the child between fork and exec: prctl(PR_SET_PDEATHSIG, SIGKILL). If rigfit died before the
    hook ran, the child has been re-parented already and exits at once. None where there is no prctl."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent, kill = os.getpid(), int(signal.SIGKILL)  # everything the hook needs, made before the fork

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(137)

    return hook


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded once in rigfit's own process (never in a forked child)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only where a child must die with rigfit: the probe's short tools never load it

    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _read_ready(sel: selectors.BaseSelector, wait_s: float, captures: dict[str, Capture], lines: _Lines | None) -> bool:
    """Read what the pipes hold now (waiting up to `wait_s`); False when nothing happened."""
    events = sel.select(max(wait_s, 0))
    for key, _ in events:
        if key.data == "exit":
            continue
        chunk = _read(key.fileobj)
        if chunk is None:
            continue
        if not chunk:
            sel.unregister(key.fileobj)
            continue
        captures[key.data].add(chunk)
        if lines is not None and key.data == "stdout":
            lines.feed(chunk)
    return bool(events)


def _drain(sel: selectors.BaseSelector, captures: dict[str, Capture], lines: _Lines | None, until: float) -> None:
    """Read what is left in the pipes after the group was killed, until they close or `until` passes."""
    for key in list(sel.get_map().values()):
        if key.data == "exit":
            sel.unregister(key.fileobj)
    while sel.get_map() and time.monotonic() < until:
        _read_ready(sel, until - time.monotonic(), captures, lines)


def _read(fileobj: object) -> bytes | None:
    try:
        return os.read(fileobj.fileno(), 65536)  # type: ignore[attr-defined]
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux >= 5.3), else None (then the exit is polled)."""
    try:
        return os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return None


def _exited(pid: int) -> bool:
    """Whether `pid` has exited, without reaping it: its zombie keeps the process group id ours until the wait."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _kill_group(pgid: int) -> None:
    """SIGKILL to the program's own process group (created by start_new_session): never anything else."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
