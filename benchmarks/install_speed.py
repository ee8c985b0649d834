"""The same env built by `rigfit install` with uv and with pip, caches warm: seconds each and the ratio (goal: uv at
least 10x faster than pip).

The env is the real one: Forge from the shared snapshots, torch 2.14.1 + torchvision 0.29.1 from their wheels, Forge's
requirements. Each installer builds it once to warm its cache (skip with --no-warmup when they are warm already),
then once timed, into fresh folders under --workdir (same filesystem as the caches, as a user's would be).

Usage: python benchmarks/install_speed.py [--workdir /tmp/rigfit-bench] [--no-warmup] [--only uv|pip]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest_forge import WHEELS, find_wheel, install_argv  # noqa: E402


def build(installer: str, workdir: Path) -> float:
    env_dir = workdir / f"forge-{installer}"
    shutil.rmtree(env_dir, ignore_errors=True)
    argv = [*install_argv(env_dir, [find_wheel(n, v) for n, v in WHEELS]), "--installer", installer]
    home = tempfile.mkdtemp(prefix="rigfit-home-", dir=workdir)
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env={**os.environ, "RIGFIT_HOME": home})
    seconds = time.monotonic() - start
    shutil.rmtree(env_dir, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        sys.exit(f"{installer}: rigfit install failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rigfit-bench")
    parser.add_argument("--no-warmup", action="store_true", help="the caches are warm already")
    parser.add_argument("--only", choices=["uv", "pip"], help="time one installer")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    installers = [args.only] if args.only else ["uv", "pip"]
    times = {}
    for installer in installers:
        if not args.no_warmup:
            print(f"{installer}: warm-up build {build(installer, args.workdir):.0f} s", flush=True)
        times[installer] = build(installer, args.workdir)
        print(f"{installer}: Forge + torch 2.14.1 env, warm cache: {times[installer]:.1f} s", flush=True)
    if len(times) == 2:
        ratio = times["pip"] / times["uv"]
        print(f"uv is {ratio:.1f}x faster than pip (goal >= 10x: {'met' if ratio >= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
