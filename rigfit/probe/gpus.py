"""GPUs before any driver stack is known to work.

Sources: sysfs PCI, KFD topology, DRM, lspci, rocminfo, rocm-smi, nvidia-smi, the kernel log.
"""

from __future__ import annotations

from collections.abc import Callable

from rigfit.probe.profile import Finding, Profile
from rigfit.probe.source import CommandSpec, Source

COMMANDS = (
    CommandSpec("lspci", ("lspci", "-nnvvv")),
    CommandSpec("rocminfo", ("rocminfo",)),
    CommandSpec("rocm-smi", ("rocm-smi",)),
    CommandSpec("nvidia-smi", ("nvidia-smi",)),
    CommandSpec("dmesg", ("dmesg",), fallback=("journalctl", "-k", "-b", "--no-pager")),
    CommandSpec("hipconfig", ("hipconfig", "--version")),
)


def probe_gpus(source: Source, profile: Profile, warn: Callable[[str], None]) -> None:
    """Fill profile.gpus, nvidia_driver, cuda_driver_version, pcie_atomics_rejected and rocm."""  # STUB


def gpu_findings(profile: Profile) -> list[Finding]:
    return []
