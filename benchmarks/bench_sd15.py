"""SD 1.5 on this machine, full real architecture (random weights): UNet step time per configuration at 512x512 with
classifier-free guidance (batch 2), the predicted seconds per 20-step image, and how close a 2-step prediction is to
a measured 20-step image (at --check-size, default 256x256, because 20 full 512x512 steps take minutes on 2 cores).

Usage: python benchmarks/bench_sd15.py [--env .cache/torch-env] [--check-size 256] [--skip-configs]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rigfit.proc.worker import WORKERS_DIR, run_worker  # noqa: E402
from rigfit.verify.benchmark import parse_runs, run_bench, seconds_per_image  # noqa: E402
from rigfit.verify.envscan import scan_env  # noqa: E402


def configs_at_512(env_dir: Path) -> None:
    start = time.monotonic()
    report = run_bench(
        scan_env(env_dir),
        device="cpu",
        model="sd15",
        steps=2,
        safe={"fp32": True, "bf16": True},
        size=512,
        matmul_n=1024,
        timeout=3600,
    )
    print(f"SD 1.5 UNet, 512x512, CFG batch 2, {report.device}; {time.monotonic() - start:.0f} s of benchmarking")
    for m in report.matmul:
        print(f"  matmul {m['dtype']} {m['n']}: {m.get('gflops', 0):.0f} GFLOP/s")
    print(
        f"  UNet FLOPs per CFG step (counted): {report.step_flops / 1e12:.2f} TFLOP; "
        f"VAE decode {report.vae_flops / 1e12:.2f} TFLOP"
    )
    for run in report.runs:
        if run.error:
            print(f"  {run.label:<32} error: {run.error}")
            continue
        print(
            f"  {run.label:<32} {run.step_seconds:6.2f} s/step ({run.step_spread[0]:.2f}-{run.step_spread[1]:.2f})"
            f"  VAE {run.vae_seconds or 0:5.1f} s  -> {run.seconds_per_image:6.0f} s per 20-step image"
        )
    if report.best:
        limit = report.physical_limit(report.best.config["dtype"])
        print(f"  fastest: {report.best.label}; physical limit at the peak matmul rate: {limit:.0f} s/image")
    for error in report.errors:
        print(f"  error: {error}")


def prediction_check(env_dir: Path, size: int) -> None:
    """2 timed steps (+ VAE) predict a 20-step image; then one whole 20-step image is timed end to end."""
    env = scan_env(env_dir)
    config = [{"dtype": "fp32", "attention": "sdpa", "channels_last": False}]
    args = [
        "--device",
        "cpu",
        "--size",
        str(size),
        "--steps",
        "2",
        "--configs",
        json.dumps(config),
        "--image-steps",
        "20",
    ]
    result = run_worker(env.python, WORKERS_DIR / "bench.py", args, timeout=3600)
    if not result.ok:
        print(f"prediction check failed: {result.describe()}\n{result.output_tail}")
        return
    data = result.data
    run = parse_runs(data)[0]
    vae = data["vae"][0]["median"]
    predicted = seconds_per_image(run.step_seconds, vae)
    measured = data["image"]["seconds"]
    print(f"prediction check at {size}x{size} (full SD 1.5 architecture, fp32 + sdpa):")
    print(
        f"  2 timed steps: {run.step_seconds:.2f} s/step (spread {run.step_spread[0]:.2f}-{run.step_spread[1]:.2f}),"
        f" VAE {vae:.2f} s -> predicted {predicted:.1f} s per 20-step image"
    )
    from_fastest = seconds_per_image(run.step_spread[0], vae)
    print(f"  measured 20-step image end to end: {measured:.1f} s -> prediction error {predicted / measured - 1:+.1%}")
    print(
        f"  (from the fastest timed step instead of the median: {from_fastest:.1f} s, "
        f"{from_fastest / measured - 1:+.1%}; the spread is this machine's noise)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default=str(REPO / ".cache" / "torch-env"))
    parser.add_argument("--check-size", type=int, default=256)
    parser.add_argument("--skip-configs", action="store_true")
    opts = parser.parse_args()
    if not opts.skip_configs:
        configs_at_512(Path(opts.env))
    prediction_check(Path(opts.env), opts.check_size)


if __name__ == "__main__":
    main()
