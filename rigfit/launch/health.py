"""Wait until a started UI answers on its health endpoint, following its log meanwhile.

The endpoint is KB data (uis.yaml `health`: Forge/A1111 /internal/ping, ComfyUI /system_stats). While waiting,
each new log line goes to a callback, and lines the KB knows (`start_phases`) say what the UI is doing.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rigfit.kb.schemas import LogPhase
from rigfit.launch.process import group_is_ours

WaitStatus = Literal["up", "died", "timeout"]


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status a GET of `url` gets, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, ValueError):
        return None


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


@dataclass
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
    while True:
        for line in follower.new_lines():
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
        time.sleep(0.25)
