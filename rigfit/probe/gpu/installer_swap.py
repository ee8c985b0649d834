"""A UI installer about to replace the installed torch with a build for another kind of GPU: kohya_ss's and SD.Next's
requirement check (setup_common.py) "WARNING  Package wrong version: torch 2.1.2+rocm5.6 required 2.1.2+cu118",
printed just before it installs the required one. A ROCm build replaced by a CUDA build (or the other way) cannot use
the GPU the installed one was made for; a change of version or of CUDA line alone is no such fault. Pure function of
text; source: bmaltais/kohya_ss#2228 (tests/fixtures/SOURCES.md round heldd17).

The same installer reading the requirements file of the other kind of GPU ("Could not find the requirements file in
.../requirements_linux_rocm.txt" or "Verifying modules installation status from .../requirements_linux.txt") while its
own lines show the machine's GPU or torch ("nVidia toolkit detected", "Torch backend: AMD ROCm ...", "Torch
2.7.0+cu128") is the setup choosing the wrong vendor's requirements (bmaltais/kohya_ss#3292: gui.sh picked the ROCm
file on an NVIDIA machine because rocminfo was installed); round leftover17."""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.wheel_build import wheel_build
from rigfit.probe.profile import GpuFault

# kohya_ss's setup_common.py lines that name the requirements file it reads
_REQUIREMENTS = later(
    r"\b(?:Could not find the requirements file in|Verifying modules installation status from)\s+"
    r"(?P<path>\S*?(?P<name>requirements[\w-]*\.txt))"
)
# which GPU its own lines say this machine has: setup_common.py's toolkit check, its torch backend line, the torch
_DETECTED_VENDOR = (
    (later(r"\bnVidia toolkit detected\b|\bTorch backend: nVidia CUDA\b|\bTorch detected GPU: NVIDIA\b"), "cuda"),
    (later(r"\bAMD toolkit detected\b|\bTorch backend: AMD ROCm\b|\bTorch detected GPU: AMD\b"), "rocm"),
)
_CUDA_REQUIREMENTS = ("requirements_linux.txt", "requirements_windows.txt", "requirements_pytorch_windows.txt")
_INSTALLER_TORCH = later(r"\b(?:INFO|DEBUG)\s+Torch (?P<ver>\d+\.\d+\.\d+\+[\w.]+)\s*$")
_WRONG_VERSION = later(r"\bPackage wrong version: torch (?P<have>\d[\w.+]*) required (?P<want>\d[\w.+]*)")


def _family(version: str) -> str | None:
    """ "rocm", "cuda" or "cpu" as the version's local tag names it; None when it names none."""
    cuda, hip = wheel_build(version)
    return "rocm" if hip else "cuda" if cuda else "cpu" if version.endswith("+cpu") else None


def _requirements_family(name: str) -> str | None:
    """kohya_ss's requirements files: requirements_linux_rocm.txt holds the ROCm torch; requirements_linux.txt,
    requirements_windows.txt and requirements_pytorch_windows.txt the CUDA one (the repository's own files); any other
    (ipex, macos, runpod, the shared requirements.txt) is not judged."""
    if "_rocm" in name:
        return "rocm"
    return "cuda" if name in _CUDA_REQUIREMENTS else None


def _machine_family(lines: list[str]) -> tuple[str | None, str | None]:
    """The kind of GPU the installer's own lines show ("cuda"/"rocm"; None when they show none or both) and the
    torch its "Torch X+tag" line names."""
    found = {family for line in lines for pattern, family in _DETECTED_VENDOR if pattern.search(line)}
    torch = next((m["ver"] for line in lines if (m := _INSTALLER_TORCH.search(line))), None)
    if torch and (tagged := _family(torch)) in ("cuda", "rocm"):
        found.add(tagged)
    return (found.pop() if len(found) == 1 else None), torch


def requirements_vendor_faults(lines: list[str]) -> list[GpuFault]:
    """The installer reading the requirements file of the other kind of GPU than its own lines show."""
    machine, torch = _machine_family(lines)
    if machine is None:
        return []
    for line in lines:
        found = _REQUIREMENTS.search(line)
        if found is None or _requirements_family(found["name"]) in (None, machine):
            continue
        shown = f"its own lines show {'an NVIDIA' if machine == 'cuda' else 'an AMD'} GPU"
        detail = f"{shown}, torch {torch}" if torch else shown
        facts = {"requirements": found["name"], "machine": machine}
        return [GpuFault(kind="installer_requirements_vendor", evidence=line.strip(), detail=detail, facts=facts)]
    return []


def torch_swap_faults(text: str | None) -> list[GpuFault]:
    """The installer's line where the torch it requires is another kind of build than the one installed; else its
    reading the other kind of GPU's requirements file."""
    lines = clean_lines(text)
    for line in lines:
        found = _WRONG_VERSION.search(line)
        if found is None:
            continue
        have, want = _family(found["have"]), _family(found["want"])
        if have and want and have != want:
            facts = {"installed": found["have"], "required": found["want"]}
            return [GpuFault(kind="torch_build_swap", evidence=line.strip(), facts=facts)]
    return requirements_vendor_faults(lines)
