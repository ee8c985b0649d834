"""The KB's YAML files, parsed once and kept as JSON in rigfit's cache dir.

Even libyaml builds every YAML node in Python: parsing the KB files doctor reads is about a sixth of its run (and
importing yaml more), while json reads the same data in C. One JSON file per KB file, holding the sha256 of the YAML
text it was parsed from: an edited or upgraded KB file is parsed again. Any problem with the cache (missing,
unreadable, corrupt, stale, not writable) falls back to parsing the YAML, silently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from rigfit.paths import write_atomic

CACHE_FORMAT = 1  # bump when what is stored changes


def parsed(text: str, cache: Path | None, parse: Callable[[str], object]) -> object:
    """`parse(text)`, or the data cached for this exact text at `cache` (None: no cache)."""
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if cache is not None:
        hit = _cached(cache, key)
        if hit is not None:
            return hit[0]
    data = parse(text)
    if cache is not None:
        _store(cache, key, data)
    return data


def _cached(cache: Path, key: str) -> tuple[object] | None:
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(stored, dict) and stored.get("format") == CACHE_FORMAT and stored.get("sha256") == key:
        return (stored.get("data"),)
    return None


def _store(cache: Path, key: str, data: object) -> None:
    """Keep `data` only when JSON gives it back equal (no dates, no non-string keys): else it is parsed each time."""
    try:
        text = json.dumps({"format": CACHE_FORMAT, "sha256": key, "data": data})
        if json.loads(text)["data"] != data:
            return
        write_atomic(cache, text)
    except (OSError, TypeError, ValueError):
        return
