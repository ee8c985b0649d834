"""cmd's "command not found" in Chinese and Japanese (leftover12, issue 10): the scanner takes keywords without
case (CJK words) as it takes ASCII ones, so the same known issue answers it."""

from __future__ import annotations

import pytest

from rigfit.kb.issues import IssueEntry
from rigfit.kb.typed import ValidationError, load_as
from tests.test_explain_fixtures import explain_file


def test_chinese_cmd_names_the_program_it_did_not_find() -> None:
    top = explain_file("required-program-missing--lawgpt-bash-zh-cmd.txt")[0]
    assert top.id == "required-program-missing" and "`bash`" in top.cause and "Install bash" in top.fix


def test_japanese_cmd_names_the_program_it_did_not_find() -> None:
    top = explain_file("required-program-missing--ja-cmd-git-npm.txt")[0]
    assert top.id == "required-program-missing" and "`git`" in top.cause and "Install Git" in top.fix


def test_a_keyword_with_case_outside_ascii_is_refused() -> None:
    """The scanner lower-cases bytes as ASCII: "Ä" in a keyword would never meet a log's "Ä" lowered."""
    entry = {"id": "x", "source": "s", "title": "t", "keywords": ["Äpfel fehlt"], "cause": "c", "fix": "f"}
    with pytest.raises(ValidationError, match="without case"):
        load_as(IssueEntry, entry)
