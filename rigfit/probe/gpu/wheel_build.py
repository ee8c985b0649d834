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


# conda's build strings of pytorch (`conda list`'s Build column): the pytorch channel's "py3.10_cuda11.8_cudnn8.7.0_0"
# (older "py3.7_cuda90_cudnn7_1", "py3.7_cuda10.1.243_cudnn7.6.3_0") and "py3.9_cpu_0"; conda-forge's and defaults'
# "cuda112py310he33e0d6_200", "cuda126_generic_py312_h...", "cpu_generic_py312_h...", "cpu_mkl_py310h..." (the CUDA
# version without its dot: the last digit is the minor, "cuda90" is 9.0, "cuda118" 11.8). Sources:
# https://anaconda.org/pytorch/pytorch/files, https://anaconda.org/conda-forge/pytorch/files
_CONDA_CUDA_DOTTED = re.compile(r"(?:^|_)cuda(\d+\.\d+)(?:\.\d+)?_")
_CONDA_CUDA_DIGITS = re.compile(r"(?:^|_)cuda(\d{2,3})(?=_|py)")
_CONDA_CPU = re.compile(r"(?:^|_)cpu(?:_|$)")


def conda_build(build: str) -> tuple[str | None, bool]:
    """(CUDA, CPU-only) of a conda pytorch build string; (None, False) when it names neither."""
    if dotted := _CONDA_CUDA_DOTTED.search(build):
        return dotted[1], False
    if digits := _CONDA_CUDA_DIGITS.search(build):
        return f"{digits[1][:-1]}.{digits[1][-1]}", False
    return None, bool(_CONDA_CPU.search(build))
