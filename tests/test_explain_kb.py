"""The issue catalogue is data validated at load: a broken entry fails with a message naming it."""

from __future__ import annotations

import pytest

from rigfit.explain.analyzers import class_ids
from rigfit.explain.match import catalogue, holds
from rigfit.kb.issues import IssueEntry, Range
from rigfit.kb.registry import schema_for
from rigfit.kb.typed import ValidationError, load_as

GOOD = {
    "id": "example",
    "title": "An example",
    "keywords": ["out of memory"],
    "any_of": ["out of memory"],
    "cause": "The GPU ran out of memory in {ui_name}.",
    "fix": "Use less.",
    "source": "https://example.org/issue/1",
}


def test_a_minimal_entry_validates() -> None:
    assert load_as(IssueEntry, GOOD).id == "example"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"colour": "red"}, "extra"),
        ({"source": ""}, "source"),
        ({"any_of": ["(unclosed"]}, "does not compile"),
        ({"any_of": []}, "all_of or any_of"),
        ({"keywords": ["ab"]}, "3 characters"),
        ({"cause": "Only on {gfx}."}, "move ['gfx'] into a variant"),
        ({"variants": [{"fix": "Set {no_such_fact}."}]}, "unknown placeholder"),
        ({"when": {"no_such_fact": True}}, "unknown fact"),
        ({"variants": [{"when": {"cpu_avx": False}}]}, "cause or a fix"),
    ],
)
def test_broken_entries_are_refused(change: dict, complaint: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_as(IssueEntry, {**GOOD, **change})
    assert complaint in str(info.value)


def test_named_groups_are_placeholders_and_facts() -> None:
    entry = load_as(
        IssueEntry,
        {**GOOD, "any_of": ["sm_(?P<sm>\\d+)"], "variants": [{"when": {"sm": {"max": 61}}, "fix": "Old sm_{sm}."}]},
    )
    assert entry.group_names() == {"sm"}


def test_catalogue_ids_and_references_are_consistent() -> None:
    ids = [issue.entry.id for issue in catalogue()]
    assert len(ids) == len(set(ids))
    assert not set(ids) & class_ids()  # a known issue and a class answer never share an id
    for issue in catalogue():
        # a known issue may say a class answer's reading more precisely (cuda-out-of-memory: gpu-out-of-memory)
        assert set(issue.entry.supersedes) <= set(ids) | class_ids(), issue.entry.id
        assert issue.entry.id not in issue.entry.supersedes


def test_issue_files_are_registered_for_the_kb_check() -> None:
    assert schema_for("issues/amd.yaml") is IssueEntry


def test_conditions() -> None:
    assert holds(False, False) is True
    assert holds(False, 0) is False  # a bool condition wants a real bool
    assert holds(Range(max=61), "61") is True
    assert holds(Range(min=100), "61") is False
    assert holds(["docker", "podman"], "Docker") is True
    assert holds(True, None) is None
    assert holds(Range(min=1), "n/a") is None
