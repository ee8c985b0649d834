"""Worker: import a module (torch by default) in this interpreter and report what it sees.

Usage: python torch_import.py [MODULE]. rigfit runs it in a subprocess with a timeout (rigfit.proc.worker.run_worker),
so that an import that dies (SIGILL on a CPU without the instructions the build uses, a segfault from a library
mismatch) or hangs (a GPU driver) never takes rigfit down. It prints a RIGFIT-RESULT line BEFORE importing (where the
module is), then one after (what it sees): when the import kills the process, the first line is still there.
Standard library only: it runs under interpreters where rigfit is not installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback

MARKER = "RIGFIT-RESULT "


def emit(result: dict) -> None:
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def torch_details(torch) -> dict:
    """What an imported torch sees: build, GPU runtime, devices, compiled GPU archs, CPU kernels in use."""
    details: dict = {
        "version": str(torch.__version__),
        "cuda": getattr(torch.version, "cuda", None),
        "hip": getattr(torch.version, "hip", None),
    }
    try:
        details["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # older torch has no torch.backends.cpu
        details["cpu_capability"] = None
    available = bool(torch.cuda.is_available())
    details["gpu_available"] = available
    details["device_names"] = (
        [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if available else []
    )
    try:
        details["arch_list"] = list(torch.cuda.get_arch_list())
    except Exception:
        details["arch_list"] = None
    return details


def main(argv: list[str]) -> int:
    name = argv[1] if len(argv) > 1 else "torch"
    result: dict = {"module": name, "python": sys.executable, "python_version": sys.version.split()[0]}
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        result["found"] = False
        emit(result)
        return 0
    result["found"] = True
    result["location"] = os.path.dirname(spec.origin)
    emit(result)
    try:
        module = importlib.import_module(name)
    except BaseException as exc:  # ImportError, RuntimeError("NumPy was built with baseline optimizations...")...
        traceback.print_exc()
        result["imported"] = False
        result["error"] = f"{type(exc).__name__}: {exc}"
        emit(result)
        return 1
    result["imported"] = True
    result["version"] = str(getattr(module, "__version__", "")) or None
    if name == "torch":
        result.update(torch_details(module))
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
