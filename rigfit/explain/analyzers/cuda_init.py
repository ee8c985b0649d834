"""torch's CUDA start-up check failing (cudaGetDeviceCount: "CUDA initialization: ... Error 803: system has
unsupported display driver / cuda driver combination", "CUDA driver initialization failed, you might not have a CUDA
gpu"...): torch then sees no GPU, and a UI falls back to the CPU. The status is read by
rigfit/probe/gpu/torch_cuda_init.py and answered from its rigfit/kb/gpu_errors.yaml entry, as doctor answers a pasted
start-up. A warning, yet the cause of everything after it."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, first, texts
from rigfit.explain.analyzers.context import Context
from rigfit.explain.analyzers.gpu_status import kinds
from rigfit.explain.literals import lines_from_start
from rigfit.explain.scan import LogLine
from rigfit.probe.gpu.torch_cuda_init import CHECK, CudaInitFailure, init_status_fix, torch_cuda_init

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("torch-cuda-init-failed",)

SIGNALS = ("cuda initialization", "cudagetdevicecount", "cuda driver initialization failed", "cuda unknown error")
KEYWORDS = ("using torch device", "device: cpu", "using the cpu", "gpu not available")
CONTEXT = ()
# the status is read, not guessed, and it is the cause of what follows (bitsandbytes finding no GPU, the CPU device):
# it ranks above those known issues
INIT_CONFIDENCE = 0.9

# what the program did next, as the UIs print it: the CPU it fell back to
FELL_BACK = re.compile(
    r"Using torch device: CPU|^\s*Device: cpu\b|Using the CPU|GPU not available|running on CPU", re.I | re.M
)


def analyze(ctx: Context) -> list[Finding]:
    """The first line naming a status the table knows; only the lines holding the check's words are read (a log
    with a timestamp on every line keeps 20,000 lines, round xspeed12)."""
    for i in lines_from_start(CHECK, texts(ctx.lines)):
        if found := torch_cuda_init(ctx.lines[i].text):
            return [_finding(ctx, ctx.lines[i], found)]
    return []


def _finding(ctx: Context, line: LogLine, found: CudaInitFailure) -> Finding:
    entry = found.status
    status = f"Error {found.code}" if found.code else entry.id
    facts = {"status": status, "message": entry.text or ""}
    evidence = [line]
    then = ""
    if fell_back := first([x for x in ctx.lines if x.number > line.number], FELL_BACK):
        evidence.append(fell_back[0])
        facts["fell_back"] = "cpu"
        then = ", and the program went on without it: it runs on the CPU"
    cause = (
        f"torch's CUDA start-up check (cudaGetDeviceCount) failed with {status} ({entry.text}), so torch sees no "
        f"GPU{then}. This means {entry.meaning}."
    )
    kind = kinds()[entry.kind]
    fix = f"{init_status_fix(entry.id)} To check: {kind.look_nvidia}"
    return Finding(
        "torch-cuda-init-failed",
        f"torch cannot start CUDA: {status} ({entry.text})",
        cause,
        fix,
        evidence,
        facts,
        [*entry.sources, *kind.sources[:1]],
        confidence=INIT_CONFIDENCE,
        supersedes=("torch-not-able-to-use-gpu",),
    )
