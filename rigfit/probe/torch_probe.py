"""An installed torch: read torch/version.py without importing it, then import it in a subprocess.

The import runs in rigfit/workers/torch_import.py under the interpreter that owns that torch, with a timeout. How it
ends is the finding: a SIGILL means the build uses instructions this CPU lacks (never "no GPU", the misdiagnosis other
launchers print), a segfault usually a library mismatch, a timeout a hung driver. The result is the Source fact
"torch", so a capture replays it (facts/torch.json) on any machine.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit.kb.cuda_support import cc_covered, cuda_lines_for, runs_on_driver
from rigfit.kb.fixes import fix_text
from rigfit.kb.typed import load_as
from rigfit.lazy_re import later
from rigfit.probe import visible_devices
from rigfit.probe.host_rules import host_rule
from rigfit.probe.lines import bounded_lines
from rigfit.probe.profile import CpuInfo, Finding, GpuInfo, Profile, TorchInfo, sm_name
from rigfit.probe.source import Source
from rigfit.proc.worker import RESULT_MARKER, WORKERS_DIR, WorkerResult, parse_result, run_worker

# A first import reads 1-5 GB of libraries: 8 s was measured here on a loaded machine and a hard disk takes longer;
# a slow import read as "hung" would be a wrong finding. The command probes keep their own 6 s deadline alongside it.
TORCH_IMPORT_TIMEOUT_S = 30.0
IMPORT_WORKER = WORKERS_DIR / "torch_import.py"
_VERSION_LINE = later(r"^\s*(__version__|cuda|hip|git_version)\s*(?::[^=]*)?=\s*(.+?)\s*$")


def parse_version_py(text: str) -> dict[str, str | None]:
    """torch/version.py's literal assignments (`__version__ = '2.4.1+rocm6.1'`, `hip: Optional[str] = '6.1...'`)."""
    import ast  # only where a torch is installed

    found: dict[str, str | None] = {}
    for line in bounded_lines(text):
        match = _VERSION_LINE.match(line)
        if not match or match.group(1) in found:
            continue
        try:
            value = ast.literal_eval(match.group(2))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if value is None or isinstance(value, str):
            found[match.group(1)] = value
    return {"version": found.get("__version__"), "cuda": found.get("cuda"), "hip": found.get("hip")}


def interpreters(env: str | None = None) -> list[str]:
    """Pythons whose torch doctor reports: the env given with --env alone, else rigfit's own, then an activated
    venv's or conda env's."""
    if env is not None:
        return [str(Path(env) / "bin" / "python")]
    found = [sys.executable]
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = os.environ.get(var)
        if prefix:
            candidate = str(Path(prefix) / "bin" / "python")
            if candidate not in found and Path(candidate).exists():
                found.append(candidate)
    return found


def locate_torch(python: str) -> Path | None:
    """torch's package directory for `python`, without importing it (and without running `python` at all)."""
    if python == sys.executable:
        spec = importlib.util.find_spec("torch")
        return Path(spec.origin).parent if spec and spec.origin else None
    prefix = Path(python).parent.parent
    for pattern in ("lib/python3*/site-packages/torch/version.py", "lib/python3*/dist-packages/torch/version.py"):
        hits = sorted(prefix.glob(pattern))
        if hits:
            return hits[-1].parent
    return None


def import_in_subprocess(
    python: str, module: str = "torch", *, timeout: float = TORCH_IMPORT_TIMEOUT_S, prefix: tuple[str, ...] = ()
) -> WorkerResult:
    """Import `module` under `python` in a worker process (optionally under `prefix`, e.g. qemu-x86_64 -cpu Conroe)."""
    return run_worker(python, IMPORT_WORKER, [module], timeout=timeout, prefix=prefix)


def fields_from_worker(result: WorkerResult) -> dict[str, Any]:
    """TorchInfo fields from how the import worker ended and what it printed."""
    # a worker killed on timeout still printed where the module is, before importing it
    data = result.data or parse_result(result.output_tail) or {}
    fields: dict[str, Any] = {"import_status": result.status}
    for key in ("version", "cuda", "hip", "gpu_available", "device_names", "arch_list", "cpu_capability"):
        if data.get(key) is not None:
            fields[key] = data[key]
    if data.get("location"):
        fields["location"] = data["location"]
    if result.status != "ok":
        tail = [line for line in result.output_tail.splitlines() if line.strip() and RESULT_MARKER not in line]
        fields["import_error"] = data.get("error") or " | ".join(tail[-3:]) or result.describe()
    elif data.get("found") is False:
        fields["import_status"] = "not_found"
        fields["import_error"] = f"{data.get('python') or 'the interpreter'} does not find {data.get('module')}"
    return fields


def find_torch(import_check: bool, env: str | None = None) -> dict[str, Any]:
    """The "torch" fact: where torch is, its build (from version.py), and how importing it ends."""
    for python in interpreters(env):
        location = locate_torch(python)
        if location is None:
            continue
        try:
            version_text = (location / "version.py").read_text(encoding="utf-8", errors="replace")
        except OSError:
            version_text = ""
        fields: dict[str, Any] = {"found": True, "python": python, "location": str(location)}
        fields.update({k: v for k, v in parse_version_py(version_text).items() if v is not None})
        if not import_check:
            fields["import_status"] = "skipped"
            return fields
        fields.update(fields_from_worker(import_in_subprocess(python)))
        return fields
    return {"found": False, "searched": interpreters(env)}


def torch_fact(source: Source, import_check: bool, env: str | None = None) -> dict[str, Any] | None:
    """Computed on the live machine (and recorded by `rigfit capture`), replayed from facts/torch.json otherwise."""
    value = source.fact("torch", lambda: find_torch(import_check, env))
    return value if isinstance(value, dict) else None


def missing_cpu_feature(cpu: CpuInfo, torch: TorchInfo) -> str | None:
    """The extension a SIGILL most likely points at, from this CPU's flags and the build (None when nothing lacks)."""
    if cpu.arch == "aarch64":
        return "atomics" if cpu.flags is not None and "atomics" not in cpu.flags else None
    if "X86_V2" in (torch.import_error or ""):  # numpy >= 2.4's own message
        return "sse4_2"
    if torch.hip and cpu.avx is False:
        return "avx"  # ROCm host libraries (pytorch#125310)
    for flag in ("sse4_1", "sse4_2", "popcnt", "avx", "avx2", "fma"):
        if getattr(cpu, flag) is False:
            return flag
    return None


def probe_torch(
    fact: dict[str, Any] | None, profile: Profile, warn: Callable[[str], None], absent: str | None = None
) -> TorchInfo | None:
    """TorchInfo from the "torch" fact; None when it is unknown (an old capture without it, a paste: `absent`)."""
    if profile.torch is not None and (fact is None or fact.get("listed")):
        return profile.torch  # no facts/torch.json, but a pasted collect_env or UI start-up shows the torch
    if fact is None:
        warn(f"installed torch unknown: {absent or 'this capture has no facts/torch.json (made by an older rigfit?)'}")
        return None
    if not fact.get("found"):
        return TorchInfo()
    try:
        info = load_as(TorchInfo, fact, "torch fact", extra="ignore")
    except ValueError as exc:
        warn(f"installed torch facts could not be read ({exc.__class__.__name__}); torch reported unknown")
        return None
    if info.import_status == "sigill":
        info.missing_cpu_feature = missing_cpu_feature(profile.cpu, info)
    return info


def _backend(t: TorchInfo) -> str:
    if t.build_unknown:
        return "build not shown"
    return f"CUDA {t.cuda}" if t.cuda else f"ROCm/HIP {t.hip}" if t.hip else "CPU-only"


def _sigill_fix(t: TorchInfo, feature: str | None) -> tuple[str, list[str]]:
    if feature == "atomics":
        rule = host_rule("torch-aarch64-lse-atomics")
        return rule.fix or "", [rule.id]
    if feature in ("sse4_2", "popcnt"):
        return fix_text("torch.sigill", case="x86-64-v1"), ["numpy-2.4-x86-64-v2"]
    if feature == "sse4_1":
        rule = host_rule("torch-sse4_1-floor")
        return rule.fix or "", [rule.id]
    if t.hip and feature == "avx":
        rule = host_rule("no-avx-routes")
        return rule.fix or "", ["torch-rocm-avx", rule.id]
    return fix_text("torch.sigill", case="other-build"), []


def _sigill_finding(t: TorchInfo, name: str) -> Finding:
    feature = t.missing_cpu_feature
    lacks = f"most likely {feature.upper().replace('_', '.')}" if feature else "which one is not known"
    fix, kb = _sigill_fix(t, feature)
    return Finding(
        id="torch.sigill",
        severity="blocker",
        message=f"{name} dies with SIGILL (Illegal instruction) at import: this torch build uses "
        f"instructions this CPU lacks ({lacks}). This is not a GPU problem.",
        fix=fix,
        group="torch",
        kb=kb,
        blocks="gpu" if (t.cuda or t.hip) else "cpu",
    )


def supported_ccs(t: TorchInfo) -> str | None:
    """The NVIDIA compute capabilities the installed torch has kernels for, as it said (arch list or range)."""
    if t.arch_list and all(a.startswith(("sm_", "compute_")) for a in t.arch_list):
        return " ".join(t.arch_list)
    if t.cc_min:
        return f"compute capability {t.cc_min} to {t.cc_max}" if t.cc_max else f"compute capability {t.cc_min} and up"
    return None


def _arch_cc(arch: str) -> str:
    """torch's arch names as compute capabilities: "sm_61" -> "6.1", "sm_90a" -> "9.0", "compute_90" -> "9.0+PTX"."""
    digits = "".join(ch for ch in arch.partition("_")[2] if ch.isdigit())
    return f"{digits[:-1]}.{digits[-1]}" + ("+PTX" if arch.startswith("compute_") else "")


def _torch_runs(cc: str, t: TorchInfo) -> bool | None:
    """Whether the installed torch has kernels for compute capability `cc`; None when it did not say. Its own
    "sm_N is not compatible" warning for the card says no, whatever part of its list survived the paste."""
    if t.rejected_ccs and cc in t.rejected_ccs:
        return False
    if t.arch_list and all(a.startswith(("sm_", "compute_")) for a in t.arch_list):
        return cc_covered(cc, [_arch_cc(a) for a in t.arch_list])
    if t.cc_min:
        low, high = [float(v) for v in (t.cc_min, t.cc_max or "99")]
        return low <= float(cc) <= high
    return None


def _no_kernels_finding(gpu: GpuInfo, t: TorchInfo, profile: Profile) -> Finding:
    """An NVIDIA GPU the installed torch has no kernels for: the fix is the newest torch_wheels.yaml line with them
    (the lines `rigfit plan` picks from), or the plan's own "no official wheel" answer."""
    cc = str(gpu.compute_capability)
    which = f"torch {t.version}" if t.version else "torch"
    supports = supported_ccs(t)
    said = (
        f"it supports {supports}"
        if supports
        else f'its own warning says "{sm_name(cc)} is not compatible" (the capabilities it supports are not in the '
        "paste: the warning's list is cut or missing)"
    )
    message = (
        f"{gpu.name or 'The NVIDIA GPU'} (compute capability {cc}, {sm_name(cc)}) has no kernels in the installed "
        f'{which}: {said}, so every GPU operation fails ("no kernel image is available").'
    )
    lines = cuda_lines_for(cc)
    if not lines:
        fix, kb = fix_text("cuda-arch-unsupported"), []
    else:
        line = next((w for w in lines if runs_on_driver(w, profile.nvidia_driver)), lines[0])
        fix = fix_text(
            "torch.no-kernels-for-gpu", torch=line.torch, variant=line.variant, sm=sm_name(cc),
            index_url=line.index_url, min_driver=line.min_driver,
        )  # fmt: skip
        kb = [line.id]
    # a warning, not a blocker: the GPU runs with another torch build (the plan's), only this install cannot use it
    return Finding(id="torch.no-kernels-for-gpu", severity="warning", message=message, fix=fix, group="torch", kb=kb)


def _no_kernels_findings(profile: Profile) -> list[Finding]:
    t = profile.torch
    if t is None:
        return []
    return [
        _no_kernels_finding(g, t, profile)
        for g in profile.gpus
        if g.vendor == "nvidia" and g.compute_capability and _torch_runs(g.compute_capability, t) is False
    ]


def torch_findings(profile: Profile) -> list[Finding]:
    no_kernels = _no_kernels_findings(profile)
    other = _other_vendors_build(profile)  # says why torch sees no GPU: instead of the generic no-gpu-visible
    return no_kernels + ([other] if other else _status_findings(profile))


_VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD"}


def _other_vendors_build(profile: Profile) -> Finding | None:
    """A torch built for one vendor's GPUs (CUDA: NVIDIA, ROCm/HIP: AMD) that does not reach the GPU, where every GPU
    the given outputs show is the other vendor's (a CUDA wheel in an AMD machine's venv or ROCm image): the same
    class as torch.build_swapped, found from the torch itself rather than from an installer's line. A torch that
    reaches the GPU (ZLUDA runs a CUDA torch on AMD) is not judged."""
    t = profile.torch
    if t is None or t.gpu_available is not False or bool(t.cuda) == bool(t.hip) or not profile.gpus:
        return None
    built_for = "amd" if t.hip else "nvidia"
    vendors = {g.vendor for g in profile.gpus}
    if len(vendors) != 1 or (machine := vendors.pop()) not in _VENDOR_NAMES or machine == built_for:
        return None
    names = ", ".join(dict.fromkeys(g.name or f"an {_VENDOR_NAMES[machine]} GPU" for g in profile.gpus))
    return Finding(
        id="torch.build_swapped",
        severity="warning",
        message=f"torch {t.version or '(version unknown)'} ({_backend(t)}) is built for {_VENDOR_NAMES[built_for]} "
        f"GPUs, but the GPU here is {_VENDOR_NAMES[machine]} ({names}): it cannot use it, so torch sees no GPU "
        "(torch.cuda.is_available() is False) and everything runs on the CPU.",
        fix=fix_text(
            "torch.build_swapped", case="installed", installed=t.version or "torch", machine=_VENDOR_NAMES[machine]
        ),
        group="torch",
    )


def _status_findings(profile: Profile) -> list[Finding]:
    t = profile.torch
    if t is None or (t.version is None and t.import_status is None):
        return []
    where = f" at {t.location}" if t.location else ""  # a pasted torch: where it lives is not in the paste
    name = f"torch {t.version or '(version unknown)'} ({_backend(t)}){where}"
    if t.import_status == "sigill":
        return [_sigill_finding(t, name)]
    problems = {
        "segfault": "crashes (segmentation fault) at import: usually a binary built against another version of a "
        "library (ROCm/CUDA runtime, numpy)",
        "killed": "was killed at import (SIGKILL): usually the out-of-memory killer",
        "timeout": f"did not finish importing within {TORCH_IMPORT_TIMEOUT_S:g} s: a hung GPU driver, or a very slow "
        "disk on a first import",
        "error": f"fails to import: {t.import_error or 'see its output'}",
        "no_result": "exited during import without an error message",
        "not_found": f"could not be imported: {t.import_error or 'its interpreter is missing'}",
    }
    if t.import_status in problems:
        return [
            Finding(
                id=f"torch.import-{t.import_status}",
                severity="warning",
                message=f"{name} {problems[t.import_status]}.",
                fix=fix_text("torch.import-failed"),
                group="torch",
            )
        ]
    hidden = visible_devices.hiding_variable(profile, "amd" if t.hip else "nvidia")
    if t.import_status == "ok" and (t.cuda or t.hip) and t.gpu_available is False and hidden is None:
        return [
            Finding(
                id="torch.no-gpu-visible",
                severity="warning",
                message=f"{name} imports, but sees no GPU (torch.cuda.is_available() is False).",
                fix=fix_text("torch.no-gpu-visible"),
                group="torch",
            )
        ]
    if t.import_status == "ok" and not (t.cuda or t.hip) and profile.gpus:
        return [
            Finding(
                id="torch.cpu-only-build",
                severity="info",
                message=f"{name} is a CPU-only build: the GPU is not used by it.",
                fix=fix_text("torch.cpu-only-build"),
                group="torch",
            )
        ]
    return []
