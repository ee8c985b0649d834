"""Whole-machine captures (tests/fixtures/machines/*) replayed through `rigfit doctor --from DIR --json`, whose
printed profile and exit code are checked against each EXPECTED.yaml.

Each capture holds real outputs of one machine (plus the facts its seed states, encoded minimally); EXPECTED.yaml says
what a correct doctor must find in it. A key set to null there means the fact must stay unknown: nothing in the
capture states it, so a value would be a guess.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import yaml

from rigfit.cli import app
from rigfit.kb.typed import load_as
from rigfit.probe.profile import GpuInfo, Profile
from rigfit.probe.report import SCHEMA
from rigfit.probe.source import CaptureSource
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

MACHINES_DIR = FIXTURES / "machines"
MACHINES = sorted(p.name for p in MACHINES_DIR.iterdir() if (p / "EXPECTED.yaml").is_file())
CAPTURE_META = {"EXPECTED.yaml", "rigfit-capture.json"}
PROFILE_SECTIONS = ("cpu", "memory", "os", "python", "torch")
# The seed machines of the brief (issue 3's golden-planner inputs), named here, not read from EXPECTED.yaml.
BRIEF_MACHINES = {
    "macpro51-westmere-rx6600xt": "000, 001",
    "rx5500xt-debian11-a1111-docker": "002",
    "runpod-pytorch3d-cuda121": "003",
    "x5670-rx460-gfx803-x58": "004",
}


@functools.cache
def expected(machine: str) -> dict[str, Any]:
    return yaml.safe_load((MACHINES_DIR / machine / "EXPECTED.yaml").read_text(encoding="utf-8"))


@functools.cache
def doctor_output(machine: str) -> tuple[int, dict[str, Any]]:
    """What `rigfit doctor --from DIR --json` prints for a capture, and its exit code."""
    result = CliRunner().invoke(app, ["doctor", "--from", str(MACHINES_DIR / machine), "--json", "--no-torch-check"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)


@functools.cache
def replay(machine: str) -> Profile:
    """The profile doctor printed (read back into the typed model, so EXPECTED keys name its fields)."""
    return load_as(Profile, doctor_output(machine)[1]["profile"], machine, extra="ignore")


def capture_files(machine: str) -> set[str]:
    root = MACHINES_DIR / machine
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - CAPTURE_META


def norm_bdf(bdf: str | None) -> str | None:
    """'08:00.0', '0000:08:00.0' and nvidia-smi's '00000000:08:00.0' name the same device."""
    return None if bdf is None else bdf.strip().lower()[-7:]


def mismatches(actual: Any, want: dict[str, Any], where: str) -> list[str]:
    """Every key of `want` compared with the same-named attribute of `actual` ('x_contains': case-free substring)."""
    found = []
    for key, value in want.items():
        field = key.removesuffix("_contains")
        got = getattr(actual, field, None) if actual is not None else None
        if isinstance(value, dict) and not isinstance(got, dict):
            found += mismatches(got, value, f"{where}.{field}")
            continue
        if key.endswith("_contains"):
            ok = got is not None and str(value).lower() in str(got).lower()
        elif field == "bdf":
            ok = norm_bdf(got) == norm_bdf(value)
        elif isinstance(value, list) and isinstance(got, list):
            ok = sorted(str(v).lower() for v in got) == sorted(str(v).lower() for v in value)
        elif isinstance(value, dict):
            ok = all(got.get(k) == v for k, v in value.items())
        elif isinstance(value, float) and got is not None:
            ok = float(got) == value
        else:
            ok = got == value
        if not ok:
            found.append(f"{where}.{key}: expected {value!r}, doctor found {got!r}")
    return found


def match_gpu(gpus: list[GpuInfo], want: dict[str, Any]) -> GpuInfo | None:
    """The found GPU that the expected one describes: same bus address, else same gfx, else same PCI id."""
    for key, same in (
        ("bdf", lambda g: norm_bdf(g.bdf) == norm_bdf(want["bdf"])),
        ("gfx", lambda g: g.gfx == want["gfx"]),
        ("pci_id", lambda g: (g.pci_id or "").lower() == want["pci_id"]),
    ):
        if key in want:
            hits = [g for g in gpus if same(g)]
            return hits[0] if hits else None
    return None


def section_mismatches(machine: str, section: str) -> list[str]:
    want = expected(machine)["doctor"]
    profile = replay(machine)
    if section in PROFILE_SECTIONS:
        return mismatches(getattr(profile, section), want.get(section, {}), section)
    if section == "gpus":
        found = []
        if "gpu_count" in want and len(profile.gpus) != want["gpu_count"]:
            names = [g.name or g.gfx or g.pci_id for g in profile.gpus]
            found.append(f"gpu_count: expected {want['gpu_count']}, doctor found {len(profile.gpus)}: {names}")
        for i, gpu in enumerate(want.get("gpus", [])):
            hit = match_gpu(profile.gpus, gpu)
            if hit is None:
                found.append(f"gpus[{i}]: no GPU found matching {gpu}")
            else:
                found += mismatches(hit, gpu, f"gpus[{i}]")
        return found
    if section == "drivers":
        keys = ("nvidia_driver", "cuda_driver_version", "pcie_atomics_rejected", "rocm")
        return mismatches(profile, {k: want[k] for k in keys if k in want}, "profile")
    if section == "permissions":
        found = mismatches(profile, {k: want[k] for k in ("kfd_access",) if k in want}, "profile")
        for node, access in want.get("render_nodes", {}).items():
            got = profile.permissions.render_nodes.get(node)
            if got != access:
                found.append(f"permissions.render_nodes[{node}]: expected {access!r}, doctor found {got!r}")
        return found
    code = doctor_output(machine)[0]
    return [] if code == want["exit_code"] else [f"exit code: expected {want['exit_code']}, doctor gives {code}"]


@pytest.mark.parametrize("machine", MACHINES)
def test_expected_file_documents_the_capture(machine: str) -> None:
    """Every capture file has a recorded source, every source names a real file, and a plan is written down."""
    exp = expected(machine)
    assert {"doctor", "plan_expectations", "sources"} <= exp.keys()
    assert "exit_code" in exp["doctor"]
    assert capture_files(machine) == set(exp["sources"]), "files and sources disagree"
    meta = json.loads((MACHINES_DIR / machine / "rigfit-capture.json").read_text())
    assert meta.get("assembled") is True or "collected" in meta  # assembled by hand, or written by `rigfit capture`
    assert CaptureSource(MACHINES_DIR / machine).warnings == []


def sections(machine: str) -> list[str]:
    """The report sections EXPECTED.yaml says something about, for one test each."""
    doctor = expected(machine)["doctor"]
    found = [s for s in PROFILE_SECTIONS if s in doctor] + ["gpus", "exit_code"]
    if {"nvidia_driver", "cuda_driver_version", "pcie_atomics_rejected", "rocm"} & doctor.keys():
        found.append("drivers")
    if {"kfd_access", "render_nodes"} & doctor.keys():
        found.append("permissions")
    return found


@pytest.mark.parametrize(("machine", "section"), [(m, s) for m in MACHINES for s in sections(m)])
def test_doctor_finds_the_expected_facts(machine: str, section: str) -> None:
    problems = section_mismatches(machine, section)
    assert not problems, f"{machine}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("machine", MACHINES)
def test_doctor_json_from_capture(machine: str) -> None:
    """`rigfit doctor --from DIR --json` exits as EXPECTED says and prints the public JSON contract."""
    exit_code, data = doctor_output(machine)
    assert data["schema"] == SCHEMA
    assert {"profile", "findings"} <= data.keys()
    assert {"cpu", "memory", "gpus", "rocm", "permissions", "python", "os", "warnings"} <= data["profile"].keys()
    assert data["profile"]["source"] == f"capture {MACHINES_DIR / machine}"
    for finding in data["findings"]:
        assert finding["message"] and finding["severity"] in ("blocker", "warning", "info")
        assert finding["severity"] == "info" or finding["fix"], f"problem without a fix: {finding}"
    assert exit_code == expected(machine)["doctor"]["exit_code"]


@pytest.mark.parametrize(("machine", "seed"), sorted(BRIEF_MACHINES.items()))
def test_every_machine_of_the_brief_is_captured(machine: str, seed: str) -> None:
    """The four seed machines are the golden-planner inputs (issue 3): they must stay present, with what doctor
    finds in them written down, and doctor's verdict on each as written."""
    assert machine in MACHINES and capture_files(machine)
    assert expected(machine)["seed"] == seed
    exit_code, data = doctor_output(machine)
    assert len(data["profile"]["gpus"]) == expected(machine)["doctor"].get("gpu_count", len(data["profile"]["gpus"]))
    assert exit_code == expected(machine)["doctor"]["exit_code"]
