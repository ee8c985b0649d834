"""How fast `rigfit build-torch --check` reads a disassembly: objdump alone, then objdump + rigfit's scan, on one
shared library (default: the largest .so in rigfit's own venv). Prints seconds and disassembly lines per second.

    .venv/bin/python benchmarks/isa_scan_speed.py [path/to/lib.so] [target]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rigfit.kb.torch_source import find_isa_target  # noqa: E402
from rigfit.recipes.torch_build.check import missing_extensions  # noqa: E402
from rigfit.recipes.torch_build.isa_check import ScanResult, scan_file  # noqa: E402


def main() -> None:
    libs = sorted((REPO / ".venv").rglob("*.so"), key=lambda p: p.stat().st_size)
    lib = Path(sys.argv[1]) if len(sys.argv) > 1 else libs[-1]
    target = find_isa_target(sys.argv[2] if len(sys.argv) > 2 else "westmere")
    assert target is not None
    argv = ["objdump", "-d", "-C", "--no-show-raw-insn", str(lib)]
    start = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        lines = sum(1 for _ in proc.stdout)
    objdump_s = time.perf_counter() - start
    start = time.perf_counter()
    result = ScanResult()
    scan_file(lib, lib.name, missing_extensions(target), result)
    scan_s = time.perf_counter() - start
    print(f"{lib} ({lib.stat().st_size / 2**20:.1f} MiB, {lines / 1e6:.2f} M lines) for {target.id}")
    print(f"objdump alone:      {objdump_s:6.1f} s ({lines / objdump_s / 1e6:.2f} M lines/s)")
    print(f"objdump + scan:     {scan_s:6.1f} s ({lines / scan_s / 1e6:.2f} M lines/s)")
    print(f"offending functions: {len(result.offenders)}, dispatch copies skipped: {result.dispatch_functions}")


if __name__ == "__main__":
    main()
