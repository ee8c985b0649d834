"""Wait until a started UI answers on its health endpoint, following its log meanwhile.

The endpoint is KB data (uis.yaml `health`: Forge/A1111 /internal/ping, ComfyUI /system_stats). While waiting,
each new log line goes to a callback, and lines the KB knows (`start_phases`) say what the UI is doing. A UI whose
health path answers before its other routes exist (`ready_line`) is up once that line is in the log too.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from rigfit.kb.schemas import LogPhase
from rigfit.launch.process import group_is_ours
from rigfit.records import record

WaitStatus = Literal["up", "died", "timeout"]
# Polls come every POLL_FIRST seconds after the start and after each new log line (a UI about to answer prints: Forge's
# "Running on local URL"), else every POLL_MAX: a UI that answers waits at most that long to be seen. A poll costs
# ~0.35 ms of CPU (measured): 0.35% of a core at POLL_MAX, which a UI starting on a small CPU hardly misses.
POLL_FIRST = 0.05
POLL_MAX = 0.1


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status a GET of `url` (plain http) gets, or None when nothing answers.

    A bare HTTP/1.0 request on a socket: urllib would add ~40 ms of imports (ssl, email) to every `rigfit launch`."""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 80
    request = f"GET {parts.path or '/'} HTTP/1.0\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(request.encode())
            head = sock.makefile("rb").readline(256)
    except OSError:
        return None
    words = head.split()
    if len(words) < 2 or not words[0].startswith(b"HTTP/") or not words[1].isdigit():
        return None
    return int(words[1])


class LogFollower:
    """The complete lines appended to a log since the last call."""

    def __init__(self, path: Path, start: int = 0) -> None:
        self.path = path
        self.offset = start
        self._partial = b""

    def new_lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                data = log.read(1 << 20)
        except OSError:
            return []
        self.offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]


def phase_of(line: str, phases: list[LogPhase]) -> str | None:
    for phase in phases:
        if re.search(phase.match, line):
            return phase.says
    return None


@record
class WaitResult:
    status: WaitStatus
    seconds: float
    phase: str | None  # what it was doing last


class StartWatch:
    """What the log has said so far: the last phase, and whether the UI's ready line came."""

    def __init__(
        self,
        follower: LogFollower,
        phases: list[LogPhase],
        ready_line: str | None,
        on_line: Callable[[str, str | None], None] | None,
    ) -> None:
        self.follower = follower
        self.phases = phases
        self.ready = re.compile(ready_line) if ready_line else None
        self.ready_seen = ready_line is None
        self.on_line = on_line
        self.phase: str | None = None

    def read(self) -> bool:
        """Take the new log lines; True when there were some."""
        lines = self.follower.new_lines()
        for line in lines:
            said = phase_of(line, self.phases)
            self.phase = said or self.phase
            self.ready_seen = self.ready_seen or bool(self.ready and self.ready.search(line))
            if self.on_line is not None:
                self.on_line(line, said)
        return bool(lines)


def wait_until_up(url: str, pid: int, ticks: int, watch: StartWatch, timeout: float) -> WaitResult:
    """Poll `url` until it answers 200 and the ready line (if the UI has one) is in the log, the UI's process group
    dies, or `timeout` seconds pass."""
    start = time.monotonic()
    delay = POLL_FIRST
    while True:
        if watch.read():
            delay = POLL_FIRST
        if watch.ready_seen and http_status(url) == 200:
            return WaitResult("up", time.monotonic() - start, watch.phase)
        if not group_is_ours(pid, ticks):
            watch.read()
            return WaitResult("died", time.monotonic() - start, watch.phase)
        if time.monotonic() - start > timeout:
            return WaitResult("timeout", time.monotonic() - start, watch.phase)
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX)
