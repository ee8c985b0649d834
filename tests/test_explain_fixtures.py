"""Every known issue is recognised in at least one real log, ranks first there, and unrelated logs match nothing.

Rows of logs/INDEX.yaml name the known issue or the class of failure (an analyzer's id, rigfit/explain/analyzers/)
that must rank first, and the facts the explanation must have read out of the log (`facts:`). Rows marked `heldout`
were kept aside while the analyzers were written: they measure how the analyzers do on logs nobody tuned them on.
"""

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
        return
    assert explanations, "nothing matched"
    top = explanations[0]
    assert top.id == row["expect"], [(e.id, e.confidence) for e in explanations]
    assert top.evidence, "an explanation must point at the lines it matched"
    for name, value in (row.get("facts") or {}).items():
        assert top.facts.get(name) == str(value), (name, top.facts)
    if top.kind == "class":
        assert top.cause and top.fix and top.source, "a class analyzer must say the cause, the fix and a source"


def test_index_rows_are_well_formed() -> None:
    for row in INDEX:
        assert set(row) <= {"file", "source", "expect", "facts", "heldout", "note"}, row["file"]


def test_every_class_analyzer_has_real_logs() -> None:
    """Each class of failure is tested on several real logs of different UIs and years."""
    counts: dict[str, int] = {}
    for row in INDEX:
        counts[str(row["expect"])] = counts.get(str(row["expect"]), 0) + 1
    classes = {"pip-resolver-conflict", "pip-no-matching-distribution", "torch-replaced-by-install",
               "tool-option-unknown", "pip-build-failed", "python-module-not-found", "python-module-not-provided",
               "python-name-version-mismatch", "gpu-out-of-memory", "sigill-cpu-features", "rocm-gfx-missing",
               "cuda-arch-missing", "shared-library-missing", "cuda-driver-too-old", "amdgpu-fault",
               "hf-gated-model", "network-unreachable", "hf-error", "None"}  # fmt: skip
    assert {c: counts.get(c, 0) for c in classes if counts.get(c, 0) < 2} == {}


def test_enough_real_logs_and_a_held_out_set() -> None:
    assert len(INDEX) >= 120
    assert sum(1 for row in INDEX if row.get("heldout")) >= 20


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
