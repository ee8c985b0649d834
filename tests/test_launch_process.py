"""Process groups rigfit starts and stops: real processes, real signals, /proc as the kernel writes it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rigfit.launch.process import (
    group_is_ours,
    group_members,
    is_same_process,
    read_stat,
    start_detached,
    start_ticks,
    stop_group,
)

SLEEPER = "import time; time.sleep(120)"
# a UI that ignores SIGTERM and has a child in its group
STUBBORN = (
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); print('ready', flush=True); "
    "time.sleep(120)"
)


@pytest.fixture
def bystander():
    """A Python process of someone else (its own group): it must survive every stop."""
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def test_stat_reads_the_start_time_and_group() -> None:
    stat = read_stat(os.getpid())
    assert stat is not None
    assert stat.pgrp == os.getpgrp()
    assert stat.start_ticks > 0
    assert read_stat(2**22 + 12345) is None


def test_stop_terminates_the_group_and_spares_a_bystander(tmp_path: Path, bystander: subprocess.Popen) -> None:
    pid, ticks = start_detached([sys.executable, "-c", SLEEPER], tmp_path, dict(os.environ), tmp_path / "ui.log")
    assert is_same_process(pid, ticks)
    assert [m.pid for m in group_members(pid)] == [pid]
    assert stop_group(pid, ticks, grace=10) == "stopped"
    _reap(pid)
    assert not group_members(pid)
    assert bystander.poll() is None  # still running


def test_a_group_that_ignores_sigterm_is_killed(tmp_path: Path, bystander: subprocess.Popen) -> None:
    log = tmp_path / "ui.log"
    pid, ticks = start_detached([sys.executable, "-c", STUBBORN], tmp_path, dict(os.environ), log)
    deadline = time.monotonic() + 20
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(group_members(pid)) == 2
    assert stop_group(pid, ticks, grace=1) == "killed"
    _reap(pid)
    assert not group_members(pid)
    assert bystander.poll() is None


def test_a_reused_pid_is_never_signalled(bystander: subprocess.Popen) -> None:
    """A state file naming the bystander's PID with another start time: the PID was reused, nothing is sent."""
    ticks = start_ticks(bystander.pid)
    assert ticks is not None
    assert not group_is_ours(bystander.pid, ticks - 1)
    assert stop_group(bystander.pid, ticks - 1, grace=1) == "not-ours"
    time.sleep(0.3)
    assert bystander.poll() is None


def test_a_gone_process_is_reported_gone(tmp_path: Path) -> None:
    pid, ticks = start_detached([sys.executable, "-c", "pass"], tmp_path, dict(os.environ), tmp_path / "ui.log")
    _reap(pid)
    assert stop_group(pid, ticks) == "gone"


def test_sigterm_reaches_children_too(tmp_path: Path) -> None:
    log = tmp_path / "ui.log"
    code = (
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']);"
        "print('ready', flush=True); time.sleep(120)"
    )
    pid, ticks = start_detached([sys.executable, "-c", code], tmp_path, dict(os.environ), log)
    deadline = time.monotonic() + 20
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    children = [m.pid for m in group_members(pid) if m.pid != pid]
    assert len(children) == 1
    assert stop_group(pid, ticks, grace=10) == "stopped"
    _reap(pid)
    assert read_stat(children[0]) is None or read_stat(children[0]).state == "Z"  # type: ignore[union-attr]
