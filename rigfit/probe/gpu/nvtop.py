"""nvtop's text screen, as people copy it from the terminal: one header per device, "Device 0 [NVIDIA GeForce RTX
4090] PCIe GEN 1@16x RX: ...", and below it a meter line whose "MEM[|||   4.185Gi/23.988Gi]" gives the memory in use
and the total. With two columns (a wide terminal) one line holds two headers and the meter line two MEM gauges, in
the same order. Read as the device's index, name and total memory (nvtop's Gi/Mi are binary units: GiB, MiB);
nothing else (no driver, no PCI id). Source: Syllo/nvtop src/interface.c (the device header and the MEM gauge), as
printed in Comfy-Org/ComfyUI#6778 (tests/fixtures/SOURCES.md, round heldd17)."""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.records import record

_HEADER = later(r"\bDevice (?P<idx>\d+) \[(?P<name>[^\]]+)\] (?:PCIe|Integrated|GPU|RX:)")
_MEM = later(r"\bMEM\[[|\s]*(?P<used>[\d.]+)(?P<uunit>[GM])i/(?P<total>[\d.]+)(?P<unit>[GM])i\]")


@record
class NvtopDevice:
    index: int
    name: str
    memory_total_mib: int | None = None


def parse_nvtop(lines: list[str]) -> list[NvtopDevice]:
    """nvtop's devices, each with the total of the first MEM gauge in its column after its header."""
    devices: list[NvtopDevice] = []
    column: list[NvtopDevice] = []  # the devices of the last header line, left to right
    for line in lines:
        headers = list(_HEADER.finditer(line))
        if headers:
            column = [NvtopDevice(int(h["idx"]), h["name"].strip()) for h in headers]
            devices += [d for d in column if all(d.index != seen.index for seen in devices)]
            continue
        for device, gauge in zip(column, _MEM.finditer(line), strict=False):
            if device.memory_total_mib is None:
                total = float(gauge["total"])
                device.memory_total_mib = round(total * 1024) if gauge["unit"] == "G" else round(total)
    return devices
