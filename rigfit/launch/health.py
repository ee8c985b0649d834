"""Wait until a started UI answers on its health endpoint, following its log meanwhile.

The endpoint is KB data (uis.yaml `health`: Forge/A1111 /internal/ping, ComfyUI /system_stats). While waiting,
each new log line goes to a callback, and lines the KB knows (`start_phases`) say what the UI is doing.
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


def wait_until_up(
    url: str,
    pid: int,
    ticks: int,
    follower: LogFollower,
    phases: list[LogPhase],
    timeout: float,
    on_line: Callable[[str, str | None], None] | None = None,
) -> WaitResult:
    """Poll `url` until it answers 200, the UI's process group dies, or `timeout` seconds pass."""
    start = time.monotonic()
    phase = None
    delay = POLL_FIRST
    while True:
        for line in follower.new_lines():
            delay = POLL_FIRST
            said = phase_of(line, phases)
            phase = said or phase
            if on_line is not None:
                on_line(line, said)
        if http_status(url) == 200:
            return WaitResult("up", time.monotonic() - start, phase)
        if not group_is_ours(pid, ticks):
            for line in follower.new_lines():
                if on_line is not None:
                    on_line(line, phase_of(line, phases))
            return WaitResult("died", time.monotonic() - start, phase)
        if time.monotonic() - start > timeout:
            return WaitResult("timeout", time.monotonic() - start, phase)
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX)
