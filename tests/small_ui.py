"""A small, real install case for the tests that need a whole `rigfit install` but not Forge's 3 GB: ComfyUI's
install entry (no launcher repositories) from a one-requirement `git archive` tarball, with the local torch 2.13.0 CPU
wheel given as --torch-wheel. Everything real: venv, uv, the wheel, the record and the lock. About a minute."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

TORCH_WHEEL = next(iter(sorted(Path("/opt/wheels").glob("torch-2.13.0*-cp311-*.whl"))), None)


def make_source(where: Path, requirements: str = "joblib\n") -> tuple[Path, str]:
    """A git repository with requirements.txt and main.py, archived as `git archive` does (its commit in the pax
    header, as for the shared Forge snapshot); the tarball and its commit."""
    repo = where / "small-ui"
    repo.mkdir(parents=True)
    (repo / "requirements.txt").write_text(requirements)
    (repo / "main.py").write_text("print('small ui')\n")
    git = ["git", "-C", str(repo), "-c", "user.email=test@rigfit", "-c", "user.name=test"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "small ui"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    archive = where / "small-ui.tar.gz"
    subprocess.run([*git, "archive", "--format=tar.gz", "-o", str(archive), "HEAD"], check=True)
    return archive, commit


def install_argv(source: Path, env_dir: Path, *extra: str) -> list[str]:
    assert TORCH_WHEEL is not None
    argv = [sys.executable, "-m", "rigfit.cli", "install", "comfyui", "--source", str(source)]
    return [*argv, "--torch-wheel", str(TORCH_WHEEL), "--env", str(env_dir), *extra]


def run_rigfit(argv: list[str], home: Path, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIGFIT_HOME": str(home)}
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def words(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join((proc.stdout + proc.stderr).split())
