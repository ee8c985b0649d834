"""Driver and runtime version files: the NVIDIA kernel module, the ROCm install, HIP, HSA_OVERRIDE_GFX_VERSION."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines, gfx_from_version

# the kernel log's "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 ..." (or "NVIDIA UNIX Open
# Kernel Module for x86_64  570.158.01"): the driver this boot loaded
_LOADING = later(r"NVRM: loading NVIDIA .*?Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)\b")
# nvidia-modeset.ko ships in the same driver package as nvidia.ko, so its version is the driver's: "nvidia-modeset:
# Loading NVIDIA UNIX Open Kernel Mode Setting Driver for x86_64  570.172.08  Release Build" ("... Kernel Mode
# Setting Driver for UNIX platforms  535.54.03" from the proprietary module)
_MODESET = later(
    r"nvidia-modeset: Loading NVIDIA .*?Kernel Mode Setting Driver for \S+(?: platforms)?\s+(\d+\.\d+(?:\.\d+)?)\b"
)


def _first_version(text: str | None, *patterns: str) -> str | None:
    """Group 1 of the first line one of `patterns` finds (tried in order on each line)."""
    for line in clean_lines(text):
        for pattern in patterns:
            match = re.search(pattern, line)
            if match:
                return match[1]
    return None


def nvidia_module_version(text: str | None) -> str | None:
    """/proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.40.07  ...", also the
    "Open Kernel Module for x86_64" form) or /sys/module/nvidia/version ("550.40.07")."""
    return _first_version(
        text, r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)\b", r"^\s*(\d{3}\.\d+(?:\.\d+)?)\s*$"
    )


def nvidia_module_loaded(kernel_log: str | None) -> str | None:
    """The driver version the kernel log's last NVRM "loading" line names (a journal may span module reloads), else
    the one nvidia-modeset's "Loading" line names."""
    found = modeset = None
    for line in clean_lines(kernel_log):
        match = _LOADING.search(line) if "NVRM: loading" in line else None
        found = match[1] if match else found
        shown = _MODESET.search(line) if "nvidia-modeset: Loading" in line else None
        modeset = shown[1] if shown else modeset
    return found or modeset


def rocm_version(text: str | None) -> str | None:
    """/opt/rocm/.info/version: "6.2.4-120" or "5.3.0" -> "6.2.4" / "5.3.0"."""
    return _first_version(text, r"^\s*(\d+\.\d+(?:\.\d+)?)")


def hip_version(text: str | None) -> str | None:
    """`hipconfig --version`: "6.2.41134-65d174c3e" -> "6.2.41134"; garbage -> None."""
    return _first_version(text, r"^\s*(\d+\.\d+(?:\.\d+)?)(?:-\S*)?\s*$")


def override_gfx(value: str | None) -> str | None:
    """HSA_OVERRIDE_GFX_VERSION "10.3.0" -> "gfx1030": the ISA every AMD GPU then pretends to be. None if malformed
    (ROCm then ignores it)."""
    match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{1,2})\s*", value or "")
    if not match or int(match[2]) > 15 or int(match[3]) > 15:
        return None
    return gfx_from_version(int(match[1]), int(match[2]), int(match[3]))
