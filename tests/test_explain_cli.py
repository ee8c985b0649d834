"""`rigfit explain`: exit codes, JSON form, standard input, and what it says when nothing matches."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rigfit.cli import app
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

runner = CliRunner()
LOG = str(FIXTURES / "logs" / "pcie-atomics-rejected--rx580-x58-dmesg.txt")


def test_a_match_exits_0_with_cause_fix_and_source() -> None:
    result = runner.invoke(app, ["explain", "--no-probe", LOG])
    assert result.exit_code == 0, result.output
    assert "PCI rejects atomics" in result.output  # the evidence line
    assert "1002:67df" in result.output and "Cause:" in result.output and "Fix:" in result.output
    assert "https://github.com/ROCm/ROCm/issues/1214" in result.output


def test_json_schema() -> None:
    result = runner.invoke(app, ["explain", "--no-probe", "--json", LOG])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["schema"] == "rigfit.explain/1"
    top = data["matches"][0]
    assert {"id", "title", "cause", "fix", "source", "confidence"} <= set(top)
    assert top["id"] == "pcie-atomics-rejected" and 0 < top["confidence"] <= 1
    assert top["evidence"][0]["line"] == 1
    assert data["looked_at"]["lines"] == 1


def test_standard_input() -> None:
    log = (FIXTURES / "logs" / "pep668-externally-managed--comfyui-ubuntu2404.txt").read_bytes()
    result = runner.invoke(app, ["explain", "--no-probe", "--json", "-"], input=log)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["matches"][0]["id"] == "pep668-externally-managed"


def test_nothing_matched_exits_1_and_says_what_it_read() -> None:
    log = str(FIXTURES / "logs" / "unrelated" / "a1111-startup-ok.txt")
    result = runner.invoke(app, ["explain", "--no-probe", log])
    assert result.exit_code == 1
    assert "No known issue" in result.output and "16 lines" in result.output
    assert "rigfit capture -o machine.tar.gz" in result.output
    as_json = runner.invoke(app, ["explain", "--no-probe", "--json", log])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["matches"] == []


def test_unreadable_log_exits_2_naming_it(tmp_path) -> None:
    missing = tmp_path / "nope.log"
    result = runner.invoke(app, ["explain", "--no-probe", str(missing)])
    assert result.exit_code == 2 and "nope.log" in result.output
    result = runner.invoke(app, ["explain", "--no-probe", str(tmp_path)])
    assert result.exit_code == 2 and str(tmp_path) in result.output


def test_devices_and_fifos_are_refused_at_once(tmp_path) -> None:
    """/dev/zero never ends and a FIFO nobody writes never starts: both are refused, naming the way to pipe a log."""
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    for log in ("/dev/zero", str(fifo)):
        proc = subprocess.run(
            [sys.executable, "-m", "rigfit.cli", "explain", "--no-probe", log],
            capture_output=True,
            text=True,
            timeout=60,
        )
        said = " ".join(proc.stderr.split())
        assert proc.returncode == 2 and log in said and "not a regular file" in said, said
        assert "| rigfit explain -" in said


def test_bad_capture_exits_2(tmp_path) -> None:
    result = runner.invoke(app, ["explain", "--from", str(tmp_path / "missing.tar.gz"), LOG])
    assert result.exit_code == 2


def test_a_log_with_more_distinct_errors_than_kept_says_so(monkeypatch) -> None:
    import rigfit.explain.scan as scan

    monkeypatch.setattr(scan, "MAX_LINES", 3)
    log = "".join(f"RuntimeError: unrelated failure number {i}\n" for i in range(6)).encode()
    result = runner.invoke(app, ["explain", "--no-probe", "--json", "-"], input=log)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["looked_at"]["forgotten_lines"] == 3
