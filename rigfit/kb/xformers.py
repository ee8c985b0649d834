"""xformers_torch.yaml: the torch release each xformers wheel was built for, looked up by the torch a log shows."""

from __future__ import annotations

import functools

from packaging.version import InvalidVersion, Version

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.records import record


@record(frozen=True, kw_only=True)
class XformersBuild(KbEntry):
    """One xformers release (id: its PyPI version) and the one torch release its wheels require."""

    torch: str


@functools.cache
def xformers_builds() -> tuple[XformersBuild, ...]:
    return load_entries("xformers_torch.yaml", XformersBuild)


def xformers_for_torch(torch: str | None) -> XformersBuild | None:
    """The newest known xformers built for this torch ('2.4.1+cu121' -> 0.0.28.post1); None when none is known."""
    wanted = _release(torch)
    if wanted is None:
        return None
    matching = [b for b in xformers_builds() if _release(b.torch) == wanted]
    return max(matching, key=lambda b: Version(b.id)) if matching else None


def _release(version: str | None) -> Version | None:
    try:
        return Version(str(version).split("+")[0].strip()) if version else None
    except InvalidVersion:
        return None
