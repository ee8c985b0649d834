"""Memory, swap and free disk where rigfit would install."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit.kb.fixes import fix_text
from rigfit.lazy_re import later
from rigfit.paths import data_dir
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpus import NVIDIA_SMI
from rigfit.probe.host_rules import host_rule, min_bytes, rule_finding
from rigfit.probe.lines import bounded_lines
from rigfit.probe.profile import Finding, MemoryInfo, Profile
from rigfit.probe.source import CommandSpec, Source
from rigfit.probe.sysinfo_host import parse_sysinfo_host

COMMANDS: tuple[CommandSpec, ...] = ()
GIB = 2**30
MEMINFO_KEYS = ("MemTotal", "MemFree", "MemAvailable", "SwapTotal", "SwapFree")
_LINE = later(r"^\s*([A-Za-z_()]+)\s*:\s*(\d+)\s*(?:kB|KB|kb)\s*$")
# ComfyUI's and Forge's start-up line (comfy/model_management.py, backend/memory_management.py: psutil's total in MiB)
_UI_RAM = later(r"\bTotal VRAM \d+ MB, total RAM (?P<mib>\d+) MB\b")


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo sizes as {key: bytes}; tolerant of pastes (fences, prompts, a cut key).

    A line without its "kB" was cut short (its number may be too): it is skipped, never read as a smaller size.
    """
    values: dict[str, int] = {}
    for line in bounded_lines(text):
        match = _LINE.match(line.lstrip("`~$# "))
        if not match:
            continue
        key, number = match.groups()
        key = next((k for k in MEMINFO_KEYS if k[1:] == key), key)  # "emTotal" when the first character was lost
        values.setdefault(key, int(number) * 1024)
    return values


def free_bytes(path: Path) -> int:
    """What shutil.disk_usage(path).free says, without importing shutil (and the compression modules it loads)."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def existing_parent(path: Path) -> Path:
    """`path`, or its nearest parent that exists yet: the filesystem it will be on."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_fact() -> dict[str, Any]:
    """Free space where rigfit would install (its data dir, or the nearest parent that exists yet)."""
    target = data_dir()
    existing = existing_parent(target)
    return {"path": str(target), "checked": str(existing), "free_bytes": free_bytes(existing)}


def _pasted_total(source: Source, why: str, warn: Callable[[str], None]) -> int | None:
    """Without /proc/meminfo: the total RAM a pasted A1111/Forge sysinfo holds ("RAM": {"total": "31GB"}, pasted where
    nvidia-smi's output goes), rounded by it to a whole GiB, or the one a ComfyUI/Forge start-up line prints ("Total
    VRAM 24564 MB, total RAM 32694 MB"); None (and said) when the paste holds neither."""
    pasted = source.run(NVIDIA_SMI).output
    total = parse_sysinfo_host(pasted).ram_total_bytes
    if total is not None:
        warn('RAM size from the pasted sysinfo\'s "total" (rounded by it to a whole unit); available RAM unknown')
        return total
    said = next((m for line in clean_lines(pasted) if (m := _UI_RAM.search(line))), None)
    if said is not None:
        warn('RAM size from the UI\'s start-up line ("total RAM ... MB"); available RAM unknown')
        return int(said["mib"]) * 2**20
    warn(f"RAM size unknown: /proc/meminfo {why}")
    return None


def probe_memory(source: Source, warn: Callable[[str], None]) -> MemoryInfo:
    read = source.read_text("/proc/meminfo")
    values = parse_meminfo(read.text or "")
    info = MemoryInfo(
        total_bytes=values.get("MemTotal"),
        available_bytes=values.get("MemAvailable"),
        swap_total_bytes=values.get("SwapTotal"),
        swap_free_bytes=values.get("SwapFree"),
    )
    if info.total_bytes is None:
        info.total_bytes = _pasted_total(source, read.error or "has no MemTotal line", warn)
    elif info.available_bytes is None:
        warn("available RAM unknown: /proc/meminfo has no MemAvailable line (Linux < 3.14, or a partial capture)")
    disk = source.fact("disk", disk_fact)
    if isinstance(disk, dict) and isinstance(disk.get("free_bytes"), int):
        info.disk_path = str(disk.get("path") or "") or None
        info.disk_free_bytes = disk["free_bytes"]
    else:
        where = source.absent or f"at {data_dir()}: not checkable"
        warn(f"free disk space unknown ({where})")
    return info


def gib(n: int | None) -> str:
    """A size for people: "7.8 GiB", or "unknown"."""
    return "unknown" if n is None else f"{n / GIB:.1f} GiB"


def memory_findings(profile: Profile) -> list[Finding]:
    """RAM, swap and disk against what SD1.5 and SDXL need, with the numbers and what they allow."""
    m = profile.memory
    found: list[Finding] = []
    swap_fix = host_rule("swap-safety-net").fix
    if m.total_bytes is not None:
        ram = m.total_bytes
        swap = m.swap_total_bytes or 0
        have = f"{gib(ram)} of RAM" + (f" and {gib(swap)} of swap" if m.swap_total_bytes is not None else "")
        if ram + swap < min_bytes("ram-sd15-gpu"):
            found.append(
                rule_finding(
                    "memory.below-sd15",
                    "ram-sd15-gpu",
                    "warning",
                    "memory",
                    f"{have}: below about 4 GiB even SD1.5 (a 2.1 GB fp16 checkpoint read through RAM) "
                    "fails to load or is killed.",
                    fix=fix_text("memory.below-sd15", swap_fix=swap_fix),
                )
            )
        elif ram < min_bytes("ram-sd15-cpu"):
            found.append(
                rule_finding(
                    "memory.below-sd15-cpu",
                    "ram-sd15-cpu",
                    "warning",
                    "memory",
                    f"{have}: enough for SD1.5 on a GPU, not for SD1.5 on the CPU (fp32 weights alone are "
                    "4.3 GB; about 8 GiB of RAM are needed) nor for SDXL (about 16 GiB).",
                    fix=fix_text("memory.below-sd15-cpu", swap_fix=swap_fix),
                    kb=["ram-sd15-cpu", "ram-sdxl"],
                )
            )
        elif ram < min_bytes("ram-sdxl"):
            found.append(
                rule_finding(
                    "memory.below-sdxl",
                    "ram-sdxl",
                    "info",
                    "memory",
                    f"{have}: SD1.5 fits; SDXL (6.9 GB of fp16 weights, 13.9 GB in fp32 on the CPU) needs "
                    "about 16 GiB and will load slowly through swap or be killed.",
                    fix=fix_text("memory.below-sdxl"),
                )
            )
        if m.swap_total_bytes == 0 and ram < min_bytes("swap-safety-net"):
            found.append(
                rule_finding(
                    "memory.no-swap",
                    "swap-safety-net",
                    "warning",
                    "memory",
                    f"no swap with {gib(ram)} of RAM: a model load that briefly needs more memory is killed "
                    "by the out-of-memory killer ('Killed', exit 137) instead of slowing down.",
                )
            )
    if m.disk_free_bytes is not None and m.disk_free_bytes < min_bytes("disk-env-and-models"):
        where = m.disk_path or "rigfit's data directory"
        found.append(
            rule_finding(
                "memory.low-disk",
                "disk-env-and-models",
                "warning",
                "memory",
                f"only {gib(m.disk_free_bytes)} free at {where}: a GPU torch env takes several GB and each "
                "model 2-7 GB (SD1.5 fp16 2.1 GB, SDXL fp16 6.9 GB); about 20 GiB are needed for one env and one "
                "SDXL model.",
            )
        )
    return found
