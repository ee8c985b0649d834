"""rocminfo as people filter it: `rocminfo | grep -i gfx`, `rocminfo | grep Name`. The filter drops the "Agent N"
headers and "Device Type" lines the full parser splits agents by, so every top-level Name line starts an agent here,
and an agent is a GPU when its name or ISA is a gfx target (the CPU agents' names are CPU models).

SD.Next's installer lists the GPU agents the same way, from rocm_agent_enumerator (installer.py: "ROCm agents
detected: ['gfx1030']", then "ROCm agent used by default: idx=0 gpu=gfx1030 arch=navi2"): one GPU agent a gfx,
"gfx000" (the CPU) already left out by it."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.rocminfo import RocmAgent, RocmInfoOutput

_LINE = later(r"^(?P<indent>\s*)(?P<key>Name|Marketing Name|Vendor Name)\s*:\s*(?P<value>.*?)\s*$")
_GFX = later(r"(?:^|--)(gfx[0-9a-f]{3,4})\b")
_HEADERS = later(r"^\s*(?:Agent\s+\d+|HSA Agents|Device Type\s*:)", re.M)
_SDNEXT_AGENTS = later(r"\bROCm agents detected: \[(?P<gfx>[^\]]*)\]")
_SDNEXT_DEFAULT = later(r"\bROCm agent used by default: idx=\d+ gpu=(?P<gfx>gfx[0-9a-f]{3,4})\b")


def _grepped_agents(lines: list[str]) -> list[RocmAgent]:
    agents: list[RocmAgent] = []
    for line in lines:
        match = _LINE.match(line)
        if not match:
            continue
        key, value, top = match["key"], match["value"], len(match["indent"]) <= 2
        gfx = _GFX.search(value)
        if key == "Name" and top:
            agents.append(RocmAgent(name=value or None, gfx=gfx[1] if gfx else None))
        elif agents and key == "Name":  # the ISA line under an agent
            agents[-1].gfx = agents[-1].gfx or (gfx[1] if gfx else None)
        elif agents and key == "Marketing Name":
            agents[-1].marketing_name = value or None
        elif agents and key == "Vendor Name" and value.upper() == "CPU":
            agents[-1].gfx = None
    for agent in agents:
        agent.device_type = "GPU" if agent.gfx else "CPU"
    return agents


def _enumerated_agents(lines: list[str]) -> list[RocmAgent]:
    """SD.Next's "ROCm agents detected: [...]" list (the first one), else its "ROCm agent used by default" line."""
    for pattern in (_SDNEXT_AGENTS, _SDNEXT_DEFAULT):
        found = next((m for line in lines if (m := pattern.search(line))), None)
        if found:
            names = re.findall(r"gfx[0-9a-f]{3,4}\b", found["gfx"])
            return [RocmAgent(name=g, gfx=g, device_type="GPU") for g in names]
    return []


def with_grepped_agents(parsed: RocmInfoOutput, text: str | None) -> RocmInfoOutput:
    """`parsed` with its agents read the grep way when `text` is a filtered rocminfo (no agent headers at all), or
    from SD.Next's agent list."""
    if not text or _HEADERS.search(text) or parsed.error:
        return parsed
    lines = clean_lines(text)
    agents = _grepped_agents(lines) or _enumerated_agents(lines)
    if any(a.device_type == "GPU" for a in agents):
        parsed.agents = agents
    return parsed
