"""Peak memory of building the full SD 1.5 UNet (random weights) per dtype, each in a fresh process: built in the
dtype directly (what `rigfit bench` does) versus built in fp32 then cast (what it did before, issue 8: the fp32 copy
was the peak, 1.65x too high for bf16).

On the CPU the peak is the process's max RSS (ru_maxrss), which includes torch's own import (printed as "baseline").
Usage: python benchmarks/bench_memory.py [--env .cache/torch-env] [--model sd15]
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKERS = REPO / "rigfit" / "workers"

PROBE = """
import resource, sys
sys.path.insert(0, {workers!r})
import torch, diffusers
from sd_model import build, torch_dtype
mode, dtype, model = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "direct":
    net = build(torch, model, "unet", reduced=False, dtype=torch_dtype(torch, dtype), device="cpu")
elif mode == "cast":
    net = build(torch, model, "unet", reduced=False).to(torch_dtype(torch, dtype))
params = 0 if mode == "baseline" else sum(p.numel() * p.element_size() for p in net.parameters())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, params)
"""


def peak(python: Path, mode: str, dtype: str, model: str) -> tuple[int, int]:
    code = PROBE.format(workers=str(WORKERS))
    out = subprocess.run(
        [str(python), "-c", code, mode, dtype, model], capture_output=True, text=True, timeout=900, check=True
    )
    rss, params = out.stdout.split()[-2:]
    return int(rss), int(params)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", type=Path, default=REPO / ".cache" / "torch-env")
    parser.add_argument("--model", default="sd15")
    args = parser.parse_args()
    python = args.env / "bin" / "python"
    gib = 1024**3
    base, _ = peak(python, "baseline", "fp32", args.model)
    print(f"baseline (python + torch + diffusers imported): {base / gib:.2f} GiB max RSS")
    for mode, dtype in (("direct", "fp32"), ("direct", "bf16"), ("cast", "bf16"), ("direct", "fp16")):
        rss, params = peak(python, mode, dtype, args.model)
        print(
            f"{args.model} UNet {dtype:4} built {'in the dtype' if mode == 'direct' else 'fp32 then cast':16}: "
            f"weights {params / gib:.2f} GiB, max RSS {rss / gib:.2f} GiB, above baseline {(rss - base) / gib:.2f} GiB"
        )


if __name__ == "__main__":
    main()
