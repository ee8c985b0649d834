"""Helpers of the launch tests (tests/test_launch_*.py): rigfit run as the user runs it, a private rigfit home,
a free port. Registered in tests/conftest.py `pytest_plugins`, so the `home` fixture is there for every test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

RIGFIT = REPO / ".venv" / "bin" / "rigfit"


def ctrl_c_reaches() -> None:
    """Popen preexec_fn for a child the test interrupts: a terminal's rigfit gets Ctrl-C, but a suite started in the
    background (`pytest &`) hands its children SIGINT ignored, which Python keeps (no KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """rigfit's data dir for one test ($RIGFIT_HOME): state files, logs, logins."""
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def rigfit(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The installed `rigfit` command, wide output (no wrapped messages)."""
    return subprocess.run(
        [str(RIGFIT), *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"}
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
