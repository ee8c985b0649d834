"""A Python without ensurepip (Debian/Ubuntu without python3.X-venv) gets one clear error naming the package to
install, before anything is written.

The interpreter is real and really lacks the module: Debian's own python3.11 binary (statically linked, so it runs
from anywhere) copied into a temporary prefix whose lib/python3.11 links every entry of Debian's standard library
except `ensurepip`. That is exactly what a Debian or Ubuntu system has before `apt install python3.11-venv`: the
ensurepip folder is what that package adds (`dpkg -S /usr/lib/python3.11/ensurepip` names it), and `venv` itself
stays importable. Python finds its prefix from its binary's place (the lib/python3.11/os.py landmark), so nothing
is faked: `import ensurepip` fails in it as it does on such a system.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.small_ui import run_rigfit, words

DEBIAN_PYTHON = Path("/usr/bin/python3.11")
DEBIAN_STDLIB = Path("/usr/lib/python3.11")

pytestmark = pytest.mark.skipif(
    not (DEBIAN_PYTHON.is_file() and (DEBIAN_STDLIB / "ensurepip").is_dir()),
    reason="needs Debian's python3.11 with its stdlib at /usr/lib/python3.11",
)


def python_without_ensurepip(prefix: Path) -> Path:
    (prefix / "bin").mkdir(parents=True)
    stdlib = prefix / "lib" / "python3.11"
    stdlib.mkdir(parents=True)
    for entry in DEBIAN_STDLIB.iterdir():
        if entry.name != "ensurepip":
            (stdlib / entry.name).symlink_to(entry)
    python = prefix / "bin" / "python3.11"
    shutil.copy2(DEBIAN_PYTHON, python)
    return python


def test_python_without_ensurepip_names_the_debian_package(tmp_path: Path) -> None:
    python = python_without_ensurepip(tmp_path / "py")
    probe = subprocess.run(
        [str(python), "-c", "import sys, venv; print(sys.prefix); import ensurepip"], capture_output=True, text=True
    )
    assert probe.stdout.strip() == str(tmp_path / "py")  # its own prefix, not /usr
    assert "No module named 'ensurepip'" in probe.stderr  # venv imports, ensurepip does not: Debian without -venv

    env_dir = tmp_path / "env"
    argv = [sys.executable, "-m", "rigfit.cli", "install", "comfyui", "--python", str(python), "--env", str(env_dir)]
    proc = run_rigfit(argv, tmp_path / "home")
    assert proc.returncode == 1, words(proc)
    assert f"{python} (Python 3.11) has no venv/ensurepip module" in words(proc)
    assert "`sudo apt install python3.11-venv`" in words(proc)
    assert "Traceback" not in words(proc) and "marked incomplete" not in words(proc)
    home = tmp_path / "home"  # nothing written but rigfit's cache of the parsed knowledge base (rebuilt at will)
    assert not env_dir.exists()
    assert not home.exists() or {p.name for p in home.iterdir()} == {"cache"}
