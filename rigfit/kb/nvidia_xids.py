"""nvidia_xids.yaml: what an NVIDIA Xid number in the kernel log says, grouped by what to do about it.

"NVRM: Xid (PCI:0000:01:00): 43, ..." is the driver's report of a GPU fault; the number says whether a program
failed (restart it), GPU memory failed (reset the GPU, then have it checked) or the driver's firmware hung.
"""

from __future__ import annotations

import functools
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.records import record

XidCase = Literal["program", "memory", "firmware", "link"]


@record(frozen=True, kw_only=True)
class XidGroup(KbEntry):
    """Xid numbers that mean the same kind of fault and take the same fix (fixes.yaml gpu.nvidia_xid, case)."""

    case: XidCase
    xids: list[int]
    meaning: str  # what the fault is, after "Xid 43: "
    rank: int  # the fix of the highest-ranked group in a log is given: a memory fault outweighs a program's crash


@functools.cache
def xid_groups() -> tuple[XidGroup, ...]:
    return load_entries("nvidia_xids.yaml", XidGroup)


def xid_group(xid: int) -> XidGroup | None:
    return next((g for g in xid_groups() if xid in g.xids), None)
