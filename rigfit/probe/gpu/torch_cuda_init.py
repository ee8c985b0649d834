"""torch's CUDA start-up check failing: torch asks the driver for its devices (cudaGetDeviceCount) and, on an error,
warns "CUDA initialization: <message>" (torch.cuda.is_available) or raises it (torch.cuda init). The message is torch's
own words for two statuses ("CUDA driver initialization failed, you might not have a CUDA gpu", "CUDA unknown error -
this may be due to ...") and "Unexpected error from cudaGetDeviceCount() ... Error <n>: <the driver's text>" for the
others (Error 802 fabric manager, 803 driver/libcuda mismatch, 804 forward compatibility, 34 stub libcuda). Each is
looked up in rigfit/kb/gpu_errors.yaml, the one table explain and doctor both answer from. Pure functions of text.
Source: pytorch/pytorch c10/cuda/CUDAFunctions.cpp (device_count_impl), torch/cuda/__init__.py."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from rigfit.kb.loader import by_id, load_entries
from rigfit.lazy_re import later
from rigfit.records import record

if TYPE_CHECKING:  # the schemas are imported when a start-up line is read, not at doctor's start
    from rigfit.kb.error_codes import GpuError

# torch's framing of the check's failure (not a status): its warning, its "Unexpected error" wording, and the
# RuntimeError that carries torch's own words when CUDA is first used; a line without it names no failure
CHECK = later(r"CUDA initialization: |Unexpected error from cudaGetDeviceCount\(\)|RuntimeError: CUDA ")
_NUMBERED = later(r"Unexpected error from cudaGetDeviceCount\(\).*?\bError (?P<code>\d{1,4}): (?P<text>[^(]+)")


@record(frozen=True)
class CudaInitFailure:
    status: GpuError  # the gpu_errors.yaml entry
    code: str | None  # the number torch printed ("803"), None where torch words the status itself
    evidence: str  # the line from torch's words on, cut to 240 characters


@functools.cache
def _statuses() -> tuple[dict[str, GpuError], tuple[tuple[str, GpuError], ...]]:
    """The CUDA statuses by their driver text, and torch's own wordings."""
    from rigfit.kb.error_codes import GpuError

    cuda = [e for e in load_entries("gpu_errors.yaml", GpuError) if e.api == "cuda"]
    by_text = {e.text: e for e in cuda if e.text}
    return by_text, tuple((e.torch_text, e) for e in cuda if e.torch_text)


def torch_cuda_init(line: str) -> CudaInitFailure | None:
    """The failure a line of torch's CUDA start-up check names, if the table knows its status."""
    if not (check := CHECK.search(line)):
        return None
    evidence = line[check.start() :].split(" (Triggered internally at ")[0].strip()[:240]
    by_text, torch_words = _statuses()
    if numbered := _NUMBERED.search(line):
        entry = by_text.get(numbered["text"].strip().rstrip(".").lower())
        return CudaInitFailure(entry, numbered["code"], evidence) if entry else None
    lowered = line.lower()
    return next((CudaInitFailure(e, None, evidence) for words, e in torch_words if words in lowered), None)


def first_torch_cuda_init(lines: list[str]) -> CudaInitFailure | None:
    return next((found for line in lines if (found := torch_cuda_init(line))), None)


# torch's "Unexpected error from cudaGetDeviceCount()" sentence cut before its "Error <n>: <text>" (a paste's end)
_CUT_NUMBERED = later(r"Unexpected error from cudaGetDeviceCount\(\)(?!.*\bError \d)")


def cut_torch_cuda_init(lines: list[str]) -> str | None:
    """The line of a failed check whose status the paste cut off: the failure is known, its cause is not."""
    return next((line.strip()[:240] for line in lines if _CUT_NUMBERED.search(line)), None)


def init_status(status_id: str | None) -> GpuError | None:
    """The gpu_errors.yaml entry a finding carries (its id, from torch_cuda_init)."""
    by_text, _ = _statuses()
    return next((e for e in by_text.values() if e.id == status_id), None)


def init_status_fix(status_id: str | None) -> str:
    """What fixes that status: its own fix, else what its kind of status needs (gpu_error_kinds.yaml)."""
    entry = init_status(status_id)
    if entry is None:
        return ""
    from rigfit.kb.error_codes import GpuErrorKind

    return entry.fix or by_id(load_entries("gpu_error_kinds.yaml", GpuErrorKind))[entry.kind].fix
