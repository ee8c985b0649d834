"""A load that failed and that the program itself then announces it works around ("comfy-aimdo failed to load: ...
undefined symbol: g_cuda", then "DynamicVRAM support disabled. Falling back to legacy ModelPatcher") is a warning,
not the failure: explain stays silent on it and answers the log's real error, if it has one. A fallback to the CPU is
no such announcement: it costs the GPU, and its cause is the answer."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rigfit.explain.scan import LogLine

FALLBACK_KEYWORDS = ("falling back", "falls back", "fell back")
# the announcement, within a few lines after the warning (the program prints it when it catches the failure)
ANNOUNCED = re.compile(r"\b(?:falling|falls|fell) back (?:to|on) (?!(?:the )?cpu\b)", re.I)
NEAR = 4  # lines


def announcements(kept: Iterable[LogLine]) -> list[int]:
    """The numbers of the kept lines that announce a fallback (read once per log, only when something matched)."""
    return [line.number for line in kept if " back " in line.text and ANNOUNCED.search(line.text)]


def worked_around(evidence: list[LogLine], announced: list[int]) -> bool:
    """The finding's first line is followed, within NEAR lines, by the program's announcement that it falls back."""
    if not evidence:
        return False
    first = min(line.number for line in evidence)
    return any(0 < number - first <= NEAR for number in announced)
