"""The code base stays ruff-clean, and rigfit's own modules never import torch (workers do, in a subprocess)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(REPO / ".venv/bin/ruff")
    if not shutil.which(ruff):
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    proc = subprocess.run([ruff, "check", str(REPO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rigfit_never_imports_torch_in_process() -> None:
    offenders = []
    for path in (REPO / "rigfit").rglob("*.py"):
        if "workers" in path.parts:
            continue
        if re.search(r"^\s*(import torch|from torch\b)", path.read_text(), re.M):
            offenders.append(str(path))
    assert offenders == []


def test_importing_the_cli_loads_no_torch_or_numpy() -> None:
    code = "import sys, rigfit.cli; print(any(m in sys.modules for m in ('torch', 'numpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
