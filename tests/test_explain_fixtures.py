"""Every known issue is recognised in at least one real log, ranks first there, and unrelated logs match nothing."""

from __future__ import annotations

import pytest
import yaml

from rigfit.explain.match import catalogue, explain_stream
from tests.conftest import FIXTURES

LOGS = FIXTURES / "logs"
INDEX = yaml.safe_load((LOGS / "INDEX.yaml").read_text(encoding="utf-8"))["logs"]


def explain_file(name: str):
    with (LOGS / name).open("rb") as stream:
        return explain_stream(stream).explanations


@pytest.mark.parametrize("row", INDEX, ids=[row["file"] for row in INDEX])
def test_real_log_ranks_its_issue_first(row: dict) -> None:
    explanations = explain_file(row["file"])
    if row["expect"] is None:
        assert explanations == [], f"unrelated log matched {[e.id for e in explanations]}"
    else:
        assert explanations, "nothing matched"
        assert explanations[0].id == row["expect"], [(e.id, e.confidence) for e in explanations]
        assert explanations[0].evidence, "an explanation must point at the lines it matched"


def test_every_known_issue_has_a_real_log() -> None:
    covered = {row["expect"] for row in INDEX}
    missing = sorted(issue.entry.id for issue in catalogue() if issue.entry.id not in covered)
    assert missing == []


def test_index_lists_every_log_once_with_a_public_source() -> None:
    on_disk = sorted(str(p.relative_to(LOGS)) for p in LOGS.rglob("*.txt"))
    listed = [row["file"] for row in INDEX]
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    for row in INDEX:
        assert row["source"].startswith("https://"), row["file"]
    sources_md = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    for name in listed:
        assert f"logs/{name}" in sources_md, f"{name} is not recorded in tests/fixtures/SOURCES.md"


def test_the_catalogue_is_broad_enough() -> None:
    assert len(catalogue()) >= 30


def test_seed_failures_are_known() -> None:
    """The crashes the seed machines' owners decoded by hand are all in the catalogue."""
    ids = {issue.entry.id for issue in catalogue()}
    assert {
        "sigill-cpu-features",
        "pcie-atomics-rejected",
        "hip-no-binary-for-gpu",
        "hf-cached-download-removed",
        "torchvision-nms-missing",
        "torch-too-old-xpu",
        "torch-too-old-rmsnorm",
        "torch-too-old-device-mesh",
        "kornia-pyramid-import",
        "diffusers-version-mismatch",
        "cuda-toolkit-missing-for-build",
        "xformers-torch-mismatch",
        "docker-build-no-gpu",
    } <= ids
