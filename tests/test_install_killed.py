"""A `rigfit install` killed with SIGKILL (no cleanup runs) takes its installer with it: the installer, started
through rigfit.proc.bounded with PR_SET_PDEATHSIG, is killed by the kernel, so nothing goes on writing into the env.
The env stays marked incomplete and the same command continues it to the end (torch reinstalled over the half-written
one).

pip is killed once torch's folder appears in the env, while it writes torch's 12,000 files, a stretch of tens of
seconds in which it prints nothing: without the death signal it ran on there (checked: this test then fails), since
a closed pipe stops a program only when it next writes. uv prints as it goes, so a closed pipe would stop it soon
anyway; its case checks the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rigfit.env.protect import verify
from rigfit.env.record import load_record
from tests.conftest import REPO
from tests.small_ui import TORCH_WHEEL, install_argv, make_source, run_rigfit, words

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TORCH_WHEEL is None or not sys.platform.startswith("linux"), reason="Linux, torch wheel"),
]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it has ended)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(("installer", "writing_torch"), [("pip", True), ("uv", False)], ids=["pip", "uv"])
def test_sigkilled_install_takes_its_installer_along_and_continues(
    tmp_path: Path, installer: str, writing_torch: bool
) -> None:
    source, commit = make_source(tmp_path)
    env_dir = tmp_path / "env"
    argv = install_argv(source, env_dir, "--installer", installer, "--ref", commit)  # the rerun keeps a UI at its ref
    log = tmp_path / "install.log"
    env = {**os.environ, "RIGFIT_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    child = None
    deadline = time.monotonic() + 600
    while child is None and time.monotonic() < deadline and proc.poll() is None:
        torch_dir = next(iter(env_dir.glob("lib/python3*/site-packages/torch")), None)
        if "3/5 torch" in log.read_text() and (torch_dir is not None or not writing_torch):
            child = next((c for c in _children(proc.pid) if installer in _cmdline(c)), None)
        time.sleep(0.02)
    assert child is not None, f"no {installer} seen during the torch step:\n{log.read_text()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone = time.monotonic() + 2
    while _alive(child) and time.monotonic() < gone:
        time.sleep(0.02)
    assert not _alive(child), f"{installer} ({_cmdline(child)}) outlived the SIGKILLed rigfit"
    assert load_record(env_dir).complete is False

    again = run_rigfit(argv, tmp_path / "home")
    assert again.returncode == 0, words(again)
    assert f"kept: {env_dir / 'ui'}" in words(again)
    record = load_record(env_dir)
    assert record.complete and verify(env_dir, record.protected) == []
