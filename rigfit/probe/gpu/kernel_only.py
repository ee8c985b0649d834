"""GPUs the kernel log names but no tool listed: KFD's "skipped device 1002:67df, PCI rejects atomics" is often the
only line a person pastes about the card ROCm refused, and "kfd kfd: added device 1002:6fdf" the only one about a
card ROCm took (pasted beside a rocminfo that failed). Such a GPU goes into the profile with its KB name and gfx, so
the report and the plan can say what it is and why it is not used."""

from __future__ import annotations

from rigfit.kb.gpus import VENDORS, lookup_pci
from rigfit.probe.gpu.kernel_log import KernelLog
from rigfit.probe.profile import GpuInfo


def gpus_only_in_kernel_log(gpus: list[GpuInfo], kernel: KernelLog) -> list[GpuInfo]:
    """One GpuInfo per PCI id KFD rejected for atomics or added that no merged GPU carries (or could be: an AMD GPU
    without a PCI id may be the same card, so nothing is added then)."""
    if any(g.vendor == "amd" and g.pci_id is None for g in gpus):
        return []
    known = {g.pci_id for g in gpus}
    verdicts = {ident: True for ident in kernel.atomics_rejected}
    for ident in kernel.kfd_added:
        verdicts.setdefault(ident, False)
    return [_kernel_gpu(ident, rejected) for ident, rejected in verdicts.items() if ident not in known]


def _kernel_gpu(ident: str, atomics_rejected: bool) -> GpuInfo:
    vendor_id, device_id = ident.split(":")
    model = lookup_pci(vendor_id, device_id)
    return GpuInfo(
        vendor=VENDORS.get(vendor_id, vendor_id),
        name=model.name_for(device_id) if model else None,
        pci_id=ident,
        gfx=model.gfx if model else None,
        family=model.family if model else None,
        integrated=model.integrated if model else None,
        atomics_rejected=atomics_rejected,
        sources=["kernel-log"],
    )
