"""On the planned device: do the operations Stable Diffusion needs work and match the CPU, and which precisions
survive a few steps of the real UNet architecture without inf/NaN."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from rigfit.kb.fixes import fix_text
from rigfit.proc.worker import WORKERS_DIR, WorkerResult, run_worker
from rigfit.records import field, record
from rigfit.verify.cpu_check import TargetCpu
from rigfit.verify.diagnose import Problem
from rigfit.verify.envscan import TargetEnv

# what a failing GPU operation says, and what it means; explain's catalogue is asked first (explained_failure)
_GPU_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"hipErrorNoBinaryForGpu|invalid device function|no kernel image is available", re.I),
        "this torch build has no GPU kernels for this card (wrong wheel line, or a missing/wrong "
        "HSA_OVERRIDE_GFX_VERSION on AMD)",
        "run `rigfit plan` and use the torch index URL and HSA_OVERRIDE_GFX_VERSION it gives for this GPU",
    ),
    (
        re.compile(r"/dev/kfd.*(permission denied|EACCES)|permission denied.*/dev/kfd", re.I),
        "this user may not open /dev/kfd (the ROCm compute device)",
        "sudo usermod -aG render,video $USER, then log out and back in",
    ),
    (
        re.compile(r"out of memory|HIP out of memory|CUDA out of memory|OutOfMemoryError", re.I),
        "the planned settings need more GPU memory than is free",
        "use the memory mode `rigfit plan` gives for this card (--medvram / --lowvram), or a smaller resolution",
    ),
)


@record
class DeviceOutcome:
    device: str  # "cpu" | "cuda:0" | "xpu:0"
    facts: dict[str, Any] = field(default_factory=dict)
    ops: list[dict[str, Any]] = field(default_factory=list)
    precision: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ops_ok(self) -> bool | None:
        return all(op.get("ok") for op in self.ops if op["dtype"] == "fp32") if self.ops else None

    def dtype_ok(self, dtype: str) -> bool:
        """Every op matched the CPU in this dtype and the UNet probe stayed finite in it."""
        ops = [op for op in self.ops if op["dtype"] == dtype]
        probe = [p for p in self.precision if p["dtype"] == dtype]
        return bool(ops) and all(op.get("ok") for op in ops) and bool(probe) and all(p.get("finite") for p in probe)


def explained_failure(text: str) -> Problem | None:
    """A device/runtime error, explained by rigfit explain's catalogue when it knows it, else by the patterns here."""
    try:
        from rigfit.explain.match import explain_text

        found = explain_text(text).explanations
    except Exception:  # explain's catalogue unavailable: fall back to the patterns below
        found = []
    if found and found[0].confidence >= 0.5:
        top = found[0]
        return Problem("device", f"{top.title}: {top.cause}", top.fix, kb=[top.id])
    for pattern, meaning, fix in _GPU_PATTERNS:
        if pattern.search(text):
            return Problem("device", meaning, fix)
    return None


def worker_problem(what: str, result: WorkerResult) -> Problem | None:
    """A device worker that did not report: crashed, hung or died."""
    if result.ok:
        return None
    explained = explained_failure(result.output_tail)
    if explained is not None:
        return explained
    tail = "\n".join(result.output_tail.splitlines()[-6:])
    return Problem("device", f"the {what} {result.describe()}" + (f":\n{tail}" if tail else ""))


def device_name(worker_device: str) -> str:
    return f"{worker_device}:0" if worker_device in ("cuda", "xpu") else worker_device


def unreached_gpu(data: dict[str, Any]) -> Problem | None:
    """The env's torch was built for a GPU the worker could not reach (an XPU build without torch.xpu), so what was
    measured is the CPU: said, with the way to the GPU, never passed off as the GPU's numbers."""
    note = data.get("device_note")
    return Problem("device", f"{note}.", fix_text("verify.gpu-unreached", case="xpu")) if note else None


def ops_problems(data: dict[str, Any], device: str, alloc_mb: int) -> list[Problem]:
    """What the device check reported wrong: each error explained once, a failed allocation, wrong results."""
    ops = data.get("ops", [])
    problems: list[Problem] = []
    failures = [data.get("error") or ""] + [op.get("error", "") for op in ops if not op.get("ok")]
    for text in filter(None, failures):
        explained = explained_failure(text) or Problem("device", text.splitlines()[0])
        if all(p.message != explained.message for p in problems):
            problems.append(explained)
    if data.get("alloc") and not data["alloc"].get("ok"):
        problems.append(
            explained_failure(data["alloc"].get("error", "out of memory"))
            or Problem("device", f"could not hold {alloc_mb} MB on {device}")
        )
    wrong = [
        f"{op['op']} ({op['dtype']})"
        for op in ops
        if op.get("finite") is False or (op.get("rel_error") is not None and not op.get("ok"))
    ]
    if wrong:
        problems.append(Problem("device", f"wrong results on {device}: {', '.join(wrong)}"))
    return problems


def check_device(
    env: TargetEnv,
    cpu: TargetCpu,
    *,
    device: str = "auto",
    alloc_mb: int = 0,
    model: str = "sd15",
    reduced: bool = False,
    size: int = 0,
    steps: int = 3,
    timeout: float = 900.0,
    extra_env: dict[str, str] | None = None,
    on_line: Any = None,
) -> DeviceOutcome:
    emulated = cpu.emulated is not None
    args = (
        ["--device", device] + (["--alloc-mb", str(alloc_mb)] if alloc_mb else []) + (["--small"] if emulated else [])
    )
    run = partial(run_worker, env.python, timeout=timeout, env=extra_env, prefix=cpu.prefix(), on_line=on_line)
    ops = run(WORKERS_DIR / "device_check.py", args)
    outcome = DeviceOutcome(device=device_name((ops.data or {}).get("device", device)))
    if (problem := worker_problem("device check", ops)) is not None:
        outcome.problems.append(problem)
        return outcome
    data = ops.data or {}
    outcome.facts, outcome.ops = data.get("facts", {}), data.get("ops", [])
    outcome.problems = ops_problems(data, outcome.device, alloc_mb)
    if (unreached := unreached_gpu(data)) is not None:
        outcome.problems.insert(0, unreached)
    if data.get("error"):
        return outcome
    probe_args = ["--device", device, "--model", model, "--steps", str(steps)]
    probe_args += (["--reduced"] if reduced or emulated else []) + (["--size", str(size)] if size else [])
    if emulated and not size:
        probe_args += ["--size", "64"]
    probe = run(WORKERS_DIR / "precision_probe.py", probe_args)
    if (problem := worker_problem("precision probe", probe)) is not None:
        outcome.problems.append(problem)
    outcome.precision = (probe.data or {}).get("dtypes", [])
    return outcome
