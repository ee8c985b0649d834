"""The build a torch version's local tag names: "2.5.1+cu124" is CUDA 12.4, "2.5.1+rocm6.2" ROCm (HIP) 6.2."""

from __future__ import annotations

import re


def wheel_build(version: str) -> tuple[str | None, str | None]:
    """(CUDA, HIP) of the PyTorch wheel `version` names by its local tag; (None, None) when it names neither."""
    plus = version.partition("+")[2]
    cuda = f"{plus[2:-1]}.{plus[-1]}" if re.fullmatch(r"cu\d{3}", plus) else None
    # a ROCm release candidate's build (TheRock's "2.9.0a0+rocm7.0.0rc20250820") is that ROCm release's
    rocm = re.fullmatch(r"rocm(\d+\.\d+(?:\.\d+)?)(?:rc\d+)?", plus)
    return cuda, rocm[1] if rocm else None
