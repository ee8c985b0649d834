"""The code base stays ruff-clean, and rigfit's own modules never import torch (workers do, in a subprocess)."""

from __future__ import annotations

import importlib
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


def test_help_shows_named_placeholders_and_the_readme_lists_every_option() -> None:
    """`--from CAPTURE`, not `--from <str>`; and README's Commands table names every option a command has."""
    from rigfit.cli import COMMANDS, app
    from rigfit.cli_args import option_help
    from tests.cli_runner import CliRunner

    rows = {
        name: next(
            line
            for line in (REPO / "README.md").read_text().splitlines()
            if line.startswith("| `rigfit") and re.search(rf"`rigfit {name}[ `]", line.split(" | ")[0])
        )
        for name in COMMANDS
    }
    for name, target in COMMANDS.items():
        shown = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        assert not re.search(r"<\w+(\[\w+\])?>", shown), (name, shown)
        module, _, function = target.partition(":")
        declared = option_help(getattr(importlib.import_module(module), function))
        options = {opt for opt in declared if opt.startswith("--")}
        for opt in options:  # every option is shown with its help text
            assert re.search(rf"^ .*{re.escape(opt)}\b", shown, re.M), (name, opt, shown)
            assert declared[opt] and " ".join(declared[opt].split()) in " ".join(shown.split()), (name, opt, shown)
        missing = sorted(opt for opt in options if not re.search(rf"{re.escape(opt)}\b", rows[name]))
        assert missing == [], f"README's row for `rigfit {name}` lacks {missing}"
