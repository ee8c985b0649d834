"""Versions and version ranges as the KB and the plan compare them, without importing `packaging` for plain ones.

Importing packaging.specifiers compiles its PEP 440 regexes: a tenth of doctor's start-up. Nearly every version doctor
compares is a plain release ("2.1.0", "12.1", "535.104.05") and nearly every KB range is made of plain clauses
(">=2.4,<2.6"). For those, PEP 440's order is the order of the release numbers with trailing zeros dropped, which is
what `Version` compares. Anything else (pre-releases, epochs, `~=`, `==2.1.*`) goes to packaging, imported then.
tests/test_kb_versions.py checks both paths against packaging.
"""

from __future__ import annotations

import re
from functools import total_ordering
from typing import Any

_PLAIN = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*(\d+(?:\.\d+)*)\s*")


class InvalidVersion(ValueError):
    """Not a PEP 440 version."""


def _packaging_version(text: str) -> Any:
    from packaging.version import InvalidVersion as PackagingInvalid
    from packaging.version import Version as PackagingVersion

    try:
        return PackagingVersion(text)
    except PackagingInvalid as exc:
        raise InvalidVersion(str(exc)) from exc


def _release(text: str) -> tuple[int, ...]:
    numbers = [int(part) for part in text.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


@total_ordering
class Version:
    """A PEP 440 version: compared by its release numbers when it is a plain release, else by packaging."""

    __slots__ = ("_full", "_plain", "text")

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self._plain = _release(self.text) if _PLAIN.fullmatch(self.text) else None
        self._full = None if self._plain is not None else _packaging_version(self.text)

    def _packaging(self) -> Any:
        if self._full is None:
            self._full = _packaging_version(self.text)
        return self._full

    @property
    def major(self) -> int:
        return self._plain[0] if self._plain is not None else int(self._packaging().major)

    @property
    def minor(self) -> int:
        if self._plain is not None:
            return self._plain[1] if len(self._plain) > 1 else 0
        return int(self._packaging().minor)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        if self._plain is not None and other._plain is not None:
            return self._plain == other._plain
        return bool(self._packaging() == other._packaging())

    def __lt__(self, other: Version) -> bool:
        if self._plain is not None and other._plain is not None:
            return self._plain < other._plain
        return bool(self._packaging() < other._packaging())

    def __hash__(self) -> int:
        return hash(self._plain) if self._plain is not None else hash(self._packaging())

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Version('{self.text}')>"


def _plain_clauses(spec: str) -> list[tuple[str, tuple[int, ...]]] | None:
    """The clauses of a range made only of plain comparisons; None when any clause needs packaging."""
    clauses = []
    for part in spec.split(","):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            return None
        clauses.append((match.group(1), _release(match.group(2))))
    return clauses


_HOLDS = {
    "==": lambda have, bound: have == bound,
    "!=": lambda have, bound: have != bound,
    ">=": lambda have, bound: have >= bound,
    "<=": lambda have, bound: have <= bound,
    ">": lambda have, bound: have > bound,
    "<": lambda have, bound: have < bound,
}


def check_range(spec: str) -> None:
    """Raise InvalidVersion when `spec` is not a PEP 440 range (">=2.4,<2.6")."""
    if _plain_clauses(spec) is not None:
        return
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise InvalidVersion(str(exc)) from exc


def contains(spec: str, version: Version) -> bool:
    """Whether `version` lies in the range `spec`, pre-releases included (packaging's `prereleases=True`)."""
    clauses = _plain_clauses(spec)
    if clauses is not None and version._plain is not None:
        have = version._plain
        return all(_HOLDS[op](have, bound) for op, bound in clauses)
    from packaging.specifiers import SpecifierSet

    return bool(SpecifierSet(spec).contains(version._packaging(), prereleases=True))
