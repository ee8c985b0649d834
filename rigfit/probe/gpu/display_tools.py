"""What people paste instead of lspci when asked "which GPU do you have": `inxi -G` (its one-line and its -y1
key-per-line forms) and `lshw -C display`. Both name each GPU's bus address, so they read as lspci devices (pasted
where lspci's output goes, as amd-smi's goes where rocm-smi's does). What they do not print stays unknown: lshw's
"product: amdgpudrmfb" is the framebuffer's name, not a product; a driver named nowhere is not "none bound"."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.lspci import LspciDevice
from rigfit.probe.gpu.paste import parse_bdf

# inxi writes the vendor's short name first: "NVIDIA GP104 [GeForce GTX 1080]", "AMD Cedar [Radeon HD 5000/...]"
_INXI_VENDORS = {
    "NVIDIA": ("10de", "NVIDIA Corporation"),
    "AMD": ("1002", "Advanced Micro Devices, Inc. [AMD/ATI]"),
    "Intel": ("8086", "Intel Corporation"),
}
# a kernel driver binds only its vendor's GPUs: lshw's "driver=nvidia" says NVIDIA even when "vendor:" is missing
_DRIVER_VENDORS = {
    "nvidia": "10de",
    "nouveau": "10de",
    "amdgpu": "1002",
    "radeon": "1002",
    "i915": "8086",
    "xe": "8086",
}
_VENDOR_NAMES = {
    "10de": "NVIDIA Corporation",
    "1002": "Advanced Micro Devices, Inc. [AMD/ATI]",
    "8086": "Intel Corporation",
}
# inxi 3 numbers "Device-1:", inxi 2 (before 2018) "Card-1:"
_INXI_DEVICE = later(
    r"^\s*(?:Graphics:\s+)?(?:Device|Card)-\d+:\s+(?P<desc>.+?)(?=\s+(?:vendor|driver|bus[- ]ID|chip[- ]ID):|$)"
)
# inxi 2 writes the vendor's pci.ids name: "Advanced Micro Devices [AMD/ATI] Ellesmere [...]"
_INXI_LONG_VENDORS = {
    "Advanced Micro Devices [AMD/ATI]": "AMD",
    "Advanced Micro Devices, Inc. [AMD/ATI]": "AMD",
    "NVIDIA Corporation": "NVIDIA",
    "Intel Corporation": "Intel",
}
_INXI_KEY = later(r"\b(?P<key>driver|bus[- ]ID|chip[- ]ID):\s+(?P<value>\S+)")
# the driver's version follows it: "driver: nvidia v: 430.40" ("v: kernel" for in-kernel drivers: no version)
_INXI_DRIVER_VERSION = later(r"\bdriver:\s+\S+\s+v:\s+(?P<ver>\d+\.\d+(?:\.\d+)?)\b")


# hwinfo --gfxcard: "88: PCI 3700.0: 0300 VGA compatible controller (VGA)" opens a device, "key: value" lines follow
_HWINFO_DEVICE = later(r"^\s*\d+: PCI [0-9a-f]+\.\d+: (?P<cls>[0-9a-f]{4}) (?P<name>.+?)(?: \(\w+\))?\s*$")
_HWINFO_ID = later(r'^pci 0x(?P<id>[0-9a-f]{4})(?:\s+"(?P<name>[^"]*)")?')


def is_display_tool(lines: list[str]) -> bool:
    """An inxi Graphics section, lshw display blocks or hwinfo devices, not lspci."""
    return (
        any(_INXI_DEVICE.match(ln) for ln in lines)
        or any(ln.strip() == "*-display" for ln in lines)
        or any(_HWINFO_DEVICE.match(ln) for ln in lines)
    )


def display_tool_devices(lines: list[str]) -> list[LspciDevice]:
    """The GPUs an inxi -G or lshw -C display paste names, with a bus address (one without is not matchable)."""
    if any(ln.strip().startswith("*-display") for ln in lines):
        return _lshw(lines)
    if any(_HWINFO_DEVICE.match(ln) for ln in lines):
        return _hwinfo(lines)
    return _inxi(lines)


def _hwinfo(lines: list[str]) -> list[LspciDevice]:
    """hwinfo --gfxcard: per device "SysFS BusID: 0000:37:00.0", "Vendor: pci 0x8086 "Intel Corporation"", "Device:
    pci 0x56c1", "Driver: "i915"" (when one is bound: a block cut before it leaves the driver unknown)."""
    blocks: list[dict[str, str]] = []
    for line in lines:
        device = _HWINFO_DEVICE.match(line)
        if device:
            blocks.append({"class": device["cls"], "class_name": device["name"]})
            continue
        key, sep, value = line.strip().partition(": ")
        if blocks and sep:
            blocks[-1].setdefault(key, value.strip())
    return [d for d in (_hwinfo_device(b) for b in blocks if b["class"].startswith("03")) if d]


def _hwinfo_device(block: dict[str, str]) -> LspciDevice | None:
    slot = parse_bdf(block.get("SysFS BusID", ""))
    vendor, device = _HWINFO_ID.match(block.get("Vendor", "")), _HWINFO_ID.match(block.get("Device", ""))
    if not slot or not vendor:
        return None
    driver = block.get("Driver", "").strip('"') or None
    model = block.get("Model", "").strip('"')
    return LspciDevice(
        slot=slot,
        class_name=block["class_name"],
        class_code=block["class"],
        description=f"{vendor['name'] or ''} {device['name'] if device and device['name'] else ''}".strip() or model,
        vendor_id=vendor["id"],
        device_id=device["id"] if device else None,
        driver=driver,
    )


def _inxi(lines: list[str]) -> list[LspciDevice]:
    """inxi: "Device-1: <vendor> <chip> [<product>] vendor: ... driver: nvidia v: 430.40 bus ID: 01:00.0"; with
    -y1 the keys follow on their own lines until the next Device-N or Display."""
    return [d for d in (_inxi_device(desc, keys) for desc, keys in _inxi_entries(lines) if desc) if d]


def _inxi_entries(lines: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Each inxi device line's description with its keys ("" for the end of the devices)."""
    found: list[tuple[str, dict[str, str]]] = []
    for line in lines:
        device = _INXI_DEVICE.match(line)
        if device:
            found.append((device["desc"].strip(), {}))
        elif re.match(r"^\s*(Display|API|OpenGL|Monitor-\d+|Screen-\d+):", line) and found:
            found.append(("", {}))  # past the devices: their keys end here
            continue
        if found and found[-1][0]:
            for key in _INXI_KEY.finditer(line):
                found[-1][1].setdefault(key["key"].replace(" ", "-").lower(), key["value"])
            version = _INXI_DRIVER_VERSION.search(line)
            if version:
                found[-1][1].setdefault("driver-version", version["ver"])
            _inxi_multiline_keys(line, found[-1][1])
    return found


def _inxi_multiline_keys(line: str, keys: dict[str, str]) -> None:
    """-y1 prints "bus-ID: 0a:00.0" alone, and "driver: radeon" may be followed by "v: kernel" on the next line."""
    single = re.match(r"^\s*(bus-ID|chip-ID|driver):\s*(\S+)\s*$", line)
    if single:
        keys.setdefault(single[1].lower(), single[2])


def _inxi_device(desc: str, keys: dict[str, str]) -> LspciDevice | None:
    slot = parse_bdf(keys.get("bus-id", ""))
    if not slot:
        return None
    desc = _short_vendor(desc)
    vendor_word = desc.split()[0]
    vendor_id, vendor_name = _INXI_VENDORS.get(vendor_word, (None, vendor_word))
    chip = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", keys.get("chip-id", ""))
    driver = keys.get("driver")
    return LspciDevice(
        slot=slot,
        class_name="Display controller",
        description=f"{vendor_name} {desc[len(vendor_word) :].strip()}",
        vendor_id=(chip[1].lower() if chip else vendor_id),
        device_id=chip[2].lower() if chip else None,
        driver=None if driver in (None, "N/A") else driver,
        driver_version=keys.get("driver-version"),
    )


def _short_vendor(desc: str) -> str:
    """inxi 2's "Advanced Micro Devices [AMD/ATI] Ellesmere [...]" as inxi 3 writes it: "AMD Ellesmere [...]"."""
    for long, short in _INXI_LONG_VENDORS.items():
        if desc.startswith(long + " "):
            return f"{short} {desc[len(long) :].strip()}"
    return desc


def inxi_unaddressed(lines: list[str]) -> list[tuple[str | None, str]]:
    """(vendor id, "<vendor> <chip> [<product>]") of each GPU an inxi paste names without a bus address (inxi -G
    without -x, or a line cut before it): the GPU is there, but no lspci device can stand for it."""
    if any(ln.strip() == "*-display" for ln in lines):
        return []
    found: list[tuple[str | None, str]] = []
    for desc, keys in _inxi_entries(lines):
        if desc and not parse_bdf(keys.get("bus-id", "")):
            short = _short_vendor(desc)
            found.append((_INXI_VENDORS.get(short.split()[0], (None, ""))[0], short))
    return found


def _lshw(lines: list[str]) -> list[LspciDevice]:
    """lshw: "*-display" blocks of "key: value" lines (product, vendor, bus info: pci@0000:01:00.0,
    configuration: ... driver=nvidia ...)."""
    blocks: list[dict[str, str]] = []
    for line in lines:
        if line.strip().startswith("*-"):
            blocks.append({} if line.strip().startswith("*-display") else {"skip": "1"})
            continue
        key, sep, value = line.strip().partition(": ")
        if blocks and sep:
            blocks[-1].setdefault(key.strip(), value.strip())
    return [d for d in (_lshw_device(b) for b in blocks if "skip" not in b) if d]


def _lshw_device(block: dict[str, str]) -> LspciDevice | None:
    slot = parse_bdf(block.get("bus info", "").removeprefix("pci@"))
    if not slot:
        return None
    driver_match = re.search(r"\bdriver=(\S+)", block.get("configuration", ""))
    driver = driver_match[1] if driver_match else None
    vendor_text = block.get("vendor", "")
    vendor_id = next((vid for vid, name in _VENDOR_NAMES.items() if vendor_text.startswith(name.split(",")[0])), None)
    vendor_id = vendor_id or _DRIVER_VENDORS.get(driver or "")
    product = block.get("product", "")
    if product.endswith("fb"):  # "amdgpudrmfb", "efifb": the framebuffer driver's name, not the GPU's
        product = ""
    return LspciDevice(
        slot=slot,
        class_name="Display controller",
        description=f"{_VENDOR_NAMES.get(vendor_id or '', vendor_text)} {product}".strip(),
        vendor_id=vendor_id,
        driver=driver,
    )
