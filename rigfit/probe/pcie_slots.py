"""What the PCIe slot under a GPU allows, said once for doctor and plan alike: whether the link is slow, and whether
another slot on this board can do better (a gen3+ link, PCIe atomics) or moving the card cannot help. The sentences
are fixes.yaml's "pcie-slot" entries, picked by the same platform test everywhere."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.probe.profile import CpuInfo, GpuInfo
from rigfit.records import record

GEN2_GTS = 5.0
BUDGET_NO_AVX = ("pentium", "celeron", "atom")


def platform_predates_pcie3(cpu: CpuInfo) -> bool:
    """x86 CPUs without AVX (Intel before Sandy Bridge, AMD before Bulldozer) sit on PCIe 2.0 platforms.

    Pentium, Celeron and Atom models lack AVX up to 2020 while sitting on PCIe 3.0 platforms (Haswell and later).
    """
    budget = any(name in (cpu.model or "").lower() for name in BUDGET_NO_AVX)
    return cpu.arch in (None, "x86_64") and cpu.avx is False and not budget


def atomics_slot_advice(cpu: CpuInfo) -> str:
    """The one answer to "would another slot give this card PCIe atomics?"."""
    if platform_predates_pcie3(cpu):
        return fix_text("pcie-slot", case="atomics-platform-predates-pcie3")
    return fix_text("pcie-slot", case="atomics-other-slot")


def faster_slot_advice(cpu: CpuInfo) -> str:
    """The one answer to "would another slot give this card a faster link?"."""
    if platform_predates_pcie3(cpu):
        return fix_text("pcie-slot", case="speed-platform-predates-pcie3")
    return fix_text("pcie-slot", case="speed-other-slot")


@record(frozen=True)
class SlowLink:
    speed_gts: float | None  # the lowest of what the card, its slot and the current link say
    width: int | None
    slow_speed: bool  # PCIe 2.0 or older
    narrow: bool  # x4 or narrower


def _lowest(*values: float | None) -> float | None:
    known = [v for v in values if v]
    return min(known) if known else None


def slow_link(gpu: GpuInfo) -> SlowLink | None:
    """The discrete GPU's link when it is PCIe 2.0 or older, or x4 or narrower; None when fine or unknown."""
    link = gpu.pcie
    if link is None or gpu.integrated:
        return None
    speed = _lowest(link.max_speed_gts, link.slot_max_speed_gts, link.speed_gts)
    width = _lowest(link.max_width, link.slot_max_width, link.width)
    slow_speed = speed is not None and speed <= GEN2_GTS
    narrow = width is not None and width <= 4
    if not (slow_speed or narrow):
        return None
    return SlowLink(speed, int(width) if width else None, slow_speed, narrow)
