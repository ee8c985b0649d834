"""The system CUDA toolkit: the release `nvcc --version` names ("Cuda compilation tools, release 12.4, V12.4.131").

It is not the driver's CUDA (nvidia-smi's "CUDA Version") nor torch's own CUDA: a compiler for building extensions.
"""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.source import CommandSpec, Source

NVCC = CommandSpec("nvcc", ("nvcc", "--version"))
COMMANDS = (NVCC,)
_RELEASE = later(r"Cuda compilation tools, release (\d+\.\d+)\b|^(\d+\.\d+)$")


def parse_nvcc_release(text: str) -> str | None:
    """ "12.4" from nvcc --version's output (or the bare release a paste's nvcc line gave); None when absent."""
    for line in text.splitlines():
        match = _RELEASE.search(line.strip())
        if match:
            return match[1] or match[2]
    return None


def probe_cuda_toolkit(source: Source) -> str | None:
    """The toolkit release; None when nvcc is not on PATH, not in the capture or paste: unknown, no warning (most
    machines running a torch wheel have no toolkit, and need none)."""
    result = source.run(NVCC)
    return parse_nvcc_release(result.output or "") if result.ok else None
