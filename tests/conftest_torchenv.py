"""The real torch test environment: a venv built once per checkout under .cache/torch-env, then reused.

Tests that need torch (workers, verify, bench) take the session fixture `torch_env` and mark themselves slow.
pip takes the local CPU torch wheel through its global find-links config (/opt/wheels in CI); the other packages
come from the configured registry. A marker file records the requirement set, so a changed set rebuilds the env.
An exclusive file lock lets several pytest runs in the same checkout share one build.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO

TORCH_ENV = REPO / ".cache" / "torch-env"
REQUIREMENTS = ("torch==2.13.0", "diffusers==0.42.1", "numpy==2.4.6", "safetensors==0.8.0")
MARKER = TORCH_ENV / "rigfit-test-env.txt"


def torch_env_python() -> Path:
    return TORCH_ENV / "bin" / "python"


def build_torch_env(say: Callable[[str], None] = print) -> float:
    """Create (or reuse) the env; the seconds spent building it (0 when reused). `say` tells each step."""
    TORCH_ENV.parent.mkdir(parents=True, exist_ok=True)
    wanted = "\n".join(REQUIREMENTS) + "\n"
    with open(TORCH_ENV.parent / "torch-env.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"torch test env: another test run is building {TORCH_ENV}; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if MARKER.exists() and MARKER.read_text() == wanted and torch_env_python().exists():
            return 0.0
        start = time.monotonic()
        shutil.rmtree(TORCH_ENV, ignore_errors=True)
        python3 = shutil.which("python3") or sys.executable
        say(f"torch test env: building it once for this checkout at {TORCH_ENV} (about a minute or two)")
        say(f"torch test env: creating a venv with {python3}")
        subprocess.run([python3, "-m", "venv", str(TORCH_ENV)], check=True)
        pip = [str(torch_env_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        say(f"torch test env: pip install {' '.join(REQUIREMENTS)} (torch is a ~200 MB wheel)")
        proc = subprocess.run([*pip, *REQUIREMENTS], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the torch test env failed:\n{proc.stdout}\n{proc.stderr}")
        MARKER.write_text(wanted)
        seconds = time.monotonic() - start
        say(f"torch test env: ready in {seconds:.0f} s; later runs reuse it")
        return seconds


@pytest.fixture(scope="session")
def torch_env(request: pytest.FixtureRequest) -> Path:
    """The torch env's interpreter. Building it takes a minute: each step is shown as it starts, past pytest's
    output capture, so a silent terminal is never mistaken for a hang."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            sys.stderr.write(f"\n{line}")
            sys.stderr.flush()

    build_torch_env(say)
    return torch_env_python()


if __name__ == "__main__":
    print(f"torch env ready in {build_torch_env():.1f} s: {torch_env_python()}")
