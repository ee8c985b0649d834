"""Doctor on the heldd held-out pastes (issue 10): real outputs scored before the parsers changed, kept with the
reading a right doctor gives (tests/fixtures/doctor/heldout-d.yaml). Each case is fed the way `doctor --from` reads
a capture of pasted outputs; a fact the paste does not show must stay unknown (null), never guessed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.profile import Profile
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES

DOCTOR = FIXTURES / "doctor"
# rounds heldd to heldd13 (each scored blind against the rules before it); the keys are the same
CASES: dict[str, dict[str, Any]] = {
    name: case
    for round_file in (
        "heldout-d.yaml",
        "heldout-d2.yaml",
        "heldout-d3.yaml",
        "heldout-d4.yaml",
        "heldout-d5.yaml",
        "heldout-d6.yaml",
        "heldout-d7.yaml",
        "heldout-d8.yaml",
        "heldout-d9.yaml",
        "heldout-d10.yaml",
        "heldout-d11.yaml",
        "heldout-d12.yaml",
        "heldout-d13.yaml",
        "heldout-d14.yaml",
    )
    for name, case in yaml.safe_load((DOCTOR / round_file).read_text(encoding="utf-8"))["cases"].items()
}


def assembled(tmp_path: Path, pastes: dict[str, str]) -> Profile:
    """A capture holding only the pasted outputs: commands/<name>.out, or files/<path> for a file."""
    (tmp_path / "commands").mkdir(parents=True)
    (tmp_path / "rigfit-capture.json").write_text(json.dumps({"rigfit_version": "test", "assembled": True}))
    for name, fixture in pastes.items():
        text = (DOCTOR / fixture).read_text(encoding="utf-8")
        if name.startswith("/"):
            target = tmp_path / "files" / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        else:
            (tmp_path / "commands" / f"{name}.out").write_text(text, encoding="utf-8")
            (tmp_path / "commands" / f"{name}.rc").write_text("0\n")
    return probe_machine(CaptureSource(tmp_path), torch_check=False)


def test_every_case_is_marked_held_out_and_its_files_exist() -> None:
    assert len(CASES) >= 20
    for name, case in CASES.items():
        assert case["heldout"] is True, name
        assert all((DOCTOR / f).is_file() for f in case["pastes"].values()), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_held_out_paste_is_read_right(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    profile = assembled(tmp_path, case["pastes"])
    if "gpus" in case:
        assert len(profile.gpus) == len(case["gpus"]), [g.name for g in profile.gpus]
        for gpu, expected in zip(profile.gpus, case["gpus"], strict=True):
            assert {k: getattr(gpu, k) for k in expected} == expected
    for key, value in case.get("cpu", {}).items():
        assert getattr(profile.cpu, key) == value, key
    for key, value in case.get("profile", {}).items():
        assert getattr(profile, key) == value, key
    ids = {f.id for f in findings_for(profile)}
    assert set(case.get("findings", [])) <= ids, sorted(ids)
    assert not set(case.get("not_findings", [])) & ids, sorted(ids)
    if "warning" in case:
        assert any(case["warning"] in w for w in profile.warnings), profile.warnings


def test_a_rocminfo_permission_failure_is_not_called_an_unknown_runtime_failure(tmp_path: Path) -> None:
    profile = assembled(tmp_path, {"rocminfo": "../logs/kfd-permission-denied--docker-render-group.txt"})
    assert "rocm.runtime_failed" not in {f.id for f in findings_for(profile)}


@pytest.mark.parametrize("name", ["nvidia-smi-q--gtx780", "lspci-vnn-egrep--gtx560ti-fermi"])
def test_the_plan_refuses_cuda_on_kepler_and_fermi_cards(tmp_path: Path, name: str) -> None:
    """Their compute capability (now in gpus.yaml) is what makes the plan say no CUDA wheel has their kernels,
    instead of "compute capability unknown; assuming a current CUDA wheel fits"."""
    plan = make_plan(assembled(tmp_path, CASES[name]["pastes"]), PlanOptions())
    assert plan.backend == "cpu" and any(b.id == "cuda-arch-unsupported" for b in plan.blockers)


def test_a_driver_older_than_every_line_is_said_not_called_compatible(tmp_path: Path) -> None:
    """Tesla K80 on driver 410 (CUDA 10.0): every line with sm_37 kernels needs a newer driver. The plan said the
    CUDA 11.8 wheel runs "through minor-version compatibility (driver >= 450.80.02)"; it now says update the driver."""
    plan = make_plan(assembled(tmp_path, CASES["nvidia-smi-tesla-k80--driver410"]["pastes"]), PlanOptions())
    too_old = next(w for w in plan.warnings if w.id == "driver-too-old")
    assert "410.104" in too_old.message and "450.80.02" in too_old.fix
    texts = [str(r["text"]) for r in plan.reasons]
    assert not any("minor-version compatibility" in t or "driver runs" in t for t in texts), texts


def test_a_cut_rocminfo_does_not_say_rocm_lists_no_agent_for_a_card_lspci_shows(tmp_path: Path) -> None:
    """rocminfo stopped inside its CPU agent: whether a GPU agent follows is unknown, so the AMD card lspci shows
    is not called "not registered by KFD"."""
    pastes = {"rocminfo": "rocminfo-cut-after-cpu-agent--xeon-e5-2698.txt", "lspci": "lspci-nn--navi31.txt"}
    profile = assembled(tmp_path, pastes)
    assert [g.vendor for g in profile.gpus] == ["amd"]
    assert "gpu.rocm_no_agent" not in {f.id for f in findings_for(profile)}


def test_the_cpu_plan_gives_no_sse_advice_off_x86(tmp_path: Path) -> None:
    """lscpu on s390x: x86 extensions do not apply there; the plan said "This CPU lacks SSE4.1" and gave an amd64
    Debian fix. An x86 CPU that lacks SSE4.1 (a Pentium M) still gets the advice."""
    s390x = make_plan(assembled(tmp_path / "s390x", CASES["lscpu-s390x-zvm"]["pastes"]), PlanOptions())
    assert "sse41-missing" not in {w.id for w in s390x.warnings}
    pentium = make_plan(assembled(tmp_path / "i386", CASES["cpuinfo-pentium-m--i386"]["pastes"]), PlanOptions())
    assert "sse41-missing" in {w.id for w in pentium.warnings}
