"""GPUs named by the other tools people paste when asked "which GPU do you have": any listing that prints a GPU's
PCI vendor:device pair in one of the forms tools share. A kernel modalias ("pci:v000010DEd00000FC1...bc03..." as
`ubuntu-drivers devices` and udevadm print it; bc03 = display class), or the pair itself beside a GPU's name
("GPU Model: AMD Radeon RX 7900 XTX (0x1002:0x744C:0xC8)" from LACT, "Found Card: 1002:73af rev c0 (AMD Radeon RX
6900 XTX)" from Hive OS's AMDMemInfo). A GPU vendor's id is required (NVIDIA, AMD, Intel), so an unrelated pair of
hex words never reads as a GPU. Also `eglinfo -B`: each platform's "OpenGL core profile renderer:" line (a software
renderer like llvmpipe is no GPU). What the listing does not print stays unknown; a VRAM size is read only from a
line that says it is the card's own memory ("VRAM Size:", "Dedicated video memory:")."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines, parse_bdf
from rigfit.probe.gpu.renderers import _SOFTWARE, NamedGpu, _clean_name, _vendor_id

_GPU_VENDORS = ("10de", "1002", "8086")
_FULL_BDF = later(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]")
_MODALIAS = later(r"\bpci:v0000(?P<vendor>[0-9A-Fa-f]{4})d0000(?P<device>[0-9A-Fa-f]{4})\S*?bc03")
_PAIR = later(r"(?<![0-9A-Za-z])(?:0x)?(?P<vendor>10de|1002|8086):(?:0x)?(?P<device>[0-9a-f]{4})(?![0-9a-z])", re.I)
_GPU_WORD = later(r"GPU|Card|Graphics|Radeon|GeForce|Quadro|Tesla|Instinct|Display|VGA|3D", re.I)
_LSPCI_LINE = later(r"^\s*(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\s")
_NAME_IN_PARENS = later(r"\((?P<name>[A-Za-z][^()]*[A-Za-z)\]])\)")
_NAME_BEFORE = later(r"^[\w ]*(?:Model|Name)\s*:\s*(?P<name>[A-Za-z][^()]*?)\s*\(")
_MODEL_LINE = later(r"^\s*model\s*:\s*(?P<name>\S.*?)\s*$")
_OWN_MEMORY = later(r"^\s*(?:VRAM Size|Dedicated video memory)\s*:\s*(?P<mib>\d+)\s*(?:MiB|MB)\b", re.I)
# a whole line that is lspci's name for a device, without its bus address: a desktop's system summary ("NVIDIA
# Corporation GA104 [GeForce RTX 3060 Ti Lite Hash Rate]", Linux Mint's System Reports), lshw's or hwinfo's copy
_PCI_NAME = later(
    r"^\s*(?P<vendor>NVIDIA Corporation|Advanced Micro Devices, Inc\. \[AMD/ATI\]|Intel Corporation) "
    r"(?P<chip>[\w./-]+(?: [\w./-]+){0,3}) \[(?P<name>[^\]]+)\]\s*(?:\(rev [0-9a-f]{2}\))?\s*$"
)
_PCI_VENDORS = {
    "NVIDIA Corporation": ("10de", "NVIDIA"),
    "Advanced Micro Devices, Inc. [AMD/ATI]": ("1002", "AMD"),
    "Intel Corporation": ("8086", "Intel"),
}
_EGL_RENDERER = later(r"^OpenGL (?:core|compatibility) profile renderer:\s*(?P<name>\S.*?)\s*$")
_EGL_NVIDIA = later(r"^OpenGL (?:core|compatibility) profile version:.*?\bNVIDIA (?P<ver>\d{3}\.\d{1,3}(?:\.\d{1,3})?)")


def _pair(line: str) -> re.Match[str] | None:
    """A GPU's ids on this line: a display-class modalias, or a vendor:device pair beside a word that says GPU (a
    uevent's "PCI_ID=8086:1E20" of a sound card says nothing of the kind)."""
    if _LSPCI_LINE.match(line):
        return None  # an lspci device line: lspci's own parser read it and found no GPU there
    found = _MODALIAS.search(line) or (_PAIR.search(line) if _GPU_WORD.search(line) else None)
    return found if found and found["vendor"].lower() in _GPU_VENDORS else None


def _name(line: str) -> str | None:
    for pattern in (_NAME_BEFORE, _NAME_IN_PARENS):
        found = pattern.search(line)
        if found and not _PAIR.search(found["name"]):
            return _clean_name(found["name"])
    return None


def _last_bdf(text: str) -> str | None:
    """The last full bus address: a sysfs path names the bridges above the card first."""
    full = _FULL_BDF.findall(text)
    return parse_bdf(full[-1]) if full else None


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _block_cards(block: list[str]) -> list[NamedGpu]:
    """The cards one paragraph names. A card's ids may come on several lines (LACT's header, then "GPU Model:";
    a uevent's PCI_ID, then MODALIAS): the same ids are one card. With one card in the paragraph, its bus address
    may stand on any of its lines (PCI_SLOT_NAME, "Sysfs Path:", ubuntu-drivers' "== /sys/devices/... ==")."""
    cards: dict[tuple[str, str], NamedGpu] = {}
    current: NamedGpu | None = None
    for line in block:
        pair = _pair(line)
        if pair is None:
            if current is not None:
                _fill(current, line)
            continue
        key = (pair["vendor"].lower(), pair["device"].lower())
        current = cards.setdefault(key, NamedGpu(source="listing", vendor_id=key[0], device_id=key[1]))
        current.bdf = current.bdf or _last_bdf(line[pair.end() :])
        current.name = current.name or _name(line)
    if len(cards) == 1 and current is not None and current.bdf is None:
        current.bdf = next((b for b in map(_last_bdf, reversed(block)) if b), None) or _short_bdf(block)
    return list(cards.values())


def _short_bdf(block: list[str]) -> str | None:
    """AMDMemInfo's "PCI: 0e:00.0"."""
    labelled = (re.match(r"^\s*(?:PCI|Bus)\s*:\s*(?P<bdf>\S+)\s*$", line) for line in block)
    return next((parse_bdf(m["bdf"]) for m in labelled if m), None)


def _id_listing(lines: list[str]) -> list[NamedGpu]:
    return [card for block in _blocks(lines) for card in _block_cards(block)]


def _fill(gpu: NamedGpu, line: str) -> None:
    model = _MODEL_LINE.match(line)
    gpu.name = gpu.name or (_clean_name(model["name"]) if model else None)
    memory = _OWN_MEMORY.match(line)
    gpu.memory_total_mib = gpu.memory_total_mib or (int(memory["mib"]) if memory else None)


def _eglinfo(lines: list[str]) -> list[NamedGpu]:
    names = [m["name"] for m in map(_EGL_RENDERER.match, lines) if m and not _SOFTWARE.search(m["name"])]
    versions = [m["ver"] for m in map(_EGL_NVIDIA.match, lines) if m]
    found: list[NamedGpu] = []
    for name in dict.fromkeys(_clean_name(n) for n in names):
        vendor = _vendor_id(name)
        version = versions[0] if vendor == "10de" and versions else None
        found.append(NamedGpu(source="eglinfo", name=name, vendor_id=vendor, driver_version=version))
    return found


def _pci_names(lines: list[str]) -> list[NamedGpu]:
    """GPUs named by lspci's vendor, chip and [marketing name] on a line of their own (a GPU word in the name)."""
    found: list[NamedGpu] = []
    for line in lines:
        named = _PCI_NAME.match(line)
        if named and _GPU_WORD.search(named["name"]):
            vendor, short = _PCI_VENDORS[named["vendor"]]
            # inxi's shape ("NVIDIA GA104 [GeForce ...]"): the merge reads the chip and the name from it
            name = f"{short} {named['chip']} [{named['name'].strip()}]"
            found.append(NamedGpu(source="inxi", name=name, vendor_id=vendor))
    return found


def parse_id_listings(text: str | None) -> list[NamedGpu]:
    """The GPUs an eglinfo paste, a listing of PCI ids or lspci-style name lines name (none for any other text)."""
    lines = clean_lines(text)
    if any(_EGL_RENDERER.match(ln) for ln in lines):
        return _eglinfo(lines)
    return _id_listing(lines) or _pci_names(lines)
