"""An install interrupted (Ctrl-C) while it installs the UI's requirements leaves the env marked incomplete; the same
command then continues: it keeps the venv, the UI and the byte-identical torch, and completes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rigfit.env.protect import verify
from rigfit.env.record import load_record
from tests.conftest import REPO
from tests.conftest_forge import WHEELS, find_wheel, install_argv
from tests.launch_helpers import ctrl_c_reaches

pytestmark = pytest.mark.slow


def test_interrupted_install_is_marked_incomplete_and_continues(tmp_path: Path) -> None:
    env_dir = tmp_path / "forge"
    argv = install_argv(env_dir, [find_wheel(n, v) for n, v in WHEELS])
    env = {**os.environ, "RIGFIT_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_reaches,
    )
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "resolving with" in line:  # step 4: venv, UI and torch are done
            time.sleep(1)
            os.kill(proc.pid, signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=600)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "marked incomplete; rerun the same command to continue" in " ".join(output.split())
    record = load_record(env_dir)
    assert record.complete is False and [p.name for p in record.protected] == ["torch", "torchvision"]

    again = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600, check=False)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output
    assert "kept: torch 2.14.1, torchvision 0.29.1 (byte-identical)" in output
    assert f"kept: {env_dir / 'ui'} at dfdcbab685e57677014f05a3309b48cc87383167" in output
    record = load_record(env_dir)
    assert record.complete and verify(env_dir, record.protected) == []
