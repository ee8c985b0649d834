"""How long `rigfit explain` takes on a 50 MB log with one real CUDA out-of-memory traceback near the end, in two
kinds of noise: a UI's console (real unrelated log lines between tqdm progress bars), text only (the real
unrelated log lines repeated: startup messages, pip output, kernel lines), and the same text with a distinct
timestamp on every line, so that no line repeats (the scan reads each distinct line once: a big log is big because
lines repeat, and this third kind shows the cost when they do not: the scan then reads each distinct shape of a
line, its digits masked, once, and every timestamped line with a keyword is a new line to keep). Prints the times
(the target is under 2 s, i.e. 50 MB/s and more), the CPU time per MB (which a shared, loaded machine inflates less
than the wall time) and the peak memory of the CLI process for a 20 MB and a full-size log (flat: about the same once
a log is bigger than one 8 MB block and holds the 20,000 kept lines the scan is capped at).

    .venv/bin/python benchmarks/explain_speed.py [size_mb]
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rigfit.explain.match import catalogue, explain_stream, scanner  # noqa: E402

LOGS = REPO / "tests" / "fixtures" / "logs"


SMALL_MB = 20
KINDS = {"bars": "UI console with progress bars:", "text": "text-only log:", "stamped": "text, every line distinct:"}


def noise_units(kind: str) -> Iterator[bytes]:
    noise = "".join(p.read_text(encoding="utf-8") for p in sorted((LOGS / "unrelated").iterdir()))
    bars = (
        "".join(f"\r{p:3d}%|{'█' * (p // 10):10s}| {p}/100 [00:0{p % 9}<00:00,  8.01it/s]" for p in range(101)) + "\n"
    )
    unit = (noise + bars * 20 if kind == "bars" else noise).encode()
    lines = noise.splitlines(keepends=True)
    for n in itertools.count():
        if kind != "stamped":
            yield unit
            continue
        clock = f"2024-05-{1 + n // 86400 % 28:02d} {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
        yield "".join(f"[{clock}.{i:04d}] {line}" for i, line in enumerate(lines)).encode()


def build_log(path: Path, size: int, kind: str) -> None:
    with path.open("wb") as out:
        written, failure = 0, False
        for unit in noise_units(kind):
            if written >= size * 0.97 and not failure:
                out.write((LOGS / "cuda-out-of-memory--a1111-2gb.txt").read_bytes())
                failure = True
            if written >= size:
                break
            out.write(unit)
            written += len(unit)


def main() -> None:
    size_mb = float(sys.argv[1]) if len(sys.argv) > 1 else 50
    for kind, title in KINDS.items():
        print(title)
        measure(size_mb, kind)


def measure(size_mb: float, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "big.log"
        build_log(log, int(size_mb * 2**20), kind)
        mb = log.stat().st_size / 2**20
        t0 = time.perf_counter()
        catalogue(), scanner()
        t1, cpu1 = time.perf_counter(), time.process_time()
        with log.open("rb") as stream:
            result = explain_stream(stream)
        t2, cpu2 = time.perf_counter(), time.process_time()
        cli = subprocess.run(
            [sys.executable, "-m", "rigfit.cli", "explain", "--no-probe", "--json", str(log)],
            capture_output=True, cwd=REPO, check=False,
        )  # fmt: skip
        t3 = time.perf_counter()
        small = Path(tmp) / "small.log"
        build_log(small, SMALL_MB * 2**20, kind)
        rss_small, rss_big = peak_rss_mib(small), peak_rss_mib(log)
    top = result.explanations[0].id if result.explanations else None
    print(f"  log: {mb:.1f} MB, {result.scan.lines_total} lines, {len(result.scan.lines)} distinct interesting lines")
    print(f"  load + compile catalogue ({len(catalogue())} issues): {t1 - t0:.3f} s")
    print(f"  explain (read, scan, match): {t2 - t1:.3f} s  -> {mb / (t2 - t1):.0f} MB/s, top match: {top}")
    print(f"  CPU time of explain (user+sys): {cpu2 - cpu1:.3f} s -> {(cpu2 - cpu1) / mb * 1000:.1f} ms per MB")
    print(f"  whole CLI process (rigfit explain --no-probe --json): {t3 - t2:.3f} s, exit {cli.returncode}")
    print(f"  peak memory of the CLI process: {rss_small:.0f} MiB on {SMALL_MB} MB, {rss_big:.0f} MiB on {mb:.0f} MB")


# The process's own high-water mark (VmHWM, per address space): ru_maxrss would carry over the size of the process
# that forked it (Linux keeps the larger of the two across exec), so a 5 MB and a 50 MB log read alike.
PEAK_RSS = (
    "import sys\n"
    "from rigfit.cli import main\n"
    "sys.argv = ['rigfit', 'explain', '--no-probe', '--json', sys.argv[1]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
    "print(hwm[0].split()[1], file=sys.stderr)\n"
)


def peak_rss_mib(log: Path) -> float:
    """Peak resident memory of a whole `rigfit explain` process on `log` (/proc reports kB)."""
    run = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(log)], capture_output=True, text=True, cwd=REPO, check=False
    )
    return int(run.stderr.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    main()
