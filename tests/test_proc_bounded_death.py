"""Every program rigfit.proc.bounded starts dies with rigfit, even when rigfit is SIGKILLed and runs no cleanup
(Linux: PR_SET_PDEATHSIG set in the child before exec). `sleep` prints nothing, so no closed pipe would stop it:
without the death signal it would outlive its parent by a minute."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
PARENT = (
    "from rigfit.proc.bounded import run_bounded; print('started', flush=True); "
    "run_bounded(['sleep', '60'], timeout=120)"
)


def _child_of(pid: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and (entry / "cmdline").read_bytes().startswith(b"sleep"):
                return int(entry.name)
        except (OSError, ValueError):
            continue
    return None


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_bounded_program_dies_with_its_sigkilled_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 10
    child = None
    while child is None and time.monotonic() < deadline:
        child = _child_of(parent.pid)
        time.sleep(0.02)
    assert child is not None
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    gone = time.monotonic() + 2
    while _running(child) and time.monotonic() < gone:
        time.sleep(0.02)
    alive = _running(child)
    if alive:
        os.kill(child, signal.SIGKILL)  # ours: started by this test's parent
    assert not alive, "sleep outlived its SIGKILLed parent"
