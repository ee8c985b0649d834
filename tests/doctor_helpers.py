"""What the held-out doctor class tests share: a fixture's text, and doctor's reading of one pasted output given
through a capture directory that holds only it (as a user's paste reaches `rigfit doctor --from`)."""

from __future__ import annotations

import json
from pathlib import Path

from rigfit.probe.gather import probe_machine
from rigfit.probe.profile import Profile
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES

DOCTOR = FIXTURES / "doctor"


def read(name: str) -> str:
    return (DOCTOR / name).read_text(encoding="utf-8")


def pasted(tmp_path: Path, tool: str, text: str) -> Profile:
    (tmp_path / "commands").mkdir(parents=True)
    (tmp_path / "rigfit-capture.json").write_text(json.dumps({"rigfit_version": "test", "assembled": True}))
    (tmp_path / "commands" / f"{tool}.out").write_text(text, encoding="utf-8")
    (tmp_path / "commands" / f"{tool}.rc").write_text("0\n")
    return probe_machine(CaptureSource(tmp_path), torch_check=False)
