"""Load and validate the knowledge base: YAML data under rigfit/kb/, every entry with a `source`.

A KB file is a mapping with `entries:` (a list). Each entry is validated against the pydantic model its consumer
declares (a subclass of `KbEntry`), at load, with an error that names the file, the entry and the field.
Rules in code cite entry ids (`kb=[...]` on findings and plan reasons), so ids are unique per file.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from rigfit.kb.parsed_cache import parsed
from rigfit.paths import cache_dir

KB_DIR = Path(__file__).resolve().parent


class KbError(Exception):
    """The knowledge base itself is broken (a bug in rigfit's data, not the user's machine)."""


class KbEntry(BaseModel):
    # defer_build: an entry model builds its validator when its KB file is first loaded, so a command pays only for
    # the KB files it reads (doctor reads a third of them)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    source: str | list[str]  # URL, or "owner/repo:path[@commit]"; several when facts were cross-checked

    @field_validator("source")
    @classmethod
    def _source_not_empty(cls, value: str | list[str]) -> str | list[str]:
        values = [value] if isinstance(value, str) else value
        if not values or any(not v or not v.strip() for v in values):
            raise ValueError("every KB entry needs a non-empty source (URL or repo:path)")
        return value

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)


def version_range(value: str | None) -> str | None:
    """Validator for PEP 440 ranges in KB entries (">=2.4,<2.6"); None means every version."""
    if value is not None:
        try:
            SpecifierSet(value)
        except InvalidSpecifier as exc:
            raise ValueError(f"not a version range: {value!r} ({exc})") from exc
    return value


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
                entry = model.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
                raise KbError(f"{path}: entry '{label}': {problems}") from exc
            if entry.id in seen:
                raise KbError(f"{path}: entry id '{entry.id}' is already used in {seen[entry.id]}")
            seen[entry.id] = path
            entries.append(entry)
    return tuple(entries)


def by_id(entries: tuple[E, ...]) -> dict[str, E]:
    return {e.id: e for e in entries}


__all__ = ["KB_DIR", "KbEntry", "KbError", "by_id", "kb_files", "load_entries", "version_range"]
