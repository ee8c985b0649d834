"""`later()` patterns act as compiled ones, compile on first use, and every one rigfit declares compiles."""

from __future__ import annotations

import importlib
import re
import sys

from rigfit.lazy_re import _Later, later
from tests.conftest import REPO

SAMPLE = r"(?P<vendor>AMD|NVIDIA) (?P<id>[0-9a-f]{4})"
TEXT = "gpu: AMD 73ff and NVIDIA 1db6"


def test_a_later_pattern_answers_as_the_compiled_one() -> None:
    mine, theirs = later(SAMPLE), re.compile(SAMPLE)
    for method, args in [("match", (TEXT,)), ("search", (TEXT,)), ("fullmatch", ("AMD 73ff",))]:
        got, expected = getattr(mine, method)(*args), getattr(theirs, method)(*args)
        assert (got and got.groupdict()) == (expected and expected.groupdict())
    assert [m.group("id") for m in mine.finditer(TEXT)] == ["73ff", "1db6"]
    assert mine.findall(TEXT) == theirs.findall(TEXT) and mine.sub("x", TEXT) == theirs.sub("x", TEXT)
    assert mine.split(TEXT) == theirs.split(TEXT) and mine.groupindex == theirs.groupindex
    assert later("a", re.IGNORECASE).match("A")


def test_nothing_is_compiled_before_first_use() -> None:
    pattern = later(r"([unbalanced")  # an invalid pattern fails only when used
    assert "match" not in vars(pattern)
    try:
        pattern.match("x")
    except re.error:
        return
    raise AssertionError("an invalid pattern was accepted")


def test_every_pattern_rigfit_declares_compiles() -> None:
    """A typo in a lazily compiled pattern would otherwise wait for the one machine whose output reaches it."""
    found = 0
    for path in sorted((REPO / "rigfit").rglob("*.py")):
        if "workers" in path.parts:
            continue
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        module = sys.modules.get(name) or importlib.import_module(name)
        for value in _constants(vars(module).values()):
            value.groups  # noqa: B018 - compiles it
            found += 1
    assert found > 40


def _constants(values: object) -> list[_Later]:
    """later() patterns among module constants, also inside tuples/lists/dicts of them."""
    found: list[_Later] = []
    for value in values if not isinstance(values, dict) else values.values():  # type: ignore[union-attr]
        if isinstance(value, _Later):
            found.append(value)
        elif isinstance(value, (tuple, list, dict)) and not isinstance(value, str):
            found += _constants(value)
    return found
