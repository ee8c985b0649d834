"""PCI devices as sysfs shows them, read through a Source (live machine or capture).

/sys/bus/pci/devices/<bdf>/{class,vendor,device,revision,subsystem_*,current_link_*,max_link_*} and the `driver`
symlink; /sys/class/drm/card<N>/device/{uevent,mem_info_vram_total,mem_info_gtt_total} for amdgpu memory sizes.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rigfit.probe.gpu.paste import gts, hex4, parse_bdf
from rigfit.probe.source import Source
from rigfit.records import record

PCI_DEVICES = "/sys/bus/pci/devices"
GPU_VENDORS = ("1002", "10de")


@record
class SysfsPciDevice:
    bdf: str
    class_code: str  # "030000"
    vendor_id: str | None
    device_id: str | None
    revision: str | None
    subsystem_id: str | None
    driver: str | None  # None: no driver bound (the driver link is absent)
    link_speed: float | None
    link_width: int | None
    max_link_speed: float | None
    max_link_width: int | None
    parents: list[str]  # bridges from the CPU down to this device (from the device's sysfs path)

    @property
    def pci_id(self) -> str | None:
        return f"{self.vendor_id}:{self.device_id}" if self.vendor_id and self.device_id else None

    @property
    def is_gpu(self) -> bool:
        return self.class_code.startswith("03") or (
            self.class_code.startswith("1200") and self.vendor_id in GPU_VENDORS
        )


@record
class DrmCard:
    card: str  # "card0"
    bdf: str | None
    driver: str | None
    pci_id: str | None
    vram_bytes: int | None
    gtt_bytes: int | None


def _read(source: Source, path: str) -> str | None:
    result = source.read_text(path)
    return result.text.strip() if result.text is not None else None


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def pci_device(source: Source, slot: str) -> SysfsPciDevice | None:
    base = f"{PCI_DEVICES}/{slot}"
    cls = (_read(source, f"{base}/class") or "").lower().removeprefix("0x")
    if not cls:
        return None
    link = source.readlink(base) or ""
    parents = [p for p in link.split("/") if parse_bdf(p) == p and p != slot]
    driver = source.readlink(f"{base}/driver")
    width, max_width = _read(source, f"{base}/current_link_width"), _read(source, f"{base}/max_link_width")
    sub_ven, sub_dev = hex4(_read(source, f"{base}/subsystem_vendor")), hex4(_read(source, f"{base}/subsystem_device"))
    revision = hex4(_read(source, f"{base}/revision"))
    return SysfsPciDevice(
        bdf=slot,
        class_code=cls,
        vendor_id=hex4(_read(source, f"{base}/vendor")),
        device_id=hex4(_read(source, f"{base}/device")),
        revision=revision[2:] if revision else None,
        subsystem_id=f"{sub_ven}:{sub_dev}" if sub_ven and sub_dev else None,
        driver=os.path.basename(driver) if driver else None,
        link_speed=gts(_read(source, f"{base}/current_link_speed")),
        link_width=_int(width),
        max_link_speed=gts(_read(source, f"{base}/max_link_speed")),
        max_link_width=_int(max_width),
        parents=parents,
    )


def pci_gpus(source: Source, warn: Callable[[str], None]) -> tuple[list[SysfsPciDevice], dict[str, SysfsPciDevice]]:
    """(GPU devices, the bridges above them by BDF): the bridges give on-card switches and the slot's link.
    Only each device's class is read for the rest of the bus, so captures stay small."""
    slots = [s for s in source.list_dir(PCI_DEVICES) if parse_bdf(s) == s]
    classes = {slot: (_read(source, f"{PCI_DEVICES}/{slot}/class") or "").lower().removeprefix("0x") for slot in slots}
    if slots and not any(classes.values()):
        warn(f"{PCI_DEVICES} lists devices but none could be read; GPU ids come from the tools' outputs only")
    gpus = [
        dev
        for slot, cls in classes.items()
        if (cls.startswith("03") or cls.startswith("1200")) and (dev := pci_device(source, slot)) is not None
    ]
    gpus = [g for g in gpus if g.is_gpu]
    bridges = {p: dev for g in gpus for p in g.parents if p in classes and (dev := pci_device(source, p)) is not None}
    return gpus, bridges


def drm_cards(source: Source) -> list[DrmCard]:
    cards = []
    for path in source.glob("/sys/class/drm/card*"):
        name = os.path.basename(path)
        if not name[4:].isdigit():  # card0-DP-1 and friends are connectors
            continue
        uevent = dict(
            line.split("=", 1) for line in (_read(source, f"{path}/device/uevent") or "").splitlines() if "=" in line
        )
        link = source.readlink(f"{path}/device")
        slot = parse_bdf(uevent.get("PCI_SLOT_NAME")) or parse_bdf(os.path.basename(link) if link else None)
        cards.append(
            DrmCard(
                card=name,
                bdf=slot,
                driver=uevent.get("DRIVER"),
                pci_id=uevent.get("PCI_ID", "").lower() or None,
                vram_bytes=_int(_read(source, f"{path}/device/mem_info_vram_total")),
                gtt_bytes=_int(_read(source, f"{path}/device/mem_info_gtt_total")),
            )
        )
    return cards
