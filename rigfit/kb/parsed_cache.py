"""The KB's YAML files, parsed once and kept as JSON in rigfit's cache dir.

Even libyaml builds every YAML node in Python: parsing the KB files doctor reads is about a sixth of its run (and
importing yaml more), while json reads the same data in C. One JSON file per KB file, keyed by the length and
CRC-32 of the YAML text it was parsed from (zlib is loaded anyway; importing hashlib would cost doctor 2% more), so an
edited or upgraded KB file is parsed again. Any problem with the cache (missing, unreadable, corrupt, stale, not
writable) falls back to parsing the YAML, silently.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path

from rigfit.paths import write_atomic

CACHE_FORMAT = 2  # bump when what is stored changes


def parsed(text: str, cache: Path | None, parse: Callable[[str], object]) -> object:
    """`parse(text)`, or the data cached for this exact text at `cache` (None: no cache)."""
    data = text.encode("utf-8")
    key = f"{len(data)}:{zlib.crc32(data):08x}"
    if cache is not None:
        hit = _cached(cache, key)
        if hit is not None:
            return hit[0]
    parsed_data = parse(text)
    if cache is not None:
        _store(cache, key, parsed_data)
    return parsed_data


def _cached(cache: Path, key: str) -> tuple[object] | None:
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(stored, dict) and stored.get("format") == CACHE_FORMAT and stored.get("key") == key:
        return (stored.get("data"),)
    return None


def _store(cache: Path, key: str, data: object) -> None:
    """Keep `data` only when JSON gives it back equal (no dates, no non-string keys): else it is parsed each time."""
    try:
        text = json.dumps({"format": CACHE_FORMAT, "key": key, "data": data})
        if json.loads(text)["data"] != data:
            return
        write_atomic(cache, text)
    except (OSError, TypeError, ValueError):
        return
