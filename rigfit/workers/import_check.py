"""Import one module in this interpreter and report how it went (argv[1] = module name).

Run once per package, in its own process, so a SIGILL or a segfault names the package that caused it.
Warnings are kept: NumPy 1.x/2.x and xFormers/torch mismatches often surface as warnings, not exceptions.
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings

from worker_io import emit, error_text, progress


class ImportTrace:
    """Announce each top-level package as its import starts: when a native library kills the process (SIGILL,
    segfault), the last package announced is the one whose code was running."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        top = name.partition(".")[0]
        if top not in self.seen and not top.startswith("_"):
            self.seen.add(top)
            progress(importing=top)
        return None  # let the real finders find it


def torch_facts(torch: object) -> dict:
    """Build facts of an imported torch (no device work)."""
    version = getattr(torch, "version", None)
    facts = {"cuda": getattr(version, "cuda", None), "hip": getattr(version, "hip", None)}
    try:
        facts["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception as exc:
        facts["cpu_capability_error"] = error_text(exc)
    return facts


def main() -> None:
    module = sys.argv[1]
    sys.meta_path.insert(0, ImportTrace())
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mod = importlib.import_module(module)
            error = None
        except BaseException as exc:  # ImportError, RuntimeError (numpy baseline check), OSError (missing .so)...
            mod, error = None, error_text(exc)
    result = {
        "module": module,
        "ok": error is None,
        "error": error,
        "version": str(getattr(mod, "__version__", "")) or None,
        "seconds": round(time.perf_counter() - start, 3),
        "warnings": [f"{w.category.__name__}: {w.message}"[:500] for w in caught][:8],
    }
    if module == "torch" and mod is not None:
        result["torch"] = torch_facts(mod)
    emit(result)


if __name__ == "__main__":
    main()
