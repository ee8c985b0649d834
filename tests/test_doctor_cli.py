"""`rigfit doctor` and `rigfit capture` on the command line: --env, usage errors, the JSON contract."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from rigfit.cli import app
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

runner = CliRunner()
MACHINE = FIXTURES / "machines" / "x5670-rx460-gfx803-x58"


def test_env_that_is_not_a_venv_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["doctor", "--env", str(tmp_path)])
    assert result.exit_code == 2 and "not a virtual environment" in result.output


def test_env_with_a_capture_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    assert runner.invoke(app, ["doctor", "--env", str(tmp_path), "--from", str(MACHINE)]).exit_code == 2


def test_json_contract_from_a_capture() -> None:
    result = runner.invoke(app, ["doctor", "--from", str(MACHINE), "--json"])
    doc = json.loads(result.output)
    assert result.exit_code == 0 and doc["schema"] == "rigfit.doctor/1"
    assert {"arch", "model", "flags", "sse4_2", "avx", "avx2", "fma", "avx512f"} <= set(doc["profile"]["cpu"])
    gpu = doc["profile"]["gpus"][0]
    assert {"vendor", "name", "pci_id", "gfx", "compute_capability", "vram_bytes", "integrated", "driver"} <= set(gpu)
    assert doc["profile"]["pcie_atomics_rejected"] == ["1002:67ef"] and doc["profile"]["kfd_access"] == "ok"
    assert all({"id", "severity", "message", "fix"} <= set(f) for f in doc["findings"])


@pytest.mark.slow
def test_env_checks_that_venvs_torch(torch_env: Path, tmp_path: Path) -> None:
    env_dir = torch_env.parent.parent
    result = runner.invoke(app, ["doctor", "--env", str(env_dir), "--json"])
    torch = json.loads(result.output)["profile"]["torch"]
    assert torch["version"] == "2.13.0+cpu" and torch["import_status"] == "ok" and torch["gpu_available"] is False
    assert torch["location"].startswith(str(env_dir))
    # a capture made with --env records that torch, and replays it
    archive = tmp_path / "m.tar.gz"
    assert runner.invoke(app, ["capture", "-o", str(archive), "--env", str(env_dir)]).exit_code == 0
    with tarfile.open(archive) as tar:
        assert "rigfit-capture/facts/torch.json" in tar.getnames()
    replayed = json.loads(runner.invoke(app, ["doctor", "--from", str(archive), "--json"]).output)
    assert replayed["profile"]["torch"]["version"] == "2.13.0+cpu"


def test_report_marks_only_findings_without_a_fix_as_fine_and_says_what_is_unknown() -> None:
    from rich.console import Console

    from rigfit.probe.profile import Finding, GpuInfo, Profile
    from rigfit.probe.report import render_doctor

    findings = [
        Finding(id="a.fine", severity="info", message="AVX2 present", group="cpu"),
        Finding(id="b.todo", severity="info", message="numpy could be pinned", fix="pin numpy", group="cpu"),
    ]
    out = Console(file=io.StringIO(), width=200, highlight=False)
    render_doctor(Profile(gpus=[GpuInfo(vendor="amd", name="Radeon")]), findings, out)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "✓ AVX2 present" in text and "i numpy could be pinned" in text and "✓ numpy" not in text
    assert "[PCI id unknown]" in text and "[?]" not in text
