"""AMD KFD topology: /sys/class/kfd/kfd/topology/nodes/<n>/properties ("key value" lines, decimal numbers).

gfx_target_version is major*10000 + minor*100 + stepping (100302 -> gfx1032, 90010 -> gfx90a); 0 marks a CPU node.
location_id is the PCI bus/device/function (bus << 8 | device << 3 | function), domain is a separate key.
KFD lists the hardware as it is: HSA_OVERRIDE_GFX_VERSION acts later, in the user-space runtime.
"""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import bdf, clean_lines, gfx_from_version
from rigfit.records import record

# KFD prints plain ASCII decimals; str.isdigit() would also let "²" or "٣" through, and int() rejects "--5"
_NUMBER = later(r"-?[0-9]{1,20}")


@record(frozen=True)
class KfdNode:
    node: int
    gfx: str | None  # None on CPU nodes
    vendor_id: str | None  # "1002"
    device_id: str | None  # "73ff"
    bdf: str | None
    render_minor: int | None  # /dev/dri/renderD<minor>

    @property
    def pci_id(self) -> str | None:
        return f"{self.vendor_id}:{self.device_id}" if self.vendor_id and self.device_id else None


def parse_properties(text: str | None) -> dict[str, int]:
    """'key value' lines -> {key: int}; lines that are not a key and a decimal number are skipped."""
    values: dict[str, int] = {}
    for line in clean_lines(text):
        parts = line.split()
        if len(parts) == 2 and _NUMBER.fullmatch(parts[1]):
            values[parts[0]] = int(parts[1])
    return values


def gfx_from_target_version(version: int | None) -> str | None:
    """100302 -> 'gfx1032'; None for 0 (a CPU node) or nonsense."""
    if not version or version < 0 or version > 999999:
        return None
    major, minor, stepping = version // 10000, version // 100 % 100, version % 100
    if minor > 15 or stepping > 15:
        return None
    return gfx_from_version(major, minor, stepping)


def parse_node(node: int, properties: str | None) -> KfdNode | None:
    """A GPU node, or None for a CPU node / unreadable properties."""
    props = parse_properties(properties)
    gfx = gfx_from_target_version(props.get("gfx_target_version"))
    if gfx is None and props.get("simd_count", 0) == 0:
        return None
    location = props.get("location_id")
    return KfdNode(
        node=node,
        gfx=gfx,
        vendor_id=f"{props['vendor_id']:04x}" if props.get("vendor_id") else None,
        device_id=f"{props['device_id']:04x}" if props.get("device_id") else None,
        bdf=bdf(props.get("domain", 0), location >> 8, (location >> 3) & 0x1F, location & 0x7) if location else None,
        render_minor=props.get("drm_render_minor"),
    )
