"""SD.Next's own Python-version refusal (installer.py check_python, leftover12): its three wordings, each read for
the Python found and the versions that release accepts (real logs of sdnext#2070, #3872, #3561)."""

from __future__ import annotations

import pytest

from tests.test_explain_fixtures import explain_file


@pytest.mark.parametrize(
    ("log", "found", "accepts"),
    [
        ("python-version-refused--sdnext-3.11.5-required-9-10.txt", "3.11.5", "x one of 9, 10."),
        ("python-version-refused--sdnext-3.13.3-msstore-zluda.txt", "3.13.3", "x one of 9, 10, 11, 12."),
    ],
)
def test_the_minor_list_wording_names_what_this_release_accepts(log: str, found: str, accepts: str) -> None:
    top = explain_file(log)[0]
    assert top.id == "python-version-unsupported"
    assert f"found Python {found}" in top.cause and accepts in top.cause
    assert "delete SD.Next's `venv` folder" in top.fix


def test_the_pydantic_ceiling_is_not_answered_with_the_newest_312() -> None:
    """ "required 3.12.3 or lower": `uv python install 3.12` would bring 3.12.x again; the fix names 3.12.3 exactly."""
    top = explain_file("python-version-refused--sdnext-3.12.7-required-3.12.3-or-lower.txt")[0]
    assert "found Python 3.12.7" in top.cause and "3.12.3 or lower" in top.cause
    assert "uv python install 3.12.3" in top.fix and "uv python install 3.12`" not in top.fix
