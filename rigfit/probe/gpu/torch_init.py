"""torch's warning when CUDA would not start as it counted the devices (c10/cuda/CUDAFunctions.cpp, printed from
torch/cuda/__init__.py): "UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). ... Error 803:
system has unsupported display driver / cuda driver combination", "CUDA initialization: CUDA driver initialization
failed, you might not have a CUDA gpu." The status it names is looked up in rigfit/kb/gpu_errors.yaml by its printed
text (the same entry explain answers with); torch then sees no GPU. Pure function of text."""

from __future__ import annotations

from rigfit.kb.error_codes import gpu_error_printed
from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.profile import GpuFault

_ERROR_CODE = later(r"\bError \d+: .+$")
_CUDA_INIT = later(r"\bCUDA initialization: (?P<said>.+?)(?:\s*\(Triggered internally at [^)]*\)\.?)?\s*$")


def torch_init_faults(text: str | None) -> list[GpuFault]:
    """The first CUDA-init warning whose status the KB knows (its meaning and fix kept as the fault's facts)."""
    for line in clean_lines(text):
        said = _CUDA_INIT.search(line) if "CUDA initialization:" in line else None
        status = gpu_error_printed(said["said"]) if said else None
        if said is None or status is None:
            continue
        coded = _ERROR_CODE.search(said["said"])
        evidence = f"CUDA initialization: {coded.group(0) if coded else said['said']}"
        facts = {"fix": status.fix} if status.fix else {}
        return [GpuFault(kind="torch_cuda_init", evidence=evidence[:240], detail=status.meaning, facts=facts)]
    return []
