"""Median wall time of `rigfit doctor`: as a subprocess (what a user waits for) and in-process (probe_machine only).

Run: .venv/bin/python benchmarks/doctor_latency.py [--runs N]. Target: under 0.25 s without the torch check.
The subprocess runs as an installed rigfit does: with bytecode (.pyc) written and read, even where the environment
sets PYTHONDONTWRITEBYTECODE, after one warm-up run (which writes the .pyc files and rigfit's KB cache).
On a busy machine wall time mostly measures the load: the CPU seconds of the subprocess are printed too.
The torch check imports torch in a subprocess, so its time is mostly torch's own import time (when torch is there).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.source import LiveSource


def median_seconds(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def doctor_subprocess(*args: str) -> Callable[[], object]:
    argv = [sys.executable, "-m", "rigfit.cli", "doctor", *args]
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

    def run() -> object:
        return subprocess.run(argv, capture_output=True, check=False, env=env)

    run()  # warm-up: writes the .pyc files a real install has
    return run


def in_process(torch_check: bool) -> Callable[[], object]:
    return lambda: findings_for(probe_machine(LiveSource(), torch_check=torch_check))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    rows = [
        ("rigfit doctor --json --no-torch-check (subprocess)", doctor_subprocess("--json", "--no-torch-check")),
        ("rigfit doctor --no-torch-check (subprocess, the report)", doctor_subprocess("--no-torch-check")),
        ("rigfit doctor --json (subprocess, torch check)", doctor_subprocess("--json")),
        ("probe_machine + findings, no torch check (in-process)", in_process(False)),
        ("probe_machine + findings, torch check (in-process)", in_process(True)),
    ]
    print(f"median of {runs} runs")
    for label, run in rows:
        print(f"{median_seconds(run, runs) * 1000:8.0f} ms  {label}")
    cpu = median_child_cpu(doctor_subprocess("--json", "--no-torch-check"), runs)
    print(f"{cpu * 1000:8.0f} ms  CPU time (user + system) of rigfit doctor --json --no-torch-check")


def median_child_cpu(run: Callable[[], object], runs: int) -> float:
    """Median CPU seconds (user + system) the child processes of `run` used."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


if __name__ == "__main__":
    main()
