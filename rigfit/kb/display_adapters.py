"""display_adapters.yaml: display adapters that compute nothing (hypervisors' virtual VGA, servers' BMC graphics).

They are display-class PCI devices like a GPU, so GPU listings show them; doctor must not plan on them, and a machine
whose only display adapter is one has no GPU for Stable Diffusion.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.records import field, record


@record(frozen=True, kw_only=True)
class DisplayAdapter(KbEntry):
    """One display-only adapter: a hypervisor's virtual VGA or a BMC's graphics."""

    kind: Literal["virtual", "bmc"]
    platform: str  # "VMware", "QEMU/KVM (Proxmox, libvirt)", "the server's ASPEED management controller"
    vendor_id: str  # "15ad"
    devices: list[str] = field(default_factory=list)  # "0405"
    names: list[str] = field(default_factory=list)  # product names as tools print them without ids


@functools.cache
def display_adapters() -> tuple[DisplayAdapter, ...]:
    return load_entries("display_adapters.yaml", DisplayAdapter)


def display_adapter(pci_id: str | None, name: str | None) -> DisplayAdapter | None:
    """The display-only adapter a GPU listing's entry is, by its PCI id ("15ad:0405") or, without one, its name."""
    vendor, _, device = (pci_id or "").lower().partition(":")
    for entry in display_adapters():
        if pci_id and vendor == entry.vendor_id and device in entry.devices:
            return entry
        if not pci_id and name and any(_phrase(n).search(name) for n in entry.names):
            return entry
    return None


def _phrase(words: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(words)}(?![A-Za-z0-9])", re.I)
