"""Turn how an import worker ended into what a person can act on: which package, which CPU extension or which
mismatched pair of packages, and the exact fix. Pure functions of the worker's status and output text."""

from __future__ import annotations

import json
import re

from packaging.utils import canonicalize_name

from rigfit.records import field, record
from rigfit.verify.cpu_check import TargetCpu, missing_for, requirements_for
from rigfit.verify.envscan import IMPORTANT

NOTABLE_FLAGS = ("sse4_1", "sse4_2", "popcnt", "avx", "avx2", "fma", "f16c", "avx512f")

_NUMPY_ABI = re.compile(
    r"compiled using NumPy 1\.x cannot be run in\s+NumPy (?P<have>\d[\w.]*)|_ARRAY_API not found"
    r"|numpy\.core\.multiarray failed to import"
)
_XFORMERS = re.compile(
    r"xFormers was built for:\s*PyTorch (?P<built>\S+)(?: with CUDA (?P<cuda>\d+))? \(you have (?P<have>[^)]+)\)"
)
_NMS = re.compile(r"operator torchvision::nms does not exist|No such operator torchvision::nms")
_UNDEFINED = re.compile(r"site-packages/(?P<pkg>[\w.-]+)/\S*\.so: undefined symbol")
_NUMPY_BASELINE = re.compile(r"NumPy was built with baseline optimizations:\s*\(?(?P<base>[\w ,]+)\)?")
_IMPORTING = re.compile(r'^RIGFIT-PROGRESS (\{"importing".*\})\s*$', re.M)


@record
class Problem:
    """One import's failure, said so a person can fix it."""

    kind: str  # "cpu" | "abi" | "crash" | "error" | "timeout" | "missing"
    message: str
    fix: str | None = None
    pair: tuple[str, str] | None = None  # the two packages that do not match (abi)
    needs: list[str] = field(default_factory=list)  # CPU extensions it needs (cpu)
    kb: list[str] = field(default_factory=list)


def abi_mismatch(module: str, text: str, versions: dict[str, str]) -> Problem | None:
    """Known binary-compatibility failures between two installed packages, from their own messages."""
    torch_v = versions.get("torch", "?")
    if match := _XFORMERS.search(text):
        return Problem(
            "abi",
            f"xformers was built for torch {match['built']} but this environment has torch {match['have'].strip()}:"
            " its fast attention kernels do not load",
            f"pip install the xformers release built for torch {torch_v} (its changelog lists the pairs), "
            "from the same index as torch; or uninstall xformers and use the UI's SDPA attention",
            pair=("xformers", "torch"),
        )
    if _NMS.search(text):
        return Problem(
            "abi",
            f"torchvision {versions.get('torchvision', '?')} does not match torch {torch_v}: its compiled operators"
            " (torchvision::nms) are missing",
            f"pip install the torchvision version paired with torch {torch_v}, from the same index URL as torch",
            pair=("torchvision", "torch"),
        )
    if match := _NUMPY_ABI.search(text):
        have = match["have"] or versions.get("numpy", "2.x")
        culprit = module if module != "numpy" else "a compiled module"
        return Problem(
            "abi",
            f"{culprit} was compiled against NumPy 1.x but this environment has NumPy {have}",
            f'pip install "numpy<2" in this environment, or upgrade {culprit} to a release built for NumPy 2',
            pair=(culprit, "numpy"),
        )
    if match := _UNDEFINED.search(text):
        pkg = match["pkg"]
        return Problem(
            "abi",
            f"{pkg}'s compiled library needs a symbol this torch {torch_v} does not have: it was built for another"
            " torch version",
            f"reinstall {pkg} built for torch {torch_v} (same index URL as torch), or the torch it was built for",
            pair=(pkg, "torch"),
        )
    return None


def crash_culprit(output: str, versions: dict[str, str]) -> str | None:
    """The installed distribution whose import was starting when the process died (the worker announces each)."""
    found = _IMPORTING.findall(output)
    if not found:
        return None
    try:
        module = json.loads(found[-1])["importing"]
    except (ValueError, KeyError, TypeError):
        return None
    by_module = {mod: dist for dist, mod in IMPORTANT.items() if dist in versions}
    dist = by_module.get(module, canonicalize_name(module))
    return dist if dist in versions else None


def cpu_problem(dist: str, version: str | None, variant: str | None, cpu: TargetCpu, how: str) -> Problem:
    """A SIGILL (or a refusal of the CPU) at import: name the extension the package needs and the CPU lacks."""
    for req in requirements_for(dist, version, variant):
        missing = missing_for(req, cpu.flags)
        if missing is None or missing:
            lacking = f"; {cpu.label} lacks {', '.join(missing)}" if missing else ""
            return Problem(
                "cpu",
                f"{dist} {version or ''} {how}: it needs {req.label}{lacking}".replace("  ", " "),
                req.fix,
                needs=list(req.needs),
                kb=[req.id],
            )
    lacks = [f for f in NOTABLE_FLAGS if cpu.flags is not None and f not in cpu.flags]
    lacking = f" ({cpu.label} lacks {', '.join(lacks)})" if lacks else ""
    return Problem(
        "cpu",
        f"{dist} {version or ''} {how}: this build uses CPU instructions {cpu.label} does not have{lacking}".replace(
            "  ", " "
        ),
        f"install a build of {dist} made for this CPU's instruction set (older release or built from source)",
    )


def import_problem(
    dist: str,
    module: str,
    status: str,
    data: dict | None,
    output: str,
    cpu: TargetCpu,
    versions: dict[str, str],
    variant: str | None,
) -> Problem | None:
    """None when the import worked cleanly; else the problem, most specific explanation first."""
    text = "\n".join([output, (data or {}).get("error") or "", *((data or {}).get("warnings") or [])])
    culprit = crash_culprit(output, versions) if status in ("sigill", "segfault") else None
    if status == "sigill":
        source = culprit or dist
        how = "dies with 'Illegal instruction' (SIGILL) at import"
        problem = cpu_problem(source, versions.get(source), variant if source == "torch" else None, cpu, how)
        if source != dist:
            problem.message = f"import {module} dies because {source}, which it loads, does. " + problem.message
        return problem
    if _NUMPY_BASELINE.search(text):
        return cpu_problem("numpy", versions.get("numpy"), None, cpu, "refuses to load on this CPU")
    abi = abi_mismatch(module, text, versions)
    if abi is not None:
        return abi
    return _exit_problem(dist, module, status, data, culprit)


def _exit_problem(dist: str, module: str, status: str, data: dict | None, culprit: str | None) -> Problem | None:
    """How the import ended, when no more specific explanation (CPU, ABI) was found."""
    if status == "segfault":
        inside = f" inside {culprit}" if culprit and culprit != dist else ""
        return Problem(
            "crash",
            f"import {module} crashed (segmentation fault){inside}: usually a compiled package built against "
            "another version of torch or numpy than the one installed",
            f"reinstall {dist} with the same pip command (and index URL) as torch, so that both come from one build",
        )
    if status in ("timeout", "killed", "not_found", "no_result", "error"):
        return Problem(status if status == "timeout" else "error", f"import {module} {describe(status)}")
    if data is not None and not data.get("ok", False):
        error = (data.get("error") or "").strip()
        return Problem("error", f"import {module} failed: {error.splitlines()[-1] if error else 'unknown error'}")
    return None


def describe(status: str) -> str:
    return {
        "timeout": "did not finish in time (a hang, or far too slow)",
        "killed": "was killed (SIGKILL): usually out of memory",
        "not_found": "could not start: the environment's interpreter is missing",
        "no_result": "exited without reporting a result",
        "error": "ended with an error",
    }.get(status, status)
