"""The real Forge env: `rigfit install forge` from the shared snapshots with the torch 2.14.1 + torchvision 0.29.1
wheels, built once per checkout under .cache/forge-env, then reused (session fixture `forge_env`).

The wheels are found through pip's own configuration (its file:// indexes and find-links folders), as a user's
would be; /opt/pypi-more/files is the fallback. A marker file records what the env was built from, so a change
rebuilds it; an exclusive file lock lets several pytest runs in one checkout share one build.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import REPO, SHARED

FORGE_ENV = REPO / ".cache" / "forge-env"
MARKER = REPO / ".cache" / "forge-env.built"
FALLBACK_WHEELS = Path("/opt/pypi-more/files")
WHEELS = (("torch", "2.14.1"), ("torchvision", "0.29.1"))
BUILD_VERSION = "1"  # bump when what `rigfit install` puts in the env changes in a way the tests must see


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
    FORGE_ENV.parent.mkdir(parents=True, exist_ok=True)
    wheels = [find_wheel(n, v) for n, v in WHEELS]
    wanted = "\n".join([BUILD_VERSION, *map(str, wheels)]) + "\n"
    with open(FORGE_ENV.parent / "forge-env.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if MARKER.exists() and MARKER.read_text() == wanted and (FORGE_ENV / "rigfit-env.json").is_file():
            return 0.0
        start = time.monotonic()
        shutil.rmtree(FORGE_ENV, ignore_errors=True)
        argv = install_argv(FORGE_ENV, wheels)
        sys.stderr.write(f"\nbuilding the Forge test env (minutes): {' '.join(argv)}\n")
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
        (FORGE_ENV.parent / "forge-env.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"building the Forge test env failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        MARKER.write_text(wanted)
        return time.monotonic() - start


@pytest.fixture(scope="session")
def forge_env() -> Path:
    """The env folder (DIR/bin/python, DIR/ui, DIR/rigfit-env.json); its install output is .cache/forge-env.log."""
    seconds = build_forge_env()
    if seconds:
        sys.stderr.write(f"built the Forge test env in {seconds:.0f} s ({FORGE_ENV})\n")
    return FORGE_ENV


if __name__ == "__main__":
    print(f"Forge env ready in {build_forge_env():.1f} s: {FORGE_ENV}")
