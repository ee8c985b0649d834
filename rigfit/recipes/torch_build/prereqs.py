"""What the build machine needs before a torch build starts, each a finding with its fix.

Tools and headers are read through a probe `Source`: on the live machine they are checked for real (bounded
commands); in a capture they are unknown (a capture records no compilers), and the fix says where to check them.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from rigfit.kb.torch_source import release_for
from rigfit.probe.profile import Profile
from rigfit.probe.source import CommandSpec, Source
from rigfit.recipes.torch_build.recipe import GIB, BuildRecipe
from rigfit.records import record

Status = Literal["ok", "missing", "warn", "unknown"]
APT_BASE = "sudo apt install build-essential cmake ninja-build git python3-dev python3-venv"
ROCM_DEV = "sudo amdgpu-install --usecase=rocm,hiplibsdk  (or: sudo apt install rocm-dev rocm-libs)"
ROCM_HEADERS = {
    "rocBLAS": "/opt/rocm/include/rocblas/rocblas.h",
    "MIOpen": "/opt/rocm/include/miopen/miopen.h",
    "hipBLAS": "/opt/rocm/include/hipblas/hipblas.h",
    "rocRAND": "/opt/rocm/include/rocrand/rocrand.h",
}
PYTHON_PROBE = (
    "import json, os, sys, sysconfig; inc = sysconfig.get_paths()['include']; "
    "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3], 'include': inc, "
    "'headers': os.path.exists(os.path.join(inc, 'Python.h'))}))"
)
VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


@record(frozen=True)
class Prereq:
    name: str
    status: Status
    detail: str
    fix: str | None = None


def _version_in(text: str | None, prefix: str = "") -> str | None:
    if not text:
        return None
    for line in text.splitlines():
        if prefix in line and (found := VERSION.search(line.split(prefix, 1)[1] if prefix else line)):
            return found.group(1)
    return None


def _tool(source: Source, name: str, argv: tuple[str, ...], prefix: str = "") -> tuple[bool | None, str | None]:
    """(present, version) of a command-line tool; present None when the source cannot tell (a capture)."""
    result = source.run(CommandSpec(f"build-torch-{name}", argv, timeout=10.0))
    if result.output is None:
        return (False if "is not installed" in (result.error or "") else None), None
    return True, _version_in(result.output, prefix)


def _unknown(name: str) -> Prereq:
    return Prereq(
        name,
        "unknown",
        "not recorded in a capture",
        "run `rigfit build-torch --dry-run` with the same options on the build machine to check it",
    )


def _tool_prereq(
    source: Source, name: str, argv: tuple[str, ...], fix: str, need: str | None = None, prefix: str = ""
) -> Prereq:
    present, version = _tool(source, name, argv, prefix)
    if present is None:
        return _unknown(name)
    if not present:
        return Prereq(name, "missing", f"`{argv[0]}` is not installed", fix)
    if need and version and Version(version) not in SpecifierSet(need):
        return Prereq(name, "missing", f"{name} {version} is too old (this release needs {need})", fix)
    return Prereq(name, "ok", f"{name} {version or '(version unknown)'}")


def _cmake_prereq(source: Source, need: str | None) -> Prereq:
    found = _tool_prereq(source, "cmake", ("cmake", "--version"), APT_BASE, need)
    if found.status == "missing" and need:
        # the script installs the release's cmake from PyPI into its build environment, ahead on PATH
        fix = f"nothing to do if PyPI is reachable: the script pip-installs 'cmake{need}' into its build venv"
        return Prereq("cmake", "warn", found.detail, fix)
    return found


def compiler_prereqs(source: Source, recipe: BuildRecipe) -> list[Prereq]:
    cmake_need = recipe.request.release.cmake
    return [
        _tool_prereq(source, "g++", ("g++", "-dumpfullversion"), APT_BASE, need=">=9.4"),
        _cmake_prereq(source, cmake_need),
        _tool_prereq(source, "ninja", ("ninja", "--version"), APT_BASE),
        _tool_prereq(source, "git", ("git", "--version"), APT_BASE),
    ]


def python_prereq(source: Source, recipe: BuildRecipe, python: str) -> Prereq:
    result = source.run(CommandSpec("build-torch-python", (python, "-c", PYTHON_PROBE), timeout=10.0))
    if result.output is None:
        if "is not installed" in (result.error or ""):
            return Prereq("Python", "missing", f"{python} is not installed", APT_BASE)
        return _unknown("Python headers")
    try:
        info = json.loads(result.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Prereq("Python headers", "unknown", f"{python} did not answer: {result.output[-200:]}")
    need = recipe.request.release.python
    if need and Version(info["version"]) not in SpecifierSet(need):
        return Prereq(
            "Python",
            "missing",
            f"Python {info['version']} is outside torch {recipe.request.release.torch}'s range {need}",
            "build another release (--torch) or run the script with RIGFIT_BUILD_PYTHON=/path/to/python3.X",
        )
    if not info["headers"]:
        return Prereq("Python headers", "missing", f"no Python.h in {info['include']}", APT_BASE)
    return Prereq("Python headers", "ok", f"Python {info['version']}, {info['include']}/Python.h")


def rocm_prereqs(source: Source, profile: Profile, recipe: BuildRecipe, live: bool) -> list[Prereq]:
    found = [rocm_version_prereq(profile, recipe, live)]
    if not live:
        return [*found, _unknown("hipcc"), _unknown("ROCm dev headers")]
    hipcc = source.exists("/opt/rocm/bin/hipcc")
    found.append(
        Prereq("hipcc", "ok", "/opt/rocm/bin/hipcc")
        if hipcc
        else Prereq("hipcc", "missing", "no /opt/rocm/bin/hipcc", ROCM_DEV)
    )
    missing = [name for name, path in ROCM_HEADERS.items() if not source.exists(path)]
    if missing:
        found.append(Prereq("ROCm dev headers", "missing", f"headers missing: {', '.join(missing)}", ROCM_DEV))
    else:
        found.append(Prereq("ROCm dev headers", "ok", ", ".join(ROCM_HEADERS)))
    gfx = recipe.request.arch
    if gfx and profile.rocm.version and not source.glob(f"/opt/rocm/lib/rocblas/library/*{gfx}*"):
        found.append(
            Prereq(
                "rocBLAS kernels",
                "warn",
                f"the host rocBLAS has no {gfx} kernel files (/opt/rocm/lib/rocblas/library/*{gfx}*)",
                f"use a ROCm release whose rocBLAS ships {gfx}, or build rocBLAS for it",
            )
        )
    return found


def rocm_version_prereq(profile: Profile, recipe: BuildRecipe, live: bool) -> Prereq:
    release, version = recipe.request.release, profile.rocm.version
    if version is None:
        matching = f"torch {release.torch} goes with ROCm {', '.join(release.rocm) or '(not recorded)'}"
        if not live:
            return Prereq("ROCm", "unknown", "the capture does not say which ROCm is installed", matching)
        return Prereq("ROCm", "missing", "no ROCm version found (/opt/rocm/.info/version)", f"{ROCM_DEV}; {matching}")
    if release.rocm and _older(version, min(release.rocm, key=Version)):
        better = release_for("rocm", version)
        return Prereq(
            "ROCm",
            "warn",
            f"host ROCm {version} is older than the ROCm {', '.join(release.rocm)} torch {release.torch} was released "
            "with",
            f"build torch {better.torch} instead (`--torch {better.torch}`), or install a newer ROCm",
        )
    return Prereq("ROCm", "ok", f"ROCm {version}")


def _older(version: str, than: str) -> bool:
    try:
        return Version(version) < Version(than)
    except InvalidVersion:
        return False


def cuda_prereqs(source: Source, live: bool) -> list[Prereq]:
    if not live:
        return [_unknown("nvcc")]
    nvcc = "/usr/local/cuda/bin/nvcc" if source.exists("/usr/local/cuda/bin/nvcc") else "nvcc"
    return [
        _tool_prereq(
            source, "nvcc", (nvcc, "--version"), "install the CUDA toolkit (nvcc) for your driver", prefix="release"
        )
    ]


def disk_prereq(work: Path, need_gb: int, live: bool, profile: Profile) -> Prereq:
    if live:
        existing = next((p for p in [work, *work.parents] if p.exists()), Path("/"))
        free, where = shutil.disk_usage(existing).free, str(existing)
    elif profile.memory.disk_free_bytes is not None:
        free, where = profile.memory.disk_free_bytes, profile.memory.disk_path or "rigfit's data directory"
    else:
        return _unknown("disk")
    detail = f"{free / GIB:.0f} GiB free at {where} (needs {need_gb} GiB: checkout, build tree, wheels)"
    if free < need_gb * GIB:
        return Prereq("disk", "missing", detail, "free space there, or pass -o DIR on a disk with room")
    return Prereq("disk", "ok", detail)


def memory_prereq(recipe: BuildRecipe, profile: Profile) -> Prereq:
    ram = profile.memory.total_bytes
    if ram is None:
        return Prereq("memory", "unknown", recipe.jobs_reason, "set MAX_JOBS to (RAM+swap in GiB) / 3")
    status: Status = "warn" if recipe.jobs < 2 else "ok"
    fix = (
        "add swap (e.g. a 16 GB swap file) so that more jobs fit, or expect a long build" if status == "warn" else None
    )
    return Prereq("memory", status, f"MAX_JOBS={recipe.jobs}: {recipe.jobs_reason}", fix)


def check_prereqs(
    source: Source, profile: Profile, recipe: BuildRecipe, work: Path, live: bool, python: str = "python3"
) -> list[Prereq]:
    if live:
        found = [*compiler_prereqs(source, recipe), python_prereq(source, recipe, python)]
    else:
        found = [_unknown(name) for name in ("g++", "cmake", "ninja", "git", "Python headers")]
    backend_checks: dict[str, Callable[[], list[Prereq]]] = {
        "rocm": lambda: rocm_prereqs(source, profile, recipe, live),
        "cuda": lambda: cuda_prereqs(source, live),
        "cpu": lambda: [],
    }
    found += backend_checks[recipe.request.backend]()
    found.append(disk_prereq(work, recipe.resources.disk_gb, live, profile))
    found.append(memory_prereq(recipe, profile))
    return found


__all__ = ["Prereq", "check_prereqs"]
