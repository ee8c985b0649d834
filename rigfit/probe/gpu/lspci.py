"""`lspci` in the forms people run and paste: plain, -nn, -k, -nnk, -v/-vv/-vvv (with or without root), -D, -mm,
-vmm, `lspci | grep VGA`, a header wrapped by the terminal, a first character cut off.

Only what rigfit needs is kept: identity (ids, names, revision), bound driver, PCIe link and AtomicOps capabilities,
and the bridge bus numbers that give each device's path to the CPU.
"""

from __future__ import annotations

import re

from rigfit.kb.display_adapters import display_adapter
from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines, gts, parse_bdf
from rigfit.records import field, record

# slot, class name, [class code], description [vendor:device] (rev xx), e.g. "0000:03:00.0 VGA compatible controller
# [0300]: Advanced Micro Devices, Inc. [AMD/ATI] Navi 23 [Radeon RX 6600/6600 XT/6600M] [1002:73ff] (rev c1)"
# (a paste quoted as an indented block starts even its device lines with tabs or spaces)
_HEADER = later(
    r"^[ \t]*(?P<slot>(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7])\s+"
    r"(?P<cls>[A-Za-z0-9][^:\[\]]*?)(?:\s*\[(?P<cc>[0-9a-fA-F]{4})\])?:\s*(?P<rest>.*)$"
)
# -mm: 01:00.0 "VGA compatible controller [0300]" "NVIDIA Corporation [10de]" "GA106 [...] [2504]" -ra1 ...
_MM = later(r'^(?P<slot>\S+)\s+"(?P<cls>[^"]*)"\s+"(?P<ven>[^"]*)"\s+"(?P<dev>[^"]*)"(?P<rest>.*)$')
_IDS = later(r"\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]")
_REV = later(r"\(rev ([0-9a-fA-F]{1,2})\)")
_PROG_IF = later(r"\s*\(prog-if [^)]*(?:\[[^\]]*\])?\)")
# detail lines whose indentation a paste lost ("Kernel driver in use: nvidia" at column 0)
_UNINDENTED = later(r"^(?:Subsystem|Kernel driver in use|Kernel modules|Flags|Capabilities|LnkCap|LnkSta):")
VENDOR_PREFIXES = (
    ("Advanced Micro Devices, Inc. [AMD/ATI]", "amd"),
    ("ATI Technologies Inc", "amd"),
    ("Advanced Micro Devices, Inc. [AMD]", "amd"),
    ("NVIDIA Corporation", "nvidia"),
    ("Intel Corporation", "intel"),
)
VENDOR_IDS = {"1002": "amd", "1022": "amd", "10de": "nvidia", "8086": "intel"}
# an old pci.ids names a new card only by its number: "[AMD/ATI] Device 73df", "NVIDIA Corporation Device 1db6"
_UNNAMED = later(r"\bDevice ([0-9a-fA-F]{4})$")
_PREFIX_IDS = {
    "Advanced Micro Devices, Inc. [AMD/ATI]": "1002",
    "ATI Technologies Inc": "1002",
    "NVIDIA Corporation": "10de",
}


@record
class LspciDevice:
    slot: str  # "0000:03:00.0"
    class_name: str | None = None  # "VGA compatible controller"
    class_code: str | None = None  # "0300" (-nn only)
    description: str = ""  # vendor and device text as lspci names them
    vendor_id: str | None = None
    device_id: str | None = None
    revision: str | None = None  # "c1"
    subsystem: str | None = None
    driver: str | None = None
    driver_version: str | None = None  # inxi's "driver: nvidia v: 430.40" (lspci prints none)
    modules: list[str] = field(default_factory=list)
    verbose: bool = False  # the paste had detail lines for this device (-v/-k): no driver line then means none bound
    express_type: str | None = None  # "Root Port", "Upstream Port", "Downstream Port", "Endpoint", "Legacy Endpoint"
    link_cap: tuple[float | None, int | None] | None = None  # (GT/s, width) the port supports
    link_sta: tuple[float | None, int | None] | None = None  # (GT/s, width) negotiated now
    atomic_routing: bool | None = None  # AtomicOpsCap "Routing+"
    atomic_32: bool | None = None
    atomic_64: bool | None = None
    atomic_egress_blocked: bool | None = None  # AtomicOpsCtl "EgressBlck+"
    secondary_bus: int | None = None  # bridges: the bus behind them
    subordinate_bus: int | None = None
    caps_denied: bool = False  # "Capabilities: <access denied>": lspci ran without root, PCIe details unknown

    @property
    def vendor(self) -> str | None:
        if self.vendor_id:
            return VENDOR_IDS.get(self.vendor_id, self.vendor_id)
        for prefix, name in VENDOR_PREFIXES:
            if self.description.startswith(prefix):
                return name
        return None

    @property
    def device_name(self) -> str:
        """Device part of the description: 'Navi 23 [Radeon RX 6600/6600 XT/6600M]'."""
        text = self.description
        for prefix, _ in VENDOR_PREFIXES:
            if text.startswith(prefix):
                return text[len(prefix) :].strip()
        return text

    @property
    def product_name(self) -> str | None:
        """The device part when pci.ids names a product in it ('Vega 10 [Radeon PRO WX 8100]'); None for a bare chip
        or number ('Device 73df')."""
        name = self.device_name
        return name if re.search(r"\[[^\]]*[A-Za-z]{2}[^\]]*\]", name) and not name.startswith("[") else None

    @property
    def pci_id(self) -> str | None:
        return f"{self.vendor_id}:{self.device_id}" if self.vendor_id and self.device_id else None

    @property
    def is_gpu(self) -> bool:
        """Display controller (class 03xx) or processing accelerator (1200) of a GPU vendor; not WSL's adapter."""
        if self.is_wsl_adapter:
            return False
        if self.class_code:
            return self.class_code.startswith("03") or (self.class_code == "1200" and self.vendor in ("amd", "nvidia"))
        name = (self.class_name or "").lower()
        return any(k in name for k in ("vga compatible", "3d controller", "display controller")) or (
            "processing accelerator" in name and self.vendor in ("amd", "nvidia")
        )

    @property
    def is_wsl_adapter(self) -> bool:
        """WSL 2's virtual GPU (Microsoft, 1414: "3D controller: Microsoft Corporation Basic Render Driver"): the
        Windows driver's bridge to whatever GPU the host has, not a GPU of its own."""
        microsoft = self.vendor_id == "1414" or self.description.startswith("Microsoft Corporation")
        # Hyper-V's virtual VGA is Microsoft's too: a VM's display adapter (kb/display_adapters.yaml), not WSL's
        ids = f"{self.vendor_id}:{self.device_id}" if self.vendor_id and self.device_id else None
        return microsoft and display_adapter(ids, self.description) is None

    @property
    def bus(self) -> int:
        return int(self.slot.split(":")[1], 16)


def _header(dev: LspciDevice, rest: str) -> None:
    rev = _REV.search(rest)
    if rev:
        dev.revision = rev[1].lower().zfill(2)
        rest = rest[: rev.start()] + rest[rev.end() :]
    rest = _PROG_IF.sub("", rest)
    ids = _IDS.findall(rest)
    if ids:
        dev.vendor_id, dev.device_id = ids[-1][0].lower(), ids[-1][1].lower()
        rest = rest[: rest.rfind("[" + ids[-1][0])]
    dev.description = rest.strip()
    unnamed = _UNNAMED.search(dev.description)
    vendor_id = next((i for prefix, i in _PREFIX_IDS.items() if dev.description.startswith(prefix)), None)
    if dev.device_id is None and unnamed and vendor_id:
        dev.vendor_id, dev.device_id = vendor_id, unnamed[1].lower()


def _flag(text: str, name: str) -> bool | None:
    match = re.search(rf"\b{name}([+-])", text)
    return None if not match else match[1] == "+"


def _link(text: str) -> tuple[float | None, int | None]:
    width = re.search(r"Width x(\d+)", text)
    return gts(text), int(width[1]) if width else None


def _detail(dev: LspciDevice, line: str) -> None:
    text = line.strip()
    key, _, value = text.partition(":")
    key = key.strip()
    if key == "Kernel driver in use":
        dev.driver = value.strip() or None
    elif key == "Kernel modules":
        dev.modules = [m.strip() for m in value.split(",") if m.strip()]
    elif key == "Subsystem":
        dev.subsystem = value.strip()
    elif key == "LnkCap":
        dev.link_cap = _link(value)
    elif key == "LnkSta":
        dev.link_sta = _link(value)
    elif key == "AtomicOpsCap":
        dev.atomic_routing = _flag(value, "Routing")
        dev.atomic_32 = _flag(value, "32bit")
        dev.atomic_64 = _flag(value, "64bit")
    elif key == "AtomicOpsCtl":
        dev.atomic_egress_blocked = _flag(value, "EgressBlck")
    elif key == "Bus":
        sec = re.search(r"secondary=([0-9a-fA-F]{2})", value)
        sub = re.search(r"subordinate=([0-9a-fA-F]{2})", value)
        dev.secondary_bus = int(sec[1], 16) if sec else None
        dev.subordinate_bus = int(sub[1], 16) if sub else None
    elif key.startswith("Capabilities"):
        if "<access denied>" in value:
            dev.caps_denied = True
        express = re.search(
            r"Express \(v\d\) (Root Port|Upstream Port|Downstream Port|Legacy Endpoint|Endpoint)", value
        )
        if express:
            dev.express_type = express[1]


def _vmm(lines: list[str]) -> list[LspciDevice]:
    """lspci -vmm[nn]: blocks of "Key:\\tvalue" lines."""
    devices: list[LspciDevice] = []
    current: dict[str, str] = {}
    for line in [*lines, ""]:
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("Slot", "Class", "Vendor", "Device", "Rev", "SVendor", "SDevice", "Driver"):
            current[key.strip()] = value.strip()
            continue
        if not line.strip() and current.get("Slot"):
            slot = parse_bdf(current["Slot"])
            if slot:
                dev = LspciDevice(slot=slot, class_name=re.sub(r"\s*\[[0-9a-f]{4}\]$", "", current.get("Class", "")))
                cc = re.search(r"\[([0-9a-fA-F]{4})\]$", current.get("Class", ""))
                dev.class_code = cc[1].lower() if cc else None
                ven = re.search(r"\[([0-9a-fA-F]{4})\]$", current.get("Vendor", ""))
                did = re.search(r"\[([0-9a-fA-F]{4})\]$", current.get("Device", ""))
                dev.vendor_id = ven[1].lower() if ven else None
                dev.device_id = did[1].lower() if did else None
                vendor_text = re.sub(r"\s*\[[0-9a-f]{4}\]$", "", current.get("Vendor", ""))
                device_text = re.sub(r"\s*\[[0-9a-f]{4}\]$", "", current.get("Device", ""))
                dev.description = f"{vendor_text} {device_text}".strip()
                dev.revision = current.get("Rev", "").lower().zfill(2) if current.get("Rev") else None
                dev.driver = current.get("Driver")
                devices.append(dev)
            current = {}
    return devices


def _mm_device(mm: re.Match[str], slot: str) -> LspciDevice:
    """A device from an `lspci -mm` line: quoted class, vendor and device, each with its [id] under -nn."""
    cls = re.sub(r"\s*\[([0-9a-fA-F]{4})\]$", "", mm["cls"])
    device = LspciDevice(slot=slot, class_name=cls.strip())
    code = re.search(r"\[([0-9a-fA-F]{4})\]$", mm["cls"])
    device.class_code = code[1].lower() if code else None
    ven_id = re.search(r"\[([0-9a-fA-F]{4})\]$", mm["ven"])
    dev_id = re.search(r"\[([0-9a-fA-F]{4})\]$", mm["dev"])
    device.vendor_id = ven_id[1].lower() if ven_id else None
    device.device_id = dev_id[1].lower() if dev_id else None
    ven_text = re.sub(r"\s*\[[0-9a-fA-F]{4}\]$", "", mm["ven"])
    dev_text = re.sub(r"\s*\[[0-9a-fA-F]{4}\]$", "", mm["dev"])
    device.description = f"{ven_text} {dev_text}".strip()
    rev = re.search(r"-r([0-9a-fA-F]{2})\b", mm["rest"])
    device.revision = rev[1].lower() if rev else None
    return device


def _continuation(current: LspciDevice, line: str, wrapped: bool) -> None:
    """A line below a device header: one of its details, or the rest of a header the terminal wrapped."""
    if line.strip() and (line[:1] in ("\t", " ") or _UNINDENTED.match(line)):
        current.verbose = True
        _detail(current, line)
    elif wrapped and line.strip() and not line.startswith(("-", "+", "\\", "|")):
        # the terminal wrapped a long header: "...560X\n] (rev cf) (prog-if 00 [VGA controller])"
        _header(current, current.description + line.strip())


def parse_lspci(text: str | None) -> list[LspciDevice]:
    """Every device lspci printed, in order. Never raises; what a line does not say stays None."""
    lines = clean_lines(text)
    if any(re.match(r"^Slot:\s", ln) for ln in lines):
        return _vmm(lines)
    from rigfit.probe.gpu.display_tools import display_tool_devices, is_display_tool  # it builds LspciDevice

    if is_display_tool(lines):
        return display_tool_devices(lines)
    devices: list[LspciDevice] = []
    current: LspciDevice | None = None
    wrapped = False  # the previous line was a header the terminal may have wrapped
    for line in lines:
        mm = _MM.match(line)
        header = None if mm else _HEADER.match(line)
        head = mm or header
        slot = parse_bdf(head["slot"]) if head else None
        if mm and slot:
            current = _mm_device(mm, slot)
            devices.append(current)
            wrapped = False
        elif header and slot:
            current = LspciDevice(slot=slot, class_name=header["cls"].strip())
            current.class_code = header["cc"].lower() if header["cc"] else None
            _header(current, header["rest"])
            devices.append(current)
            wrapped = "(rev" not in header["rest"] and not _IDS.search(header["rest"])
        else:
            if current is not None:
                _continuation(current, line, wrapped)
            wrapped = False
    _last_block_may_be_cut(devices)
    return devices


def _last_block_may_be_cut(devices: list[LspciDevice]) -> None:
    """`lspci -v` ends each block with its kernel driver and modules; a paste whose last block has neither was cut
    before them (the driver is unknown), unlike a block that another device follows."""
    if devices and devices[-1].verbose and devices[-1].driver is None and not devices[-1].modules:
        devices[-1].verbose = False


def path_to_cpu(device: LspciDevice, devices: list[LspciDevice]) -> list[LspciDevice] | None:
    """The bridges between `device` and the CPU, nearest first; None when the paste does not show them all."""
    by_secondary = {d.secondary_bus: d for d in devices if d.secondary_bus is not None}
    path: list[LspciDevice] = []
    bus = device.bus
    while bus != 0 or not path:
        bridge = by_secondary.get(bus)
        if bridge is None:
            return path if path and path[-1].express_type == "Root Port" else None
        if bridge in path:  # a loop in garbage input
            return None
        path.append(bridge)
        if bridge.express_type == "Root Port":
            return path
        bus = bridge.bus
    return path or None


def atomics_path_ok(device: LspciDevice, devices: list[LspciDevice]) -> bool | None:
    """Whether PCIe AtomicOps can reach the CPU from `device`, by the kernel's rule (pci_enable_atomic_ops_to_root):
    every switch port routes them, no upstream port blocks them on egress, the root port completes 32 and 64 bit.
    None when the paste lacks a port's capability lines (no root, old pciutils, bridges not pasted)."""
    path = path_to_cpu(device, devices)
    if not path:
        return None
    unknown = False
    for port in path:
        if port.express_type in ("Upstream Port", "Downstream Port"):
            if port.atomic_routing is False or (port.express_type == "Upstream Port" and port.atomic_egress_blocked):
                return False
            unknown |= port.atomic_routing is None
        elif port.express_type == "Root Port":
            if port.atomic_32 is False or port.atomic_64 is False:
                return False
            unknown |= port.atomic_32 is None or port.atomic_64 is None
        else:
            unknown = True
    return None if unknown else True
