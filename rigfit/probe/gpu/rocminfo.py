"""`rocminfo` (and `rocminfo --support`), from ROCm 1.x to 7.x.

Old versions print decimal chip ids ("Chip ID: 26591") and no Marketing Name; newer ones print
"Chip ID: 29695(0x73ff)", "Marketing Name:", "Uuid:". When rocminfo cannot open /dev/kfd it prints why and stops:
that reason is kept (`error`), and the agent list is then unknown, not empty.
A paste that stops before "*** Done ***" may end inside its last line: a bare "Chip ID: 2969" there, from a rocminfo
that prints its numbers as "128(0x80)", is the start of "29695(0x73ff)", not an id.
The gfx an agent reports is what the runtime sees: HSA_OVERRIDE_GFX_VERSION, when set, replaces the card's own.
"""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import bdf, clean_lines, hex4
from rigfit.records import field, record

_AGENT = later(r"^\s*Agent\s+(\d+)\s*$")
_KEY = later(r"^(?P<indent>\s*)(?P<key>[A-Za-z][A-Za-z0-9 ./()#-]*?)\s*:\s*(?P<value>.*?)\s*$")
_ERRORS = (
    ("Unable to open /dev/kfd read-write: Permission denied", "kfd_permission_denied"),
    ("Unable to open /dev/kfd read-write: No such file", "kfd_missing"),
    ("ROCk module is NOT loaded", "no_kfd"),
    ("HSA_STATUS_ERROR_OUT_OF_RESOURCES", "hsa_init_failed"),
    ("hsa api call failure", "hsa_init_failed"),
    ("HSA_STATUS_ERROR", "hsa_init_failed"),
)


@record
class RocmAgent:
    name: str | None = None  # "gfx1032" on GPUs, the CPU model on CPUs
    marketing_name: str | None = None
    device_type: str | None = None  # "GPU" / "CPU"
    gfx: str | None = None
    chip_id: str | None = None  # "73ff"
    bdf: str | None = None  # from BDFID (no PCI domain: 0000 assumed)
    node: int | None = None
    compute_units: int | None = None
    vram_bytes: int | None = None  # first GLOBAL coarse-grained pool


@record
class RocmInfoOutput:
    runtime_version: str | None = None
    kfd_loaded: bool | None = None  # "ROCk module is loaded"
    agents: list[RocmAgent] = field(default_factory=list)
    listed_agents: bool = False  # the output reached the agent list
    done: bool = False  # ... and its "*** Done ***" end: only then does an empty GPU list mean "none"
    error: str | None = None  # "kfd_permission_denied", "kfd_missing", "no_kfd", "hsa_init_failed"
    error_line: str | None = None

    @property
    def gpus(self) -> list[RocmAgent]:
        return [a for a in self.agents if a.device_type == "GPU"]


def _int(value: str) -> int | None:
    match = re.match(r"\s*(\d+)", value)
    return int(match[1]) if match else None


def _kib(value: str) -> int | None:
    match = re.match(r"\s*(\d+)(?:\([^)]*\))?\s*KB", value)
    return int(match[1]) * 1024 if match else None


def _vram_pool(segment: str | None) -> bool:
    return segment is not None and segment.startswith("GLOBAL") and "COARSE" in segment


def _chip_id(value: str) -> str | None:
    hex_id = hex4(value)
    if hex_id:
        return hex_id
    number = _int(value)
    return f"{number:04x}" if number and number < 0x10000 else None


def _status_line(line: str, out: RocmInfoOutput) -> None:
    """Lines outside the agents: the first error, whether the kernel driver is loaded, the agent list header."""
    for needle, code in _ERRORS:
        if needle in line and out.error is None and "aborting with error" not in line:  # a running runtime's abort
            out.error, out.error_line = code, line.strip()
    if re.search(r"ROCk module (?:version \S+ )?is loaded", line):
        out.kfd_loaded = True
    elif "ROCk module is NOT loaded" in line:
        out.kfd_loaded = False
    if re.match(r"^\s*HSA Agents\s*$", line):
        out.listed_agents = True
    if re.match(r"^\s*\*+\s*Done\s*\*+", line):
        out.done = True


def _agent_name(agent: RocmAgent, value: str, top_level: bool) -> None:
    if top_level:
        agent.name = value or None
        gfx = re.fullmatch(r"(gfx[0-9a-f]{3,4})(?::\S*)?", value or "")
        agent.gfx = agent.gfx or (gfx[1] if gfx else None)
    else:  # ISA name, "amdgcn-amd-amdhsa--gfx90a:sramecc+:xnack-"
        isa = re.search(r"--(gfx[0-9a-f]{3,4})", value)
        agent.gfx = agent.gfx or (isa[1] if isa else None)


def _agent_field(agent: RocmAgent, key: str, value: str, pool_segment: str | None) -> None:
    """One `key: value` of an agent (Name is handled by _agent_name)."""
    if key == "Marketing Name":
        agent.marketing_name = value or None
    elif key == "Device Type":
        agent.device_type = value.upper() or None
    elif key == "Vendor Name" and value.strip() == "CPU":  # a CPU agent says so before its "Device Type" line
        agent.device_type = agent.device_type or "CPU"
    elif key == "Chip ID":
        agent.chip_id = _chip_id(value)
    elif key == "BDFID":
        number = _int(value)
        agent.bdf = bdf(0, number >> 8, (number >> 3) & 0x1F, number & 7) if number else None
    elif key == "Node":
        agent.node = _int(value)
    elif key == "Compute Unit":
        agent.compute_units = _int(value)
    elif key == "Size" and agent.vram_bytes is None and agent.device_type == "GPU" and _vram_pool(pool_segment):
        agent.vram_bytes = _kib(value)


_WHOLE_NUMBER = later(r"\s*(\d+)\(0x([0-9a-fA-F]+)\)\s*")


def _drop_cut_chip_id(lines: list[str], out: RocmInfoOutput) -> None:
    """An output that stops before its end may stop inside its last line: a rocminfo that prints numbers as
    "128(0x80)" prints the Chip ID as "29695(0x73ff)" too, so a bare "Chip ID: 2969" there is cut, not an id."""
    last = next((ln for ln in reversed(lines) if ln.strip()), "")
    match = _KEY.match(last)
    if out.done or not out.agents or not match or match["key"].strip() != "Chip ID":
        return
    whole = _WHOLE_NUMBER.fullmatch(match["value"])
    hex_form = any(_WHOLE_NUMBER.search(ln.partition(":")[2]) for ln in lines[:-1])
    if hex_form and not (whole and int(whole[1]) == int(whole[2], 16)):
        out.agents[-1].chip_id = None


def parse_rocminfo(text: str | None) -> RocmInfoOutput:
    out = RocmInfoOutput()
    agent: RocmAgent | None = None
    pool_segment: str | None = None
    lines = clean_lines(text)
    for line in lines:
        _status_line(line, out)
        started = _AGENT.match(line)
        if started:
            agent = RocmAgent()
            out.agents.append(agent)
            out.listed_agents = True
            pool_segment = None
            continue
        match = _KEY.match(line)
        if not match:
            continue
        key, value = match["key"].strip(), match["value"]
        if agent is None and key == "Name" and len(match["indent"]) >= 2:  # a paste that starts inside an agent
            agent = RocmAgent()
            out.agents.append(agent)
        if agent is None:
            if key == "Runtime Version":
                out.runtime_version = value.split()[0] if value else None
        elif key == "Name":
            _agent_name(agent, value, len(match["indent"]) <= 2)
        elif key == "Segment":
            pool_segment = value
        else:
            _agent_field(agent, key, value, pool_segment)
    _drop_cut_chip_id(lines, out)
    return out
