"""Seconds from `rigfit launch` to Forge's first answer and to its first image, beside the same Forge started by hand
with the same flags (the command rigfit recorded in its state file, run directly). rigfit should add < 1 s.

Each run starts Forge, waits for /internal/ping, posts one 64x64 1-step txt2img, and stops it. The first image of
each run includes loading the checkpoint (Forge loads it on the first request). Runs alternate (rigfit, by hand, ...)
so a warming disk cache favours neither.

Each run also splits rigfit's part without instrumenting it: "before start" is from running `rigfit launch` to
the UI's process start (its start time in /proc, 10 ms ticks), "after answer" from the UI's first answer (a watcher
polling every 20 ms) to rigfit's exit; "rigfit CPU" is the rigfit process's own user+sys time. `--breakdown` adds
where "before start" goes: rigfit's imports (a fresh interpreter) and each check of `prepare` (in this process).

Usage: python benchmarks/launch_time.py --env .cache/forge-env [--runs 2] [--port 7871] [--breakdown]
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
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rigfit.launch.health import http_status  # noqa: E402
from rigfit.launch.launcher import full_env  # noqa: E402
from rigfit.launch.preflight import listen_inodes  # noqa: E402
from rigfit.launch.process import start_detached, start_ticks, stop_group  # noqa: E402
from rigfit.launch.state import load_state, state_path  # noqa: E402

RIGFIT = REPO / ".venv" / "bin" / "rigfit"
PYTHON = REPO / ".venv" / "bin" / "python"
TXT2IMG = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 1, "cfg_scale": 1, "sampler_name": "Euler"}
TICK = os.sysconf("SC_CLK_TCK")


def child_env() -> dict[str, str]:
    """This environment ($RIGFIT_HOME included) without PYTHONDONTWRITEBYTECODE: a real install has .pyc files."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def since_boot() -> float:
    """The clock /proc start times count in (seconds since boot)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


@dataclass
class Run:
    answer: float  # seconds from the start of the command to the first 200 of /internal/ping (seen every 20 ms)
    image: float  # ... to the first txt2img PNG
    before_start: float = 0.0  # ... to the UI's process start
    after_answer: float = 0.0  # from the first 200 to rigfit's exit
    cpu: float = 0.0  # rigfit's own user+sys seconds


class Watcher(threading.Thread):
    """Polls the health endpoint every 20 ms: when the UI first answers, independent of anyone's poll interval."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/internal/ping"
        self.up_at: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set() and self.up_at is None:
            if http_status(self.url, timeout=5) == 200:
                self.up_at = since_boot()
            time.sleep(0.02)

    def wait_up(self, timeout: float = 600) -> float:
        self.join(timeout)
        if self.up_at is None:
            raise TimeoutError("the UI did not answer")
        return self.up_at


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


def by_rigfit(env: Path, port: int, home: Path) -> tuple[Run, list[str], dict[str, str]]:
    free(port)
    os.environ["RIGFIT_HOME"] = str(home)
    watcher = Watcher(port)
    start = since_boot()
    watcher.start()
    argv = [str(RIGFIT), "launch", "--env", str(env), "--port", str(port), "--quiet"]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)  # rigfit's own rusage, not that of other children reaped meanwhile
        proc.returncode = os.waitstatus_to_exitcode(status)
        exited = since_boot()
        cpu = usage.ru_utime + usage.ru_stime
        if proc.returncode != 0:
            out.seek(0)
            raise RuntimeError(out.read().decode(errors="replace"))
    up = watcher.wait_up()
    first_image(port)
    image = since_boot() - start
    state = load_state(state_path(env))
    assert state is not None
    stop = [str(RIGFIT), "stop", "--env", str(env)]
    subprocess.run(stop, capture_output=True, check=True, env=child_env())
    run = Run(up - start, image, state.start_ticks / TICK - start, exited - up, cpu)
    return run, state.command, state.env


def free(port: int) -> None:
    if listen_inodes(port):
        raise RuntimeError(f"something listens on port {port} already: stop it, or use --port")


def by_hand(env: Path, port: int, argv: list[str], added: dict[str, str], log: Path) -> Run:
    free(port)
    watcher = Watcher(port)
    start = since_boot()
    watcher.start()
    pid, ticks = start_detached(argv, env / "ui", full_env(added), log)
    try:
        up = watcher.wait_up()
        answer = up - start
        first_image(port)
        return Run(answer, since_boot() - start, (start_ticks(pid) or ticks) / TICK - start)
    finally:
        watcher.done.set()
        stop_group(pid, ticks)


IMPORTS = (
    "import resource, time; t = time.perf_counter()\n"
    "from rigfit.cli import build_app; build_app('launch')\n"
    "import rigfit.launch.run\n"
    "u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(time.perf_counter() - t, u.ru_utime + u.ru_stime)"
)


def import_cost() -> tuple[float, float]:
    """rigfit's start in a fresh interpreter (what `rigfit launch` imports): wall seconds of the imports, and the
    whole process's CPU seconds (the interpreter's own start included)."""
    out = subprocess.run([str(PYTHON), "-c", IMPORTS], capture_output=True, text=True, check=True, env=child_env())
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


PREPARE_STEPS = (
    "_record",  # the env record (rigfit-env.json, with every protected file's hash)
    "ui_entry",  # uis.yaml
    "record_problems",  # the env's record, interpreter and checkout are there
    "load_state",  # a UI already running from this env?
    "port_problem",
    "build_command",
    "_patches_back",
    "models_in",
)


def prepare_breakdown(env: Path, port: int) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of each check `prepare` makes, timed by wrapping the functions it calls."""
    import rigfit.launch.run as run

    spent: dict[str, list[float]] = {name: [0.0, 0.0] for name in (*PREPARE_STEPS, "prepare (total)")}

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name][0] += time.perf_counter() - wall
                spent[name][1] += time.thread_time() - cpu

        return wrapper

    originals = {name: getattr(run, name) for name in PREPARE_STEPS}
    for name, function in originals.items():
        setattr(run, name, timed(name, function))
    try:
        timed("prepare (total)", run.prepare)(run.LaunchOptions(env=str(env), port=port))
    finally:
        for name, function in originals.items():
            setattr(run, name, function)
    return {name: (wall, cpu) for name, (wall, cpu) in spent.items()}


def show_breakdown(env: Path, port: int) -> None:
    walls, cpus = zip(*(import_cost() for _ in range(3)), strict=True)
    print(
        f"rigfit imports (fresh interpreter, median of 3): {statistics.median(walls):.2f} s wall, whole process "
        f"{statistics.median(cpus):.2f} s CPU"
    )
    # the first pass, as in `rigfit launch`: it reads the KB files and imports the checks' modules once
    print("prepare (in this process, first pass):")
    for name, (wall, cpu) in prepare_breakdown(env, port).items():
        print(f"  {name:18} {wall * 1000:7.0f} ms wall {cpu * 1000:7.0f} ms CPU")
    from rigfit.env.record import load_record
    from rigfit.launch.preflight import protected_problems

    record = load_record(env)
    wall, cpu = time.perf_counter(), time.thread_time()
    protected_problems(record)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    print(f"env check (protected files; runs while the UI starts): {wall * 1000:.0f} ms wall {cpu * 1000:.0f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=REPO / ".cache" / "forge-env")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--breakdown", action="store_true", help="also time rigfit's imports and each check")
    args = parser.parse_args()
    env = args.env.resolve()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if args.breakdown:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["RIGFIT_HOME"] = tmp
            show_breakdown(env, args.port)
    ours: list[Run] = []
    hand: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            mine, argv, added = by_rigfit(env, args.port, Path(tmp) / "home")
            ours.append(mine)
            print(
                f"run {run + 1}: rigfit launch  first answer {mine.answer:6.1f} s, first image {mine.image:6.1f} s"
                f"  (before start {mine.before_start:.2f} s, after answer {mine.after_answer:.2f} s,"
                f" rigfit CPU {mine.cpu:.2f} s)"
            )
            other = by_hand(env, args.port, argv, added, Path(tmp) / "hand.log")
            hand.append(other)
            print(
                f"run {run + 1}: by hand        first answer {other.answer:6.1f} s, first image {other.image:6.1f} s"
                f"  (before start {other.before_start:.2f} s)"
            )
    if not ours:
        return
    for label, key in (("first answer", "answer"), ("first image", "image")):
        a = statistics.median(getattr(r, key) for r in ours)
        b = statistics.median(getattr(r, key) for r in hand)
        print(f"median {label}: rigfit {a:.1f} s, by hand {b:.1f} s, rigfit adds {a - b:+.1f} s")
    for label, key in (("before start", "before_start"), ("after answer", "after_answer"), ("CPU", "cpu")):
        print(f"median rigfit {label}: {statistics.median(getattr(r, key) for r in ours):.2f} s")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"command: {' '.join(argv)}")


if __name__ == "__main__":
    main()
