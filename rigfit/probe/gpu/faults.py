"""Broken GPU states in what people paste: the kernel log (KFD refusing a chip or not listing its device id, nouveau
holding an NVIDIA card, ring timeouts and resets, a GPU fallen off the bus, a GPU the driver declared wedged),
rocminfo failing to open /dev/kfd for a reason that is not a permission, and nvidia-smi failing to reach the driver.
Pure functions of text; each fault keeps its evidence line."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.nvidia_smi import NvidiaSmiOutput
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.profile import GpuFault

# (kind, pattern); a named group "detail" is what the line names. First match per kind is kept.
KERNEL_FAULTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kfd_unsupported_asic", later(r"kfd not supported on this ASIC")),
    ("kfd_unsupported_asic", later(r"kfd: amdgpu: (?P<detail>[A-Z][A-Z0-9_]{2,20})\s+not supported in kfd")),
    ("kfd_device_unlisted", later(r"kfd: DID (?P<detail>[0-9a-fA-F]{4}) is missing in supported_devices")),
    ("nouveau_holds_nvidia", later(r"NVRM: nouveau, rivafb, nvidiafb or rivatv")),
    ("nouveau_holds_nvidia", later(r"obtained ownership of the NVIDIA device")),
    ("nvidia_api_mismatch", later(r"NVRM: API mismatch")),
    ("nvidia_fallen_off_bus", later(r"fallen off the bus")),
    ("nvidia_init_failed", later(r"NVRM: GPU (?P<detail>[0-9a-fA-F:.]{7,16}): RmInitAdapter failed")),
    ("nvidia_xid", later(r"NVRM: Xid \(PCI:[0-9a-fA-F:.]{4,20}\): (?P<detail>\d{1,3})\b")),
    ("gpu_ring_timeout", later(r"ring (?P<detail>[a-z0-9_.]{2,24}) timeout, signaled seq")),
    ("gpu_reset", later(r"GPU reset begin")),
    ("gpu_wedged", later(r"has declared device (?P<detail>[0-9a-fA-F:.]{7,16}) as wedged")),
)
# rocminfo: /dev/kfd exists and is readable by the group, yet open() fails: a wedged or refusing KFD, not permissions
_KFD_OPEN = later(
    r"Unable to open /dev/kfd read-write: (?P<detail>Invalid argument|Cannot allocate memory|Bad address)"
)
_PERMISSION = later(r"Unable to open /dev/kfd read-write: (?:Permission denied|No such file)")
_HSA_FAILED = later(r"hsa api call failure|HSA_STATUS_ERROR")
NVIDIA_SMI_FAULTS = {
    "no_driver": "nvidia_smi_no_driver",
    "version_mismatch": "nvml_version_mismatch",
    "nvml_failed": "nvml_failed",
    "no_devices": "nvidia_smi_no_devices",
}


def kernel_faults(text: str | None) -> list[GpuFault]:
    found: dict[str, GpuFault] = {}
    for line in clean_lines(text):
        for kind, pattern in KERNEL_FAULTS:
            match = pattern.search(line) if kind not in found else None
            if match:
                detail = match.groupdict().get("detail")
                found[kind] = GpuFault(kind=kind, evidence=line.strip(), detail=detail)
    return list(found.values())


def rocminfo_faults(text: str | None) -> list[GpuFault]:
    """/dev/kfd refusing to open (not for permissions), or else the HSA runtime failing to start for a reason the
    output does not give ("hsa api call failure ... Call returned 4104"). A permission problem is said elsewhere."""
    failed: list[GpuFault] = []
    for line in clean_lines(text):
        match = _KFD_OPEN.search(line)
        if match:
            return [GpuFault(kind="kfd_open_failed", evidence=line.strip(), detail=match["detail"])]
        if _PERMISSION.search(line):
            return []
        if not failed and _HSA_FAILED.search(line):
            failed.append(GpuFault(kind="hsa_init_failed", evidence=line.strip()))
    return failed


def nvidia_smi_faults(smi: NvidiaSmiOutput, nvidia_gpu_reports_it: bool) -> list[GpuFault]:
    """nvidia-smi's failure, unless an NVIDIA GPU in the profile already carries it (gpu.nvidia_no_driver)."""
    kind = NVIDIA_SMI_FAULTS.get(smi.error or "")
    if kind is None or nvidia_gpu_reports_it:
        return []
    return [GpuFault(kind=kind, evidence=smi.error_line or smi.error or "")]
