"""lscpu_labels.yaml: the labels `lscpu` prints in other languages, mapped to the English keys rigfit parses.

rigfit runs lscpu itself with LC_ALL=C; translated labels only arrive in pasted text. A label not listed here stays
unknown (its value is ignored), never guessed from a look-alike word.
"""

from __future__ import annotations

import functools
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.records import record

# the English lscpu labels (lower case, without the colon) that rigfit reads
LscpuKey = Literal[
    "architecture",
    "vendor id",
    "model name",
    # where "Model name" is "-" (ARM boards whose cores lscpu cannot name): the SoC from the firmware's DMI table,
    # or a "Model" that names it ("Rockchip RK3588") instead of the usual variant number
    "bios model name",
    "model",
    "cpu(s)",
    "socket(s)",
    "core(s) per socket",
    "thread(s) per core",
    "flags",
]


@record(frozen=True, kw_only=True)
class LscpuLanguage(KbEntry):
    """One language (id = the locale's language code, "de"): translated label -> English key."""

    language: str
    labels: dict[str, LscpuKey]


def lscpu_languages() -> tuple[LscpuLanguage, ...]:
    return load_entries("lscpu_labels.yaml", LscpuLanguage)


@functools.cache
def translated_lscpu_labels() -> dict[str, str]:
    """Every known translated label (lower case, spaces collapsed) -> the English key it stands for."""
    out: dict[str, str] = {}
    for lang in lscpu_languages():
        for label, key in lang.labels.items():
            out[" ".join(label.lower().split())] = key
    return out
