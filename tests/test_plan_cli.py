"""`rigfit plan` on the command line: usage errors, JSON contract, explain tree, doctor summary."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from rigfit.cli import app
from rigfit.plan.summary import doctor_summary
from tests import plan_profiles as machines
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

runner = CliRunner()
MACHINE = FIXTURES / "machines" / "x5670-rx460-gfx803-x58"


def test_bad_ui_exits_2_listing_valid_uis() -> None:
    result = runner.invoke(app, ["plan", "--ui", "vlad", "--from", str(MACHINE)])
    assert result.exit_code == 2
    assert "forge, a1111, comfyui, sdnext, invokeai" in result.output


def test_bad_extra_and_missing_capture_exit_2() -> None:
    assert runner.invoke(app, ["plan", "--with", "tensorflow", "--from", str(MACHINE)]).exit_code == 2
    assert runner.invoke(app, ["plan", "--from", "/nonexistent/capture"]).exit_code == 2


def test_json_contract() -> None:
    result = runner.invoke(app, ["plan", "--from", str(MACHINE), "--json", "--ui", "comfyui"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "rigfit.plan/1" and "cpu" in doc["profile"]
    plan = doc["plan"]
    for key in ("backend", "device", "torch", "env", "precision", "ui_flags", "models", "blockers", "reasons"):
        assert key in plan
    assert set(plan["torch"]) >= {"version", "index_url", "source"}
    assert all({"topic", "text", "facts", "kb"} <= set(r) for r in plan["reasons"])


def test_explain_prints_a_tree_and_report_prints_launch_line() -> None:
    result = runner.invoke(app, ["plan", "--from", str(MACHINE), "--explain"])
    assert result.exit_code == 0 and "torch:" in result.output and "alternatives" in result.output
    result = runner.invoke(app, ["plan", "--from", str(MACHINE)])
    assert result.exit_code == 0 and "python launch.py" in result.output


def test_doctor_summary_lines_and_findings() -> None:
    lines, findings = doctor_summary(machines.x58_rx460())
    assert lines and lines[0].startswith("backend cpu")
    assert not any(f.id == "plan.pcie-atomics-rejected" for f in findings)  # the GPU probe reports that one
    kepler = machines.gtx950m()
    kepler.gpus[0].compute_capability = "3.5"
    lines, findings = doctor_summary(kepler)
    blocker = next(f for f in findings if f.id == "plan.cuda-arch-unsupported")
    assert blocker.group == "plan" and blocker.severity == "blocker" and blocker.blocks == "gpu" and blocker.fix


def test_plan_env_adopts_what_bench_measured_here(tmp_path, monkeypatch) -> None:
    from rigfit.kb.measured import BenchConfig, VerifiedFacts, save_verified

    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))
    env_dir = str(tmp_path / "venv")
    best = BenchConfig(dtype="fp32", attention="sdpa", seconds_per_image=190.0)
    save_verified(VerifiedFacts(env_dir=env_dir, device="cpu", precision_ok={"fp32": True}, best=best))
    result = runner.invoke(app, ["plan", "--env", env_dir, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)["plan"]
    assert plan["backend"] == "cpu" and plan["precision"] == "fp32"
    assert any(r["topic"] == "precision" and "measured" in r["text"] for r in plan["reasons"])


def test_plan_env_with_a_capture_is_a_usage_error(tmp_path) -> None:
    assert runner.invoke(app, ["plan", "--env", str(tmp_path), "--from", str(MACHINE)]).exit_code == 2


def test_explain_tree_wraps_long_reasons_and_never_crops_them() -> None:
    capture = FIXTURES / "machines" / "x5670-rx460-gfx803-x58"
    proc = subprocess.run(
        [sys.executable, "-m", "rigfit.cli", "plan", "--from", str(capture), "--explain"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "60"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 60
    text = " ".join(re.sub("[│├└─]", " ", proc.stdout).split())
    assert "Stable Diffusion runs on the CPU, minutes per image." in text
