"""The host facts of A1111's / Forge's sysinfo JSON (Settings > Sysinfo; modules/sysinfo.py get_dict) beyond its
"Torch env info" (read by rigfit.probe.gpu.torch_reports):

    "CPU": {"model": platform.processor(), "count logical": psutil.cpu_count(logical=True),
            "count physical": psutil.cpu_count(logical=False)},
    "RAM": {"total": pretty_bytes(psutil.virtual_memory().total), "used": ..., ...},

pretty_bytes divides by 1024 and rounds to a whole unit ("31GB" is 31 GiB, to half a GiB). "model" is
platform.processor(): "" on most Linux, "AMD64 Family 23 Model 96 Stepping 1, AuthenticAMD" on Windows, never a model
name, so it is not read. A member on the paste's last line may be cut ("count logical": 1 of 16): not read.
"""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.records import record

_OBJECT = later(r'^\s*"(?P<name>[^"]+)":\s*\{\s*$')
_MEMBER = later(r'^\s*"(?P<key>count logical|count physical|total)":\s*(?P<value>"[^"]*"|\d+|null)\s*,?\s*$')
_SIZE = later(r'^"(?P<number>\d+)(?P<unit>[KMGTP]?)B"$')
_UNITS = "KMGTP"
_WHERE = {"count logical": "CPU", "count physical": "CPU", "total": "RAM"}


@record
class SysinfoHost:
    threads: int | None = None  # "count logical"
    cores: int | None = None  # "count physical"
    ram_total_bytes: int | None = None  # "total", rounded to a whole 1024-based unit


def _size(value: str) -> int | None:
    size = _SIZE.match(value)
    if size is None:
        return None
    return int(size["number"]) * 1024 ** (_UNITS.index(size["unit"]) + 1 if size["unit"] else 0)


def parse_sysinfo_host(text: str | None) -> SysinfoHost:
    """The CPU counts and total RAM a (cut) sysinfo JSON holds; all None when it holds none."""
    lines = [line for line in clean_lines(text) if line.strip()]
    host = SysinfoHost()
    inside: str | None = None
    for pos, line in enumerate(lines):
        if (opened := _OBJECT.match(line)) is not None:
            inside = opened["name"]
            continue
        member = _MEMBER.match(line)
        if member is None or _WHERE[member["key"]] != inside or pos == len(lines) - 1:
            inside = None if line.strip().startswith("}") else inside
            continue
        value = member["value"]
        if member["key"] == "total":
            host.ram_total_bytes = _size(value)
        elif value.isdigit() and member["key"] == "count logical":
            host.threads = int(value)
        elif value.isdigit():
            host.cores = int(value)
    return host
