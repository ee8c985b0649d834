"""Seconds from `rigfit launch` to Forge's first answer and to its first image, beside the same Forge started by hand
with the same flags (the command rigfit recorded in its state file, run directly). rigfit should add < 1 s.

Each run starts Forge, waits for /internal/ping, posts one 64x64 1-step txt2img, and stops it. The first image of
each run includes loading the checkpoint (Forge loads it on the first request). Runs alternate (rigfit, by hand, ...)
so a warming disk cache favours neither.

Usage: python benchmarks/launch_time.py --env .cache/forge-env [--runs 2] [--port 7871]
(the env needs a checkpoint in ui/models/Stable-diffusion: tests/test_launch_forge.py links its random SD 1.5 there)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rigfit.launch.health import http_status  # noqa: E402
from rigfit.launch.launcher import full_env  # noqa: E402
from rigfit.launch.process import start_detached, stop_group  # noqa: E402
from rigfit.launch.state import load_state, state_path  # noqa: E402

RIGFIT = REPO / ".venv" / "bin" / "rigfit"
TXT2IMG = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 1, "cfg_scale": 1, "sampler_name": "Euler"}


def first_image(port: int, patience: float = 120) -> None:
    """Post one txt2img until it succeeds: Forge adds its API routes after it first answers, so an early request
    can fail (HTTP 404/500) for a few seconds; that wait is part of "time to first image"."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/sdapi/v1/txt2img",
        data=json.dumps(TXT2IMG).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + patience
    while True:
        try:
            with urllib.request.urlopen(req, timeout=600) as response:
                assert json.loads(response.read())["images"]
                return
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def wait_ping(port: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while http_status(f"http://127.0.0.1:{port}/internal/ping") != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("Forge did not answer")
        time.sleep(0.1)


def by_rigfit(env: Path, port: int, home: Path) -> tuple[float, float, list[str], dict[str, str]]:
    os.environ["RIGFIT_HOME"] = str(home)
    start = time.monotonic()
    proc = subprocess.run(
        [str(RIGFIT), "launch", "--env", str(env), "--port", str(port), "--quiet"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    answer = time.monotonic() - start
    first_image(port)
    image = time.monotonic() - start
    state = load_state(state_path(env))
    assert state is not None
    subprocess.run([str(RIGFIT), "stop", "--env", str(env)], capture_output=True, check=True)
    return answer, image, state.command, state.env


def by_hand(env: Path, port: int, argv: list[str], added: dict[str, str], log: Path) -> tuple[float, float]:
    start = time.monotonic()
    pid, ticks = start_detached(argv, env / "ui", full_env(added), log)
    try:
        wait_ping(port)
        answer = time.monotonic() - start
        first_image(port)
        return answer, time.monotonic() - start
    finally:
        stop_group(pid, ticks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=REPO / ".cache" / "forge-env")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--port", type=int, default=7871)
    args = parser.parse_args()
    env = args.env.resolve()
    ours: list[tuple[float, float]] = []
    hand: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            answer, image, argv, added = by_rigfit(env, args.port, Path(tmp) / "home")
            ours.append((answer, image))
            print(f"run {run + 1}: rigfit launch  first answer {answer:6.1f} s, first image {image:6.1f} s")
            hand.append(by_hand(env, args.port, argv, added, Path(tmp) / "hand.log"))
            print(f"run {run + 1}: by hand        first answer {hand[-1][0]:6.1f} s, first image {hand[-1][1]:6.1f} s")
    for label, index in (("first answer", 0), ("first image", 1)):
        a = statistics.median(r[index] for r in ours)
        b = statistics.median(r[index] for r in hand)
        print(f"median {label}: rigfit {a:.1f} s, by hand {b:.1f} s, rigfit adds {a - b:+.1f} s")
    print(f"command: {' '.join(argv)}")


if __name__ == "__main__":
    main()
