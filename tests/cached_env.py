"""Build a test env once per checkout with a `rigfit install` command, then reuse it.

A marker file beside the env records what it was built from (a build version and the inputs), so a change rebuilds
it; an exclusive file lock lets several pytest runs in one checkout share one build. The install's output is kept
beside the env (`<name>.log`) for the tests that read it.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import BinaryIO

from tests.conftest import REPO


def build_cached_env(env_dir: Path, argv: list[str], wanted: str) -> float:
    """Create (or reuse) `env_dir` by running `argv`; the seconds spent building it (0 when reused)."""
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    marker = env_dir.with_name(env_dir.name + ".built")
    with open(env_dir.with_name(env_dir.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted and (env_dir / "rigfit-env.json").is_file():
            return 0.0
        start = time.monotonic()
        shutil.rmtree(env_dir, ignore_errors=True)
        sys.stderr.write(f"\nbuilding the test env {env_dir.name} (minutes): {' '.join(argv)}\n")
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
        env_dir.with_name(env_dir.name + ".log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"building {env_dir} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        marker.write_text(wanted)
        return time.monotonic() - start


def sha256_of(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def files_unlike_their_wheels(env_dir: Path) -> tuple[int, list[str]]:
    """Every file each protected package's wheel holds (dist-info aside), compared with the bytes on disk in the env:
    (files compared, those that differ or are missing). Checked against the wheel itself, not rigfit's record."""
    from rigfit.env.protect import site_packages
    from rigfit.env.record import load_record

    site = site_packages(env_dir)
    compared, differing = 0, []
    for package in load_record(env_dir).protected:
        assert package.wheel is not None, f"{package.name} has no recorded wheel"
        with zipfile.ZipFile(package.wheel) as wheel:
            for name in wheel.namelist():
                if name.endswith("/") or ".dist-info/" in name:
                    continue
                compared += 1
                on_disk = site / name
                with wheel.open(name) as inside:
                    wanted = sha256_of(inside)
                if not on_disk.is_file():
                    differing.append(f"{package.name}: {name} missing")
                    continue
                with on_disk.open("rb") as handle:
                    differing += [] if sha256_of(handle) == wanted else [f"{package.name}: {name} differs"]
    return compared, differing
