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


def test_help_shows_named_placeholders_and_the_readme_lists_every_option() -> None:
    """`--from CAPTURE`, not `--from <str>`; and README's Commands table names every option a command has."""
    import typer.main
    from typer.testing import CliRunner

    from rigfit.cli import COMMANDS, app

    rows = {
        name: next(
            line
            for line in (REPO / "README.md").read_text().splitlines()
            if line.startswith("| `rigfit") and re.search(rf"`rigfit {name}[ `]", line.split(" | ")[0])
        )
        for name in COMMANDS
    }
    group = typer.main.get_command(app)
    for name in COMMANDS:
        shown = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        options_help = shown.split("Options:", 1)[-1]  # typer prints an argument's type whatever its metavar
        assert not re.search(r"<\w+(\[\w+\])?>", options_help), (name, shown)
        command = group.commands[name]  # type: ignore[attr-defined]
        options = {opt for param in command.params for opt in param.opts if opt.startswith("--") and opt != "--help"}
        missing = sorted(opt for opt in options if not re.search(rf"{re.escape(opt)}\b", rows[name]))
        assert missing == [], f"README's row for `rigfit {name}` lacks {missing}"
