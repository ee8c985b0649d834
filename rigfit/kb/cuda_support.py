"""Which torch CUDA lines have kernels for an NVIDIA compute capability: one answer, read by doctor's finding on the
installed torch, by the plan's pick and by explain's fix (torch_wheels.yaml `cuda_archs`)."""

from __future__ import annotations

from rigfit.kb.loader import load_entries
from rigfit.kb.schemas import WheelLine
from rigfit.kb.versions import InvalidVersion, Version


def _version(text: str | None) -> Version | None:
    try:
        return Version(text.split("+")[0]) if text else None
    except InvalidVersion:
        return None


def cc_covered(cc: str, archs: list[str]) -> bool:
    """A GPU runs a cubin of its own major with minor <= its own, or anything newer through +PTX."""
    have = _version(cc)
    if have is None:
        return False
    for arch in archs:
        base = _version(arch.replace("+PTX", ""))
        if base is None:
            continue
        if base.major == have.major and base.minor <= have.minor:
            return True
        if arch.endswith("+PTX") and have >= base:
            return True
    return False


def newest_first(lines: list[WheelLine]) -> list[WheelLine]:
    return sorted(
        lines, key=lambda w: (_version(w.torch) or Version("0"), _version(w.cuda) or Version("0")), reverse=True
    )


def cuda_lines_for(cc: str) -> list[WheelLine]:
    """torch_wheels.yaml's CUDA lines with kernels for `cc`, newest first; empty when no official wheel has any."""
    lines = load_entries("torch_wheels.yaml", WheelLine)
    return newest_first([w for w in lines if w.kind == "cuda" and cc_covered(cc, w.cuda_archs)])


def runs_on_driver(line: WheelLine, driver: str | None) -> bool:
    """Whether the NVIDIA driver (None: unknown, taken as fine) is at least the line's floor."""
    have, floor = _version(driver), _version(line.min_driver)
    return have is None or floor is None or have >= floor
