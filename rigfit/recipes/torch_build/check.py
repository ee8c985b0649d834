"""`rigfit build-torch --check PATH`: run the build on the target CPU under qemu-user and scan it for instructions
the target lacks outside the dispatch copies.

PATH is an ELF executable (run under `qemu-x86_64 -cpu <model>`), a Python environment (torch imported and the verify
operations run under qemu, through rigfit verify's machinery), a wheel or any directory (scanned only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from rigfit.kb.torch_source import IsaTarget
from rigfit.proc.worker import classify, signal_of
from rigfit.recipes.torch_build.isa_check import ELF_MAGIC, ScanResult, scan_path
from rigfit.records import field, record

# the extensions the scanner recognises (/proc/cpuinfo names); a target lacks those not in its flags
KNOWN_EXTENSIONS = frozenset(
    [
        "ssse3",
        "sse4_1",
        "sse4_2",
        "popcnt",
        "aes",
        "pclmulqdq",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "bmi1",
        "bmi2",
        "movbe",
        "adx",
        "avx512f",
    ]
)


@record
class RunOutcome:
    what: str
    status: str  # worker.Status: ok, sigill, segfault, timeout, error...
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@record
class CheckOutcome:
    path: str
    target: str
    lacks: list[str]
    scan: ScanResult
    runs: list[RunOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scan.clean and all(run.ok for run in self.runs)


def missing_extensions(target: IsaTarget) -> frozenset[str]:
    return KNOWN_EXTENSIONS - set(target.flags)


def qemu_prefix(target: IsaTarget) -> list[str]:
    from rigfit.verify.cpu_check import emulated_cpu

    return emulated_cpu(target.qemu).prefix()


def run_executable(path: Path, target: IsaTarget, timeout: float = 120.0) -> RunOutcome:
    """Run an ELF executable under qemu-user emulating the target CPU; its own process group, killed on timeout."""
    argv = [*qemu_prefix(target), str(path)]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    start = time.monotonic()
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return RunOutcome(path.name, "timeout", f"no end within {timeout:g} s")
    status = classify(proc.returncode, {} if proc.returncode == 0 else None)
    tail = output.decode("utf-8", "replace").strip().splitlines()[-3:]
    sig = signal_of(proc.returncode)
    detail = (
        f"exit {proc.returncode}" + (f" (signal {sig})" if sig else "") + f" after {time.monotonic() - start:.1f} s"
    )
    return RunOutcome(path.name, status, detail + (": " + " | ".join(tail) if tail else ""))


def run_env(env_dir: Path, target: IsaTarget) -> list[RunOutcome]:
    """Import the environment's packages and run the verify operations on the emulated target CPU."""
    from rigfit.verify.cpu_check import emulated_cpu
    from rigfit.verify.device import check_device
    from rigfit.verify.envscan import scan_env
    from rigfit.verify.imports import check_imports, needed_env

    env = scan_env(env_dir)
    cpu = emulated_cpu(target.qemu)
    imports = check_imports(env, cpu)
    runs = [
        RunOutcome(f"import {o.module}", o.status, o.problem.message if o.problem else f"{o.dist} {o.version or ''}")
        for o in imports
    ]
    if any(o.dist == "torch" and o.ok for o in imports):
        outcome = check_device(env, cpu, device="cpu", extra_env=needed_env(imports))
        status = "ok" if not outcome.problems else "error"
        detail = "; ".join(p.message for p in outcome.problems) or "all passed"
        runs.append(RunOutcome("verify operations (cpu)", status, detail))
    return runs


def _is_executable_elf(path: Path) -> bool:
    if not (path.is_file() and os.access(path, os.X_OK)) or path.suffix == ".so" or ".so." in path.name:
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == ELF_MAGIC


def check_target(path: Path, target: IsaTarget) -> CheckOutcome:
    lacks = missing_extensions(target)
    outcome = CheckOutcome(str(path), target.id, sorted(lacks), ScanResult())
    if _is_executable_elf(path):
        outcome.runs.append(run_executable(path, target))
    elif path.is_dir() and (path / "bin" / "python").exists():
        outcome.runs += run_env(path, target)
        path = next(iter(sorted(path.glob("lib*/python3*/site-packages/torch"))), path)
    elif path.suffix == ".whl":
        outcome.notes.append(
            f"a wheel is only scanned: install it into an environment, then `rigfit build-torch --check ENV "
            f"--for {target.id}` imports it and runs the verify operations under qemu"
        )
    outcome.scan = scan_path(path, lacks)
    return outcome


__all__ = ["CheckOutcome", "RunOutcome", "check_target", "missing_extensions", "run_executable"]
