"""`amd-smi static` and `amd-smi list` (ROCm 6+, where amd-smi replaces rocm-smi), read into rocm-smi's record.

Both print one "GPU: N" block per GPU with indented "KEY: value" lines, and other blocks at the same level ("CPU: 0",
"AI_NIC: 0", a NIC amd-smi also manages) that are no GPU. Sections a paste leaves out (--vram) stay unknown.
Plain `amd-smi` (ROCm 7) prints a boxed table instead, two rows per GPU: "| BDF  GPU-Name | ..." then
"| GPU  HIP-ID  OAM-ID  Partition-Mode | ... used/total MB |".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import hex4, parse_bdf

if TYPE_CHECKING:  # rocm_smi imports this module
    from rigfit.probe.gpu.rocm_smi import RocmSmiGpu

_BLOCK = later(r"^(?P<kind>[A-Z][A-Z_]*): (?P<idx>\d+)\s*$")
_KV = later(r"^(?P<indent>\s+)(?P<key>[A-Z][A-Z0-9_]*):\s*(?P<value>.*?)\s*$")
_MB = later(r"^(\d+) MB$")
_TABLE_NAME = later(r"^\|\s*(?P<bdf>[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+(?P<name>[^|]*?)\s*\|")
_TABLE_IDS = later(
    r"^\|\s*(?P<gpu>\d+)\s+\S+\s+\S+\s+(?P<mode>\S+)\s*\|[^|]*?(?:(?P<used>\d+)/(?P<total>\d+) MB)?\s*\|"
)
_MODE = later(r"(?P<compute>[A-Z]PX)/(?P<memory>NPS\d)")


def is_amd_smi(lines: list[str]) -> bool:
    """A "GPU: 0" block header with indented upper-case keys under it."""
    return any(_BLOCK.match(ln) and ln.startswith("GPU:") for ln in lines) and any(_KV.match(ln) for ln in lines)


def amd_smi_blocks(lines: list[str]) -> dict[int, dict[str, str]]:
    """Each GPU block's "SECTION.KEY" -> value ("ASIC.DEVICE_ID", "BUS.BDF", "VRAM.SIZE"; `list` has "BDF")."""
    gpus: dict[int, dict[str, str]] = {}
    current: dict[str, str] | None = None
    section = ""
    for line in lines:
        block = _BLOCK.match(line)
        if block:
            current = gpus.setdefault(int(block["idx"]), {}) if block["kind"] == "GPU" else None
            section = ""
            continue
        kv = _KV.match(line)
        if current is None or kv is None:
            continue
        if not kv["value"]:
            section = kv["key"] + "."
        elif len(kv["indent"]) <= 4:  # a key right under "GPU: N" (amd-smi list) ends any section
            section = ""
            current.setdefault(kv["key"], kv["value"])
        else:
            current.setdefault(section + kv["key"], kv["value"])
    return gpus


def fill_from_amd_smi(gpu: RocmSmiGpu, values: dict[str, str]) -> None:
    """What one GPU block says, in rocm-smi's terms; "N/A" and absent keys stay unknown."""

    def get(*keys: str) -> str | None:
        return next((values[k] for k in keys if values.get(k) not in (None, "", "N/A")), None)

    vendor = get("ASIC.VENDOR_ID")
    device = get("ASIC.DEVICE_ID")
    if device and (vendor is None or hex4(vendor) == "1002"):
        gpu.device_id = hex4(device)
    gpu.card_series = get("ASIC.MARKET_NAME")
    gfx = re.fullmatch(r"gfx[0-9a-f]{3,4}", get("ASIC.TARGET_GRAPHICS_VERSION") or "")
    gpu.gfx = gfx[0] if gfx else None
    bdf = get("BUS.BDF", "BDF")
    gpu.bdf = parse_bdf(bdf) if bdf else None
    compute, memory, partition = (
        get("PARTITION.COMPUTE_PARTITION"),
        get("PARTITION.MEMORY_PARTITION"),
        get("PARTITION.PARTITION_ID"),
    )
    gpu.compute_partition = compute.upper() if compute else None
    gpu.memory_partition = memory.upper() if memory else None
    gpu.partition_id = int(partition) if partition and partition.isdigit() else None
    size = _MB.match(get("VRAM.SIZE") or "")
    gpu.vram_total_bytes = int(size[1]) * 1024 * 1024 if size else None


def is_amd_smi_table(lines: list[str]) -> bool:
    """Plain `amd-smi`'s boxed table: its "GPU  HIP-ID  OAM-ID  Partition-Mode" header."""
    return any("HIP-ID" in ln and "Partition-Mode" in ln for ln in lines)


def amd_smi_table(lines: list[str]) -> list[dict[str, str]]:
    """Each GPU's two rows of plain `amd-smi`: bdf, name, gpu index, partition mode ("DPX/NPS1" or "N/A")."""
    gpus: list[dict[str, str]] = []
    named: dict[str, str] | None = None
    for line in lines:
        if m := _TABLE_NAME.match(line):
            named = {"bdf": m["bdf"], "name": m["name"]}
        elif named is not None and (m := _TABLE_IDS.match(line)):
            gpus.append({**named, **{k: v for k, v in m.groupdict().items() if v is not None}})
            named = None
    return gpus


def fill_from_amd_smi_table(gpu: RocmSmiGpu, row: dict[str, str], split_buses: set[str]) -> None:
    """One GPU of plain `amd-smi`. A partitioned card shows its mode ("DPX/NPS1") on its first partition; the others
    are listed at the same bus with the next PCI function numbers and "N/A": the function is the partition's number.
    The memory column shows the whole card on the first partition (ROCm issue 4750): kept only for unsplit cards."""
    gpu.bdf = parse_bdf(row["bdf"])
    gpu.card_series = row["name"] or None
    bus, _, function = row["bdf"].rpartition(".")
    mode = _MODE.fullmatch(row["mode"])
    if mode:
        gpu.compute_partition, gpu.memory_partition = mode["compute"], mode["memory"]
    split = bus in split_buses
    if split:
        gpu.partition_id = int(function)
    elif "total" in row:
        gpu.vram_total_bytes = int(row["total"]) * 1024 * 1024


def split_buses(rows: list[dict[str, str]]) -> set[str]:
    """The bus addresses (without the function) of cards whose mode is a split one (DPX/QPX/CPX, NPS2+)."""
    split = set()
    for row in rows:
        mode = _MODE.fullmatch(row["mode"])
        if mode and (mode["compute"] != "SPX" or mode["memory"] != "NPS1"):
            split.add(row["bdf"].rpartition(".")[0])
    return split
