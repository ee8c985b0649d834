"""The real Forge env: `rigfit install forge` from the shared snapshots with the torch 2.14.1 + torchvision 0.29.1
wheels, built once per checkout under .cache/forge-env, then reused (session fixture `forge_env`).

The wheels are found through pip's own configuration (its file:// indexes and find-links folders), as a user's
would be; /opt/pypi-more/files is the fallback. Built and reused by tests/cached_env.py (marker + file lock).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.cached_env import build_cached_env
from tests.conftest import REPO, SHARED

FORGE_ENV = REPO / ".cache" / "forge-env"
FALLBACK_WHEELS = Path("/opt/pypi-more/files")
WHEELS = (("torch", "2.14.1"), ("torchvision", "0.29.1"))
BUILD_VERSION = "2"  # bump when what `rigfit install` puts in the env changes in a way the tests must see


def _pip_locations() -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=False
    )
    found: list[str] = []
    for line in proc.stdout.splitlines():
        match = re.match(r"^[^.]*\.(extra-index-url|index-url|find-links)='(.*)'$", line.strip())
        if match:
            found += match.group(2).split()
    return found


def _wheel_in(location: str, name: str, version: str) -> Path | None:
    pattern = f"{name}-{version}-cp{sys.version_info[0]}{sys.version_info[1]}-*.whl"
    if location.startswith("file://"):
        page = Path(unquote(urlparse(location).path)) / name / "index.html"
        if page.is_file():
            for href in re.findall(r'href="([^"#]+)', page.read_text(encoding="utf-8", errors="replace")):
                path = (page.parent / href).resolve()
                if path.match(pattern) and path.is_file():
                    return path
        return None
    folder = Path(location)
    return next(iter(sorted(folder.glob(pattern))), None) if folder.is_dir() else None


def find_wheel(name: str, version: str) -> Path:
    for location in _pip_locations():
        path = _wheel_in(location, name, version)
        if path is not None:
            return path
    fallback = _wheel_in(str(FALLBACK_WHEELS), name, version)
    if fallback is None:
        raise RuntimeError(f"no {name} {version} wheel in pip's indexes/find-links nor in {FALLBACK_WHEELS}")
    sys.stderr.write(f"\nforge env: {name} {version} not found through pip's config; using {fallback}\n")
    return fallback


def install_argv(env_dir: Path, wheels: list[Path]) -> list[str]:
    argv = [sys.executable, "-m", "rigfit.cli", "install", "forge", "--mirror", str(SHARED / "uis")]
    for wheel in wheels:
        argv += ["--torch-wheel", str(wheel)]
    return [*argv, "--env", str(env_dir)]


def build_forge_env() -> float:
    """Create (or reuse) the env; the seconds spent building it (0 when reused)."""
    wheels = [find_wheel(n, v) for n, v in WHEELS]
    wanted = "\n".join([BUILD_VERSION, *map(str, wheels)]) + "\n"
    return build_cached_env(FORGE_ENV, install_argv(FORGE_ENV, wheels), wanted)


@pytest.fixture(scope="session")
def forge_env() -> Path:
    """The env folder (DIR/bin/python, DIR/ui, DIR/rigfit-env.json); its install output is .cache/forge-env.log."""
    seconds = build_forge_env()
    if seconds:
        sys.stderr.write(f"built the Forge test env in {seconds:.0f} s ({FORGE_ENV})\n")
    return FORGE_ENV


if __name__ == "__main__":
    print(f"Forge env ready in {build_forge_env():.1f} s: {FORGE_ENV}")
