"""The package stays type-checked (mypy, configured in pyproject.toml) and no function grows past radon grade C."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO


def _tool(name: str) -> str:
    path = shutil.which(name) or str(REPO / ".venv/bin" / name)
    if not shutil.which(path):
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def test_mypy_clean() -> None:
    proc = subprocess.run([_tool("mypy")], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_function_worse_than_radon_c() -> None:
    proc = subprocess.run(
        [_tool("radon"), "cc", "-s", "-n", "D", "rigfit"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", "split these into named steps:\n" + proc.stdout
