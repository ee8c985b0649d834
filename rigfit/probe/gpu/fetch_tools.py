"""fastfetch's JSON (`fastfetch --format json`, what its bug template asks for), pasted where lspci's output goes:
its "GPU" module lists each GPU's "name", "vendor", "driver" and "memory" ("dedicated": {"total": bytes or null}).
Its "deviceId" is fastfetch's own encoding of the PCI address, not a PCI device id: it is not read. A paste may
start or stop anywhere, so the JSON is read line by line, never parsed whole."""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.records import record

_MODULE = later(r'^\s*"type":\s*"(?P<type>\w+)"')
_MEMBER = later(r'^\s*"(?P<key>\w+)":\s*(?P<value>"[^"]*"|[-\d.e]+|null|true|false|\{|\[)?,?\s*$')
_VENDOR_IDS = {"amd": "1002", "nvidia": "10de", "intel": "8086"}


@record
class FetchedGpu:
    name: str | None = None
    vendor_id: str | None = None
    memory_total_mib: int | None = None  # "dedicated" "total" (null on many drivers: unknown)


def is_fastfetch_json(lines: list[str]) -> bool:
    return any((m := _MODULE.match(ln)) is not None and m["type"] == "GPU" for ln in lines)


def _value(raw: str | None) -> str | None:
    if raw is None or raw in ("null", "{", "["):
        return None
    return raw.strip('"') or None


def fastfetch_gpus(lines: list[str]) -> list[FetchedGpu]:
    """Each GPU of the "GPU" module; None where it printed null."""
    gpus: list[FetchedGpu] = []
    in_gpu = in_dedicated = False
    current = FetchedGpu()
    for line in lines:
        module = _MODULE.match(line)
        if module:
            in_gpu = module["type"] == "GPU"
            continue
        member = _MEMBER.match(line)
        if not in_gpu or member is None:
            continue
        key, value = member["key"], _value(member["value"])
        if key in ("coreCount", "index") and current.name:
            gpus.append(current)
            current = FetchedGpu()
        if key == "dedicated":
            in_dedicated = True
        elif key == "total" and in_dedicated:
            current.memory_total_mib = int(float(value)) // 2**20 if value else None
            in_dedicated = False
        elif key == "name" and value:
            current.name = value
        elif key == "vendor" and value:
            current.vendor_id = _VENDOR_IDS.get(value.lower())
    if current.name:
        gpus.append(current)
    return gpus
