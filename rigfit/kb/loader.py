"""Load and validate the knowledge base: YAML data under rigfit/kb/, every entry with a `source`.

A KB file is a mapping with `entries:` (a list). Each entry is validated against the dataclass its consumer
declares (a subclass of `KbEntry`), at load (rigfit/kb/typed.py), with an error that names the file, the entry and the
field.
Rules in code cite entry ids (`kb=[...]` on findings and plan reasons), so ids are unique per file.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

from rigfit.kb.parsed_cache import parsed
from rigfit.kb.typed import FieldError, ValidationError, load_as
from rigfit.kb.versions import InvalidVersion, check_range
from rigfit.paths import cache_dir
from rigfit.records import record

KB_DIR = Path(__file__).resolve().parent


class KbError(Exception):
    """The knowledge base itself is broken (a bug in rigfit's data, not the user's machine)."""


@record(frozen=True, kw_only=True)
class KbEntry:
    """One KB entry. Subclasses are frozen, keyword-only, slotted dataclasses; their checks beyond the field types go
    in `_check` (raise `FieldError(field, why)` about one field, ValueError about the entry)."""

    id: str
    source: str | list[str]  # URL, or "owner/repo:path[@commit]"; several when facts were cross-checked

    def __post_init__(self) -> None:
        values = [self.source] if isinstance(self.source, str) else self.source
        if not values or any(not v or not v.strip() for v in values):
            raise FieldError("source", "every KB entry needs a non-empty source (URL or repo:path)")
        self._check()

    def _check(self) -> None:
        """A subclass's own checks (a dataclass with slots cannot chain __post_init__ through super())."""

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)


def version_range(value: str | None, field: str = "") -> str | None:
    """Check of PEP 440 ranges in KB entries (">=2.4,<2.6"); None means every version. With `field`, a bad range
    raises FieldError naming it."""
    if value is not None:
        try:
            check_range(value)
        except InvalidVersion as exc:
            message = f"not a version range: {value!r} ({exc})"
            raise FieldError(field, message) if field else ValueError(message) from exc
    return value


def version_ranges(entry: object, *fields: str) -> None:
    """version_range on each named field of an entry."""
    for name in fields:
        version_range(getattr(entry, name), name)


E = TypeVar("E", bound=KbEntry)


def _parse_yaml(text: str) -> object:
    import yaml  # only when the KB cache misses: importing yaml is a tenth of doctor's start-up

    try:
        # libyaml's safe loader parses the KB ~10x faster than the pure-Python one; same documents, same safety
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise KbError(f"cannot be read as YAML: {exc}") from exc


def _cache_file(path: Path) -> Path | None:
    """Where the parsed form of a KB file is kept; None for a file outside the KB or without a cache dir."""
    try:
        return cache_dir() / "kb" / path.relative_to(KB_DIR).with_suffix(".json")
    except (ValueError, RuntimeError):  # not under KB_DIR; no home directory
        return None


@functools.cache
def _read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KbError(f"{path}: cannot be read as YAML: {exc}") from exc
    try:
        return parsed(text, _cache_file(path), _parse_yaml)
    except KbError as exc:
        raise KbError(f"{path}: {exc}") from exc


def kb_files(pattern: str) -> list[Path]:
    """KB files matching a glob under rigfit/kb (e.g. "issues/*.yaml")."""
    return sorted(KB_DIR.glob(pattern))


@functools.cache
def load_entries(relpath: str, model: type[E]) -> tuple[E, ...]:
    """All entries of one KB file (or of every file matching a glob), validated against `model`."""
    paths = kb_files(relpath) if any(c in relpath for c in "*?[") else [KB_DIR / relpath]
    entries: list[E] = []
    seen: dict[str, Path] = {}
    for path in paths:
        data = _read_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise KbError(f"{path}: expected a mapping with an 'entries:' list")
        for index, raw in enumerate(data["entries"]):
            label = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
            try:
                entry = load_as(model, raw, f"{path}: entry '{label}'")
            except ValidationError as exc:
                raise KbError(str(exc)) from exc
            if entry.id in seen:
                raise KbError(f"{path}: entry id '{entry.id}' is already used in {seen[entry.id]}")
            seen[entry.id] = path
            entries.append(entry)
    return tuple(entries)


def by_id(entries: tuple[E, ...]) -> dict[str, E]:
    return {e.id: e for e in entries}


__all__ = ["KB_DIR", "KbEntry", "KbError", "by_id", "kb_files", "load_entries", "version_range"]
