"""Which env `rigfit verify` / `rigfit bench` check without --env: the active venv, else the one env rigfit installed
(as `rigfit launch` picks it), else a usage error naming both ways. Real venvs, rigfit run as the user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rigfit.env.record import register_env
from tests.launch_helpers import RIGFIT
from tests.test_launch_cli import save_forge_record


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RIGFIT), *args], capture_output=True, text=True, timeout=120, env=env, check=False)


@pytest.fixture
def user_env(home: Path) -> dict[str, str]:
    """The user's shell: rigfit's private home, no venv active."""
    return {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"RIGFIT_HOME": str(home)}


@pytest.mark.parametrize("command", ["verify", "bench"])
def test_without_env_and_nothing_installed_both_ways_are_named(command: str, user_env: dict[str, str]) -> None:
    done = run(command, env=user_env)
    assert done.returncode == 2
    text = " ".join(done.stderr.split())
    assert "no environment given (--env DIR, or an active venv)" in text
    assert "no env installed yet: run `rigfit install forge`" in text
    assert "rigfit verify --env" not in text or command == "verify"  # bench never sends the user to verify


def test_without_env_the_env_rigfit_installed_is_checked(tmp_path: Path, user_env: dict[str, str]) -> None:
    env = tmp_path / "forge"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    os.environ["RIGFIT_HOME"] = user_env["RIGFIT_HOME"]  # the `home` fixture set it for this process too
    save_forge_record(env, env / "ui")
    register_env(env)
    done = run("verify", env=user_env)
    assert done.stdout.startswith(f"rigfit verify {env} (this CPU)"), done.stdout + done.stderr
