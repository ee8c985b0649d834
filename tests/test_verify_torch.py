"""verify against a REAL torch environment (built once per checkout, see conftest_torchenv.py): imports under
emulated old CPUs (qemu-user), device ops, and the SD UNet precision probe on a reduced config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rigfit.cli import app
from rigfit.kb.measured import load_verified
from rigfit.proc.worker import WORKERS_DIR, run_worker
from rigfit.verify.cpu_check import TargetCpu, emulated_cpu
from rigfit.verify.device import check_device
from rigfit.verify.envscan import scan_env
from rigfit.verify.imports import check_one
from tests.cli_runner import CliRunner

needs_qemu = pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-user is not installed (.ci/run)")
pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "rigfit-home"))
    return tmp_path / "rigfit-home"


@needs_qemu
def test_numpy_2_4_dies_of_sigill_on_a_core2_and_verify_names_x86_64_v2(torch_env: Path) -> None:
    raw = run_worker(
        torch_env, WORKERS_DIR / "import_check.py", ["numpy"], timeout=120, prefix=emulated_cpu("core2").prefix()
    )
    assert raw.status == "sigill"
    outcome = check_one(scan_env(torch_env.parent.parent), emulated_cpu("core2"), "numpy", "numpy", "cpu")
    assert outcome.status == "sigill" and outcome.problem is not None
    assert outcome.problem.kb == ["numpy-2.4-x86-64-v2"] and "sse4_2" in outcome.problem.message


@needs_qemu
def test_torch_imports_and_runs_on_an_emulated_westmere(torch_env: Path, home: Path) -> None:
    env_dir = torch_env.parent.parent
    result = CliRunner().invoke(app, ["verify", "--env", str(env_dir), "--cpu", "westmere", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["device"] == "qemu:Westmere" and data["emulated_cpu"] == "Westmere"
    assert data["imports_ok"]["torch"] and data["imports_ok"]["numpy"]
    ops = {(op["op"], op["dtype"]): op["ok"] for op in data["ops"]}
    assert ops[("conv2d", "fp32")] and ops[("sdpa", "fp32")] and ops[("matmul", "bf16")]
    assert data["precision_ok"] == {"fp32": True, "bf16": True}
    stored = load_verified(str(env_dir), "qemu:Westmere")
    assert stored is not None and stored.ops_ok


def test_device_ops_and_precision_probe_on_a_reduced_unet(torch_env: Path) -> None:
    outcome = check_device(scan_env(torch_env.parent.parent), TargetCpu(flags=None), reduced=True, size=64, steps=3)
    assert outcome.device == "cpu" and outcome.problems == []
    assert outcome.ops_ok and outcome.facts["torch_version"].startswith("2.13.0")
    assert {p["dtype"] for p in outcome.precision} == {"fp32", "bf16"}
    assert outcome.dtype_ok("fp32") and outcome.dtype_ok("bf16")
    bf16 = next(p for p in outcome.precision if p["dtype"] == "bf16")
    assert 0 < bf16["rel_diff_vs_fp32"] < 0.5  # bf16 really ran in bf16, and stayed close to fp32


def test_precision_probe_flags_non_finite_output(torch_env: Path, tmp_path: Path) -> None:
    # fp16 on the CPU with an absurd guidance scale overflows the reduced UNet: the probe must say so
    result = run_worker(
        torch_env,
        WORKERS_DIR / "precision_probe.py",
        ["--reduced", "--size", "64", "--steps", "3", "--dtypes", "fp32,fp16", "--guidance", "1e30"],
        timeout=300,
    )
    assert result.ok, result.output_tail
    by_dtype = {d["dtype"]: d for d in result.data["dtypes"]}
    assert by_dtype["fp16"]["finite"] is False and by_dtype["fp16"]["first_nonfinite_step"] == 1
