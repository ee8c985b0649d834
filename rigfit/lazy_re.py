"""Regular expressions compiled on first use.

Compiling a pattern runs Python's regex parser: the 65 patterns the probe declares at module level cost a tenth of
`rigfit doctor`, and a machine uses a third of them (no NVIDIA tool output on an AMD box, no paste in a live run).
`later(r"...")` stands for `re.compile(r"...")` in a module's constants; it compiles when a method is first looked up,
then answers as the compiled pattern.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _Later:
    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(*self._source)
        self.__dict__.update((attr, getattr(compiled, attr)) for attr in _FORWARDED)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"later({self._source[0]!r})"


_FORWARDED = (
    "match",
    "search",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


def later(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, done when the pattern is first used."""
    return cast("re.Pattern[str]", _Later(pattern, flags))
