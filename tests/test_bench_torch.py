"""bench against the REAL torch environment, on the reduced UNet (same code path as the full model): timing,
the choice of the fastest safe configuration BECAUSE it was measured, storage for the plan, and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.cli import app
from rigfit.kb.measured import load_verified
from rigfit.proc.worker import WORKERS_DIR, run_worker
from rigfit.verify.benchmark import clearly_faster, run_bench
from rigfit.verify.envscan import scan_env
from tests.cli_runner import CliRunner

pytestmark = pytest.mark.slow

# oneDNN and ATen limited to AVX2: what a CPU without native bf16 (no AVX512_BF16/AMX) runs
NO_NATIVE_BF16 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def test_bench_on_a_cpu_without_native_bf16_picks_bf16_only_when_measured_clearly_faster(torch_env: Path) -> None:
    report = run_bench(
        scan_env(torch_env.parent.parent),
        device="cpu",
        model="sd15",
        steps=3,
        safe={"fp32": True, "bf16": True},
        reduced=True,
        size=128,
        matmul_n=256,
        extra_env=NO_NATIVE_BF16,
        timeout=600,
    )
    assert report.errors == []
    first_round = {
        r.config["dtype"]: r for r in report.runs if r.config["attention"] == "sdpa" and not r.config["channels_last"]
    }
    # what can be asserted on a shared, busy box: both dtypes measured with a spread, and the choice follows the
    # measurements: bf16 only when it is faster beyond the spread, else the simpler fp32
    fp32, bf16 = first_round["fp32"], first_round["bf16"]
    assert fp32.step_spread and bf16.step_spread and report.gflops("bf16") and report.gflops("fp32")
    assert report.best is not None
    assert report.best.config["dtype"] == "fp32" or clearly_faster(bf16, fp32)
    # round 2 refined the winner one setting at a time
    dtype = report.best.config["dtype"]
    assert {r.label for r in report.runs} >= {f"{dtype} + classic", f"{dtype} + sdpa + channels_last"}
    assert report.step_flops and report.step_flops > 0
    assert report.best.seconds_per_image == pytest.approx(20 * report.best.step_seconds + report.vae_seconds[dtype])


def test_bench_cli_stores_the_best_config_and_draws_the_plot(
    torch_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))
    env_dir = torch_env.parent.parent
    png = tmp_path / "bench.png"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--env",
            str(env_dir),
            "--reduced",
            "--size",
            "64",
            "--steps",
            "2",
            "--quick",
            "--json",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "rigfit.bench/1" and data["reduced"] and data["size"] == 64 and len(data["runs"]) == 1
    assert data["best_seconds_per_image"] > 0 and data["references"]
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stored = load_verified(str(env_dir), "cpu")
    assert stored is not None and stored.best is not None and stored.best.dtype == data["best"]["dtype"]
    assert stored.bench_model == "sd15" and stored.matmul_gflops


def test_flops_count_sdpa_and_models_are_built_in_their_dtype(torch_env: Path, tmp_path: Path) -> None:
    """torch's FLOP counter has no formula for the CPU's fused SDPA kernel (it counts 0): bench adds it. And the UNet is
    created in bf16 directly, never as an fp32 copy first (which made bf16's peak memory 1.65x too high)."""
    script = tmp_path / "check.py"
    script.write_text(
        "import json, sys, torch\n"
        f"sys.path.insert(0, {str(WORKERS_DIR)!r})\n"
        "import bench, sd_model\n"
        "q, k, v = (torch.randn(2, 8, 256, 64) for _ in range(3))\n"
        "sdpa = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v)\n"
        "unet = sd_model.build(torch, 'sd15', 'unet', True, dtype=torch.bfloat16)\n"
        "print('RIGFIT-RESULT ' + json.dumps({'flops': bench.count_flops(torch, sdpa),\n"
        "    'dtypes': sorted({str(p.dtype) for p in unet.parameters()}),\n"
        "    'default_after': str(torch.get_default_dtype())}))\n"
    )
    result = run_worker(torch_env, script, timeout=300)
    assert result.ok, result.output_tail
    assert result.data == {
        "flops": 2 * (2 * 8) * 256 * 256 * (64 + 64),
        "dtypes": ["torch.bfloat16"],
        "default_after": "torch.float32",
    }
