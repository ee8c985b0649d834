"""An installed GPU build of torch on a machine where no GPU of its kind is visible (a pod started without its GPU,
a capture without nvidia-smi): the plan keeps that torch instead of swapping it for a CPU build, because the GPU is
unknown, not absent, and what the person installed for it (extras, pins) belongs to that build."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.kb.schemas import WheelLine
from rigfit.plan.knowledge import wheel_lines
from rigfit.plan.model import Advice, Reason
from rigfit.plan.stack import Stack, _python_need, _wheel_choice
from rigfit.probe.profile import Profile


def installed_cuda_line(profile: Profile) -> WheelLine | None:
    """The KB line of the installed CUDA torch ("2.1.0+cu121" -> torch-2.1-cu121) when no NVIDIA GPU is visible."""
    t = profile.torch
    if t is None or not t.cuda or not t.version or "+" not in t.version:
        return None
    if any(g.vendor == "nvidia" for g in profile.gpus) or (t.import_status == "ok" and t.gpu_available):
        return None
    base, variant = t.version.split("+", 1)
    return next((w for w in wheel_lines() if w.kind == "cuda" and w.torch == base and w.variant == variant), None)


def _unseen(profile: Profile) -> str:
    """Where no NVIDIA GPU shows: a paste only shows what it holds (its GPU is unknown, not absent: heldd18)."""
    if profile.python.container:
        return f"no NVIDIA GPU is visible inside a {profile.python.container} container"
    return "no NVIDIA GPU is visible on this machine" if profile.whole else "no NVIDIA GPU was read from what was given"


def kept_cuda_stack(line: WheelLine, profile: Profile) -> Stack:
    """Keep the installed CUDA torch: no reinstall; the warning says how to make its GPU visible."""
    choice = _wheel_choice(line)
    choice.install = []
    unseen = _unseen(profile)
    reasons = [
        Reason(
            text=f"torch {line.torch}+{line.variant} is installed and kept: it is a CUDA build, so this machine was "
            f"set up for an NVIDIA GPU, but {unseen}; a CPU build would replace it (and everything pinned "
            "to it) for a GPU that may only be hidden.",
            facts=[f"torch.version={profile.torch.version if profile.torch else None}", "gpus=0"],
            kb=[line.id],
        )
    ]
    if profile.python.container:
        fix = fix_text("cuda-torch-no-gpu-visible", case="container")
    else:
        fix = fix_text("cuda-torch-no-gpu-visible", case="host")
    warning = Advice(
        id="cuda-torch-no-gpu-visible",
        message=f"torch {line.torch}+{line.variant} (a CUDA build) is installed but {unseen}: "
        "the plan keeps it and runs on the CPU until the GPU shows up.",
        fix=fix,
        kb=[line.id],
    )
    checks = ["nvidia-smi", "rigfit verify --env ~/sd/venv"]
    return Stack(choice, _python_need(line.python, profile, []), reasons, [], [warning], checks)
