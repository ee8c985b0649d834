"""What the held-out explain tests ask of a real log or a text: the explanations, or just their ids."""

from __future__ import annotations

from rigfit.explain.match import explain_stream, explain_text
from tests.conftest import FIXTURES

LOGS = FIXTURES / "logs"


def found(name: str):
    with (LOGS / name).open("rb") as stream:
        return explain_stream(stream).explanations


def ids(text: str) -> list[str]:
    return [e.id for e in explain_text(text).explanations]
