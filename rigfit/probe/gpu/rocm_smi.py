"""`rocm-smi` in its common views: the concise table (old "GPU Temp AvgPwr ..." and new "Device Node IDs ..."
layouts), --showproductname, --showmeminfo vram, --showhw, --showbus, --showid, -a ("GPU ID: 0x731f"), and
"WARNING: No AMD GPUs specified"; and amd-smi's "GPU: 0" blocks (rigfit/probe/gpu/amd_smi.py), pasted where rocm-smi's
output goes on ROCm 6+ machines that have only amd-smi.

rocm-smi reads sysfs, so it lists GPUs that KFD skipped and works without /dev/kfd access: its GPU list says what
amdgpu drives, not what ROCm compute can use.
"""

from __future__ import annotations

import itertools
import json
import re

from rigfit.kb.gpus import lookup_pci
from rigfit.lazy_re import later
from rigfit.probe.gpu.amd_smi import (
    amd_smi_blocks,
    amd_smi_table,
    fill_from_amd_smi,
    fill_from_amd_smi_table,
    is_amd_smi,
    is_amd_smi_table,
    split_buses,
)
from rigfit.probe.gpu.paste import clean_lines, hex4, parse_bdf
from rigfit.records import field, record

_KV = later(r"^\s*GPU\[(?P<idx>\d+)\]\s*:\s*(?P<key>[^:]+?)\s*:\s*(?P<value>.*?)\s*$")
_ROW = later(r"^\s*(?P<idx>\d+)\s+\S")
# ROCm 6.0/6.1 concise rows: "0  [0x74a1 : 0x00]  50.0°C ..." (the board's model id, not the device id), the name
# cut at 20 characters on the line below; recognised without the header, which pastes often leave out
_MODEL_ROW = later(r"^\s*(?P<idx>\d+)\s+\[0x[0-9a-fA-F]{1,4}\s*:\s*0x[0-9a-fA-F]{1,2}\]")
_NAME_WIDTH = 20
_BDF = later(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:\S+")
# the concise table's "Partitions (Mem, Compute, ID)" column (ROCm 6.1+): "NPS1, SPX, 0"
_PARTITIONS_CELL = later(r"\b(?P<memory>NPS\d), (?P<compute>[A-Z]PX), (?P<id>\d+)\b")


@record
class RocmSmiGpu:
    index: int
    device_id: str | None = None  # "73ff"
    bdf: str | None = None
    card_series: str | None = None  # "Navi 23 [Radeon RX 6600/6600 XT/6600M]" or "Radeon RX 6600 XT"
    card_vendor: str | None = None
    gfx: str | None = None  # "GFX Version: gfx1032" (ROCm 6+)
    vram_total_bytes: int | None = None
    vram_used_bytes: int | None = None
    any_card: bool = False  # a row of the ROCm 1.x DID table: that rocm-smi listed every DRM card, not only AMD's
    # an Instinct GPU split into partitions: compute mode ("SPX", "DPX", "QPX", "CPX"), memory mode ("NPS1", "NPS4"),
    # and which partition of its card this entry is (0 = the first one, which carries the card's own ids)
    compute_partition: str | None = None
    memory_partition: str | None = None
    partition_id: int | None = None


@record
class RocmSmiOutput:
    gpus: list[RocmSmiGpu] = field(default_factory=list)
    no_gpus: bool = False  # "WARNING: No AMD GPUs specified" or an empty concise table
    table_seen: bool = False


def _gpu(out: RocmSmiOutput, index: int) -> RocmSmiGpu:
    for gpu in out.gpus:
        if gpu.index == index:
            return gpu
    gpu = RocmSmiGpu(index)
    out.gpus.append(gpu)
    return gpu


def _known(value: str) -> str | None:
    return None if value.upper() in ("", "N/A") else value


def _key_value(gpu: RocmSmiGpu, key: str, value: str) -> None:
    lowered = key.lower()
    if lowered == "card series" and re.fullmatch(r"0x[0-9a-fA-F]{1,4}", value):  # ROCm 4: "Card series: 0x738c"
        gpu.device_id = gpu.device_id or hex4(value)
    elif lowered in ("card series", "device name") or (lowered == "card model" and not hex4(value)):
        # "Card model: 0x0c34" is the board; ROCm 6's -i prints "Device Name: AMD Instinct MI300X", also on the
        # compute partitions of a partitioned MI300 whose "Device ID" is N/A
        gpu.card_series = gpu.card_series or (_known(value))
    elif lowered in ("device id", "gpu id"):
        gpu.device_id = gpu.device_id or hex4(value)
    elif lowered == "card vendor":
        gpu.card_vendor = value or None
    elif lowered == "gfx version":
        gpu.gfx = _gfx_target(value)
    elif lowered == "pci bus":
        gpu.bdf = parse_bdf(value)
    elif lowered in ("compute partition", "memory partition", "partition id"):
        _partition(gpu, lowered, value)
    elif lowered.startswith("vram total memory"):
        gpu.vram_total_bytes = int(value) if value.isdigit() else None
    elif lowered.startswith("vram total used memory"):
        gpu.vram_used_bytes = int(value) if value.isdigit() else None


def _partition(gpu: RocmSmiGpu, key: str, value: str) -> None:
    """--showcomputepartition / --showmemorypartition ("Compute Partition: CPX"), or amd-smi's PARTITION section."""
    known = _known(value)
    if key == "compute partition":
        gpu.compute_partition = known.upper() if known else None
    elif key == "memory partition":
        gpu.memory_partition = known.upper() if known else None
    else:
        gpu.partition_id = int(value) if value.isdigit() else None


def _gfx_target(value: str) -> str | None:
    """rocm-smi's "GFX Version": "gfx1032", or KFD's target version printed in decimal ("gfx9010" = 9.0.10 =
    gfx90a): a gfx7-gfx9 name has one digit per field, so a fourth digit means the stepping was printed as a number."""
    found = re.search(r"gfx[0-9a-f]{3,4}", value)
    decimal = re.fullmatch(r"gfx([7-9])(\d)(\d\d)", found[0]) if found else None
    if decimal:
        return f"gfx{decimal[1]}{decimal[2]}{int(decimal[3]):x}"
    return found[0] if found else None


def _json(text: str, out: RocmSmiOutput) -> bool:
    """--json: {"card0": {"Card Series": ..., "Card Model": "0x7408", ...}}; True when the text was that JSON.
    Beside a "Subsystem ID" key, "Card Model" is the device id (older views print the board id there)."""
    try:
        cards = json.loads(text)
    except ValueError:
        return False
    if not isinstance(cards, dict):
        return False
    for name, values in cards.items():
        index = re.fullmatch(r"card(\d+)", name)
        if not index or not isinstance(values, dict):
            continue
        gpu = _gpu(out, int(index[1]))
        for key, value in values.items():
            _key_value(gpu, str(key), str(value).strip())
        if "Subsystem ID" in values and hex4(str(values.get("Card Model", ""))):
            gpu.device_id = gpu.device_id or hex4(str(values["Card Model"]))
    return bool(out.gpus)


_JSON_CARD = later(r'^\s*"card(?P<idx>\d+)":\s*\{\s*$')
_JSON_MEMBER = later(r'^\s*"(?P<key>[^"]+)":\s*"(?P<value>[^"]*)",?\s*$')


def _json_lines(lines: list[str], out: RocmSmiOutput) -> None:
    """--json as pasted: in a code fence, or cut before its end, it is no JSON document any more; its one
    '"Key": "value",' member a line still reads (a member the cut split is not read)."""
    gpu: RocmSmiGpu | None = None
    for line in lines:
        card = _JSON_CARD.match(line)
        if card:
            gpu = _gpu(out, int(card["idx"]))
            continue
        member = _JSON_MEMBER.match(line)
        if gpu is not None and member:
            _key_value(gpu, member["key"], member["value"].strip())


def _csv(lines: list[str], out: RocmSmiOutput) -> None:
    """--csv: "device,Card series,..." then "card0,Navi 23 [...],..." rows."""
    header: list[str] | None = None
    for line in lines:
        cells = [c.strip() for c in line.split(",")]
        if cells[0] == "device" and len(cells) > 1:
            header = cells
        elif header and re.fullmatch(r"card(\d+)", cells[0]):
            gpu = _gpu(out, int(cells[0][4:]))
            for key, value in zip(header[1:], cells[1:], strict=False):
                _key_value(gpu, key, value)


def _table_row(gpu: RocmSmiGpu, columns: list[str], words: list[str], line: str) -> None:
    """One GPU's row of a rocm-smi table: its device id and bus address."""
    if "DID" in columns:  # --showhw: GPU [NODE] DID [GUID] ... BUS
        did = words[columns.index("DID")] if len(words) > columns.index("DID") else ""
        gpu.device_id = gpu.device_id or hex4(did if did.startswith("0x") else "0x" + did)
        gpu.any_card = columns[0] == "GPU" and "Temp" in columns  # ROCm 1.x concise table with a DID column
    elif columns[0] == "Device":  # new concise: "0  1  0x73ff,  12345 ..."
        did_match = re.search(r"\b0x([0-9a-fA-F]{4}),", line)
        gpu.device_id = gpu.device_id or (did_match[1].lower() if did_match else None)
        cell = _PARTITIONS_CELL.search(line)
        if cell:
            gpu.memory_partition, gpu.compute_partition, gpu.partition_id = (
                cell["memory"],
                cell["compute"],
                int(cell["id"]),
            )
    slot = next((parse_bdf(w) for w in words if _BDF.fullmatch(w)), None)
    gpu.bdf = gpu.bdf or slot


def _other_view(text: str | None, lines: list[str], out: RocmSmiOutput) -> bool:
    """--json, --csv, or amd-smi's blocks pasted in rocm-smi's place; True when the text was one of them."""
    if text and text.lstrip().startswith("{") and _json(text, out):
        return True
    if any(_JSON_CARD.match(ln) for ln in lines):
        _json_lines(lines, out)
        return bool(out.gpus)
    if any(ln.startswith("device,") for ln in lines):
        _csv(lines, out)
        return True
    if is_amd_smi(lines):
        for index, values in amd_smi_blocks(lines).items():
            fill_from_amd_smi(_gpu(out, index), values)
        return True
    if is_amd_smi_table(lines):
        rows = amd_smi_table(lines)
        split = split_buses(rows)
        for row in rows:
            fill_from_amd_smi_table(_gpu(out, int(row["gpu"])), row, split)
        return True
    return False


def _row_name(gpu: RocmSmiGpu, line: str) -> None:
    """The name line under a ROCm 6.0 concise row; one of 20 characters may have been cut there."""
    name = line.strip()
    if _known(name):
        gpu.card_series = gpu.card_series or (f"{name}..." if len(name) >= _NAME_WIDTH else name)


@record
class _Reading:
    """Where parse_rocm_smi is in a table."""

    columns: list[str] | None = None
    named: RocmSmiGpu | None = None  # the ROCm 6.0 row whose name line comes next


def _model_row_line(line: str, out: RocmSmiOutput, state: _Reading) -> bool:
    """A ROCm 6.0 concise row, or the name line under one; True when the line was one of them."""
    named, state.named = state.named, None
    if named is not None and line[:1].isspace() and line.strip() and not _ROW.match(line):
        _row_name(named, line)
        return True
    model_row = _MODEL_ROW.match(line)
    if not model_row:
        return False
    gpu = state.named = _gpu(out, int(model_row["idx"]))
    out.table_seen = True
    gpu.bdf = gpu.bdf or next((parse_bdf(w) for w in line.split() if _BDF.fullmatch(w)), None)
    return True


def _table_line(line: str, out: RocmSmiOutput, state: _Reading) -> None:
    """A header, separator or row of the other table views."""
    words = line.split()
    if words[:1] in (["GPU"], ["Device"]) and len(words) > 3 and not line.lstrip().startswith("GPU["):
        state.columns = words
        out.table_seen = True
    elif line.startswith("=") or not words:
        if line.startswith("=") and "End of ROCm SMI Log" in line:
            state.columns = None
    elif state.columns and _ROW.match(line):
        _table_row(_gpu(out, int(words[0])), state.columns, words, line)


def parse_rocm_smi(text: str | None) -> RocmSmiOutput:
    out = RocmSmiOutput()
    lines = clean_lines(text)
    if _other_view(text, lines, out):
        return out
    state = _Reading()
    for line in lines:
        if _model_row_line(line, out, state):
            continue
        if "No AMD GPUs specified" in line:
            out.no_gpus = True
        kv = _KV.match(line)
        if kv:
            _key_value(_gpu(out, int(kv["idx"])), kv["key"], kv["value"])
        else:
            _table_line(line, out, state)
    if out.table_seen and not out.gpus:
        out.no_gpus = True
    _number_partitions(out)
    return out


def _number_partitions(out: RocmSmiOutput) -> None:
    """rocm-smi -i on a partitioned Instinct GPU (ROCm 6.4): the card's first partition carries its Device ID, the
    others follow it with the same Device Name and "Device ID: N/A". Number them from the card they follow."""
    ordered = sorted(out.gpus, key=lambda g: g.index)
    for before, gpu in itertools.pairwise(ordered):
        follows = gpu.device_id is None and gpu.card_series and gpu.card_series == before.card_series
        if not follows or gpu.partition_id is not None or gpu.index != before.index + 1:
            continue
        if before.partition_id is None and before.device_id:
            before.partition_id = 0
        gpu.partition_id = before.partition_id + 1 if before.partition_id is not None else None


def without_other_cards(out: RocmSmiOutput) -> list[str]:
    """Drop the rows of ROCm 1.x's DID table whose id the KB does not know as an AMD GPU (that rocm-smi listed every
    DRM card: "0402" is an Intel iGPU's id), and say what was dropped."""
    dropped = [g for g in out.gpus if g.any_card and g.device_id and lookup_pci("1002", g.device_id) is None]
    out.gpus = [g for g in out.gpus if g not in dropped]
    return [
        f"rocm-smi row {g.index} (DID {g.device_id}) is not an AMD GPU id rigfit knows; this old rocm-smi lists every "
        "display card, so its vendor and model are unknown and it is not counted"
        for g in dropped
    ]
