"""The Armv8.0 (Raspberry Pi 3/4) SIGILL fix says only what its sources support (issue 10): the 2.10.0 LSE crash
was fixed by pytorch/pytorch PR 174401 (a 2.11.0 build imports on an ARMv8.0 CPU), so doctor and explain both give
`torch>=2.11`, citing the pull request, not an issue comment's word."""

from __future__ import annotations

from rigfit.kb.diagnosis import NativeLibrary
from rigfit.kb.loader import load_entries
from rigfit.probe.host_rules import host_rule
from tests.explain_helpers import found

FIX_PR = "https://github.com/pytorch/pytorch/pull/174401"


def _acl() -> NativeLibrary:
    return next(e for e in load_entries("native_libs.yaml", NativeLibrary) if e.id == "arm-compute-library")


def test_explain_on_the_real_pi4_torch240_log_gives_torch_2_11_with_its_source() -> None:
    first = found("sigill-arm--raspberrypi4-torch240-gdb.txt")[0]
    assert first.id == "sigill-native-library" and first.facts["instruction"] == "ldaddal"
    assert 'pip install "torch>=2.11"' in first.fix
    assert any(FIX_PR in s for s in first.source)


def test_doctor_and_explain_give_the_same_release_for_the_same_fact() -> None:
    rule = host_rule("torch-aarch64-lse-atomics")
    assert rule.fix == 'pip install "torch>=2.11"' and rule.fix in _acl().fix
    assert any(FIX_PR in s for s in rule.sources)


def test_no_claim_rests_on_the_issue_comment_alone() -> None:
    rule = host_rule("torch-aarch64-lse-atomics")
    for cited in (_acl().sources, rule.sources):
        assert not any("176993" in s for s in cited)
