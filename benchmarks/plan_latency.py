"""How long `rigfit plan` takes on a machine capture: in-process (probe replay + plan) and the whole CLI.

Usage: python benchmarks/plan_latency.py [CAPTURE_DIR] [RUNS]
Target: well under a second for the CLI (Python start-up included).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "tests" / "fixtures" / "machines" / "macpro51-westmere-rx6600xt"


def in_process(capture: Path, runs: int) -> tuple[float, float]:
    """Median seconds for a cold first plan (KB load included) and for warm ones."""
    t0 = time.perf_counter()
    from rigfit.plan.model import PlanOptions
    from rigfit.plan.planner import make_plan
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import CaptureSource

    make_plan(probe_machine(CaptureSource(capture), torch_check=False), PlanOptions())
    cold = time.perf_counter() - t0
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        make_plan(probe_machine(CaptureSource(capture), torch_check=False), PlanOptions(ui="a1111"))
        samples.append(time.perf_counter() - t)
    return cold, statistics.median(samples)


def cli(capture: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rigfit.cli", "plan", "--from", str(capture), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    capture = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    cold, warm = in_process(capture, runs)
    print(f"capture: {capture}")
    print(f"in-process first plan (imports + KB load): {cold * 1000:.1f} ms")
    print(f"in-process median over {runs} (probe replay + plan): {warm * 1000:.1f} ms")
    print(
        f"CLI median over {runs} (`rigfit plan --json`, interpreter start included): {cli(capture, runs) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
