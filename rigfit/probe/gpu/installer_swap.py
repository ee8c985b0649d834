"""A UI installer about to replace the installed torch with a build for another kind of GPU: kohya_ss's and SD.Next's
requirement check (setup_common.py) "WARNING  Package wrong version: torch 2.1.2+rocm5.6 required 2.1.2+cu118",
printed just before it installs the required one. A ROCm build replaced by a CUDA build (or the other way) cannot use
the GPU the installed one was made for; a change of version or of CUDA line alone is no such fault. Pure function of
text; source: bmaltais/kohya_ss#2228 (tests/fixtures/SOURCES.md round heldd17)."""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.wheel_build import wheel_build
from rigfit.probe.profile import GpuFault

_WRONG_VERSION = later(r"\bPackage wrong version: torch (?P<have>\d[\w.+]*) required (?P<want>\d[\w.+]*)")


def _family(version: str) -> str | None:
    """ "rocm", "cuda" or "cpu" as the version's local tag names it; None when it names none."""
    cuda, hip = wheel_build(version)
    return "rocm" if hip else "cuda" if cuda else "cpu" if version.endswith("+cpu") else None


def torch_swap_faults(text: str | None) -> list[GpuFault]:
    """The installer's line where the torch it requires is another kind of build than the one installed."""
    for line in clean_lines(text):
        found = _WRONG_VERSION.search(line)
        if found is None:
            continue
        have, want = _family(found["have"]), _family(found["want"])
        if have and want and have != want:
            facts = {"installed": found["have"], "required": found["want"]}
            return [GpuFault(kind="torch_build_swap", evidence=line.strip(), facts=facts)]
    return []
