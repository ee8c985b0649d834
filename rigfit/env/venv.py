"""Create the env's virtual environment with the system Python (or the user's --python): no managed downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

from rigfit.proc.bounded import run_bounded
from rigfit.records import record


class VenvError(Exception):
    """The venv cannot be created; the message names the cause and the exact fix."""


@record(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.11.7"
    tag: str  # "cp311": the tag its wheels carry
    platform: str  # "linux_x86_64"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


_PROBE = (
    "import sys, sysconfig, importlib.util as u;"
    "print(sys.version.split()[0]);"
    "print(f'cp{sys.version_info[0]}{sys.version_info[1]}');"
    "print(sysconfig.get_platform().replace('-', '_').replace('.', '_'));"
    "print(int(u.find_spec('venv') is not None and u.find_spec('ensurepip') is not None))"
)


def env_python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def find_python(requested: str | None) -> str:
    """The interpreter to build the env with: --python, else the `python3` on PATH."""
    name = requested or "python3"
    found = shutil.which(name) if "/" not in name else (name if Path(name).is_file() else None)
    if found is None:
        fix = "give an existing interpreter with --python /path/to/python3.11" if requested else "install python3"
        raise VenvError(f"Python interpreter '{name}' not found: {fix}.")
    return found


def inspect(python: str) -> tuple[Interpreter, bool]:
    """The interpreter's version and wheel tags, and whether it has venv + ensurepip."""
    try:
        proc = run_bounded([python, "-c", _PROBE], timeout=30)
    except OSError as exc:
        raise VenvError(f"cannot run {python} ({exc}): give a working interpreter with --python.") from exc
    lines = proc.stdout.decode(errors="replace").split()
    if proc.returncode != 0 or len(lines) != 4:
        raise VenvError(f"{python} does not answer as a Python 3 interpreter: give one with --python.")
    return Interpreter(python, lines[0], lines[1], lines[2]), lines[3] == "1"


def require_venv(interp: Interpreter, has_venv: bool) -> None:
    """Debian and Ubuntu ship venv's ensurepip in a package of its own (python3.X-venv)."""
    if not has_venv:
        raise VenvError(
            f"{interp.path} (Python {interp.minor}) has no venv/ensurepip module, so it cannot create environments: "
            f"`sudo apt install python{interp.minor}-venv` (Debian/Ubuntu), or give another interpreter with --python."
        )


def create_venv(env_dir: Path, python: str) -> Interpreter:
    """`python -m venv DIR` (keeps an existing one built with the same interpreter version)."""
    interp, has_venv = inspect(python)
    if env_python(env_dir).exists():
        existing, _ = inspect(str(env_python(env_dir)))
        if existing.minor != interp.minor:
            raise VenvError(
                f"{env_dir} already holds a Python {existing.minor} env, not {interp.minor}: "
                f"install into another --env, or remove {env_dir} first."
            )
        return existing
    require_venv(interp, has_venv)
    proc = run_bounded([python, "-m", "venv", str(env_dir)], timeout=300, merge_stderr=True)
    said = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        tail = said.strip().splitlines()[-1:] or ["no output"]
        hint = f"`sudo apt install python{interp.minor}-venv`" if "ensurepip" in said else ""
        raise VenvError(f"`{python} -m venv {env_dir}` failed: {tail[0]}. {hint}".strip())
    return inspect(str(env_python(env_dir)))[0]
