"""What every worker prints: progress lines while it runs, one result line at the end (stdlib only).

Imported by the worker scripts beside it (a script's own folder is first on sys.path); never imports rigfit.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

RESULT_MARKER = "RIGFIT-RESULT "
PROGRESS_MARKER = "RIGFIT-PROGRESS "


def emit(data: dict) -> None:
    """The worker's answer: the last RIGFIT-RESULT line on stdout is what rigfit reads."""
    sys.stdout.write(RESULT_MARKER + json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def progress(**fields: object) -> None:
    sys.stdout.write(PROGRESS_MARKER + json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()


def error_text(exc: BaseException, limit: int = 2000) -> str:
    return f"{type(exc).__name__}: {exc}"[:limit]


@contextmanager
def reported(result: dict) -> Iterator[dict]:
    """The worker's body: whatever it raises becomes result["error"], and the result line, with the body's wall
    seconds, is emitted either way."""
    start = time.perf_counter()
    try:
        yield result
    except Exception as exc:
        result["error"] = error_text(exc)
    result["seconds"] = round(time.perf_counter() - start, 3)
    emit(result)


GPU_KINDS = ("cuda", "xpu")  # torch.cuda (NVIDIA, AMD ROCm) and torch.xpu (Intel GPUs)


def is_gpu(device: str) -> bool:
    return device.split(":")[0] in GPU_KINDS


def pick_device(torch: Any, requested: str) -> tuple[str, str | None]:
    """The device `--device auto` means, and a note when the env's torch was built for a GPU it cannot reach: CUDA
    (or ROCm) when torch can use it, else an Intel GPU when torch is an XPU build and torch.xpu.is_available(), else
    the CPU."""
    if requested != "auto":
        return requested, None
    if torch.cuda.is_available():
        return "cuda", None
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        return "xpu", None
    if "+xpu" in str(torch.__version__):
        return "cpu", (
            f"torch {torch.__version__} is an Intel XPU build, but torch.xpu.is_available() is False: "
            "no Intel GPU was reached, so this ran on the CPU"
        )
    return "cpu", None


def synchronize(torch: Any, device: str) -> None:
    """Wait for the GPU's queued work (timings and errors belong to the step that caused them)."""
    if is_gpu(device):
        getattr(torch, device.split(":")[0]).synchronize()
