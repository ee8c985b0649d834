"""What `rigfit verify` and `rigfit bench` measured on a real CUDA GPU (an NVIDIA H200, torch 2.11.0+cu130; the
machine is tests/fixtures/machines/h200-cuda-container) fed back through bench's decision and the planner.

The numbers are recorded outputs, so the decisions drawn from them are facts to assert, not timings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rigfit.explain.match import explain_text
from rigfit.kb.measured import BenchConfig, VerifiedFacts
from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.gather import probe_machine
from rigfit.probe.source import CaptureSource
from rigfit.verify.benchmark import BenchReport, Run, decide_best
from rigfit.verify.render import bench_lines
from tests.conftest import FIXTURES

VERIFY = FIXTURES / "verify"
CONFIG_KEYS = ("dtype", "attention", "channels_last", "memory_mode")


def recorded(name: str) -> dict[str, Any]:
    return json.loads((VERIFY / name).read_text(encoding="utf-8"))


def runs_of(bench: dict[str, Any]) -> list[Run]:
    """The runs as `rigfit bench --json` printed them."""
    return [
        Run(
            config={k: r[k] for k in CONFIG_KEYS},
            step_seconds=r["step_seconds"],
            step_spread=tuple(r["step_spread"]),
            vae_seconds=r["vae_seconds"],
            finite=r["finite"],
            peak_memory=r["peak_memory"],
            error=r["error"],
        )
        for r in bench["runs"]
    ]


def test_verify_passed_every_check_on_the_gpu() -> None:
    facts = recorded("h200-verify.json")
    assert facts["device"] == "cuda:0" and facts["device_name"] == "NVIDIA H200"
    assert facts["ops_ok"] and facts["precision_ok"] == {"fp32": True, "fp16": True, "bf16": True}
    assert not facts["import_failures"] and facts["imports_ok"]["torch"] and facts["imports_ok"]["diffusers"]
    assert facts["recommended_dtype"] == "fp16"


@pytest.mark.parametrize("name", ["h200-bench-sd15.json", "h200-bench-sdxl.json"])
def test_the_recorded_runs_give_the_choice_bench_printed(name: str) -> None:
    """bench's choice is a pure function of its runs: replayed, they give the configuration it stored."""
    bench = recorded(name)
    safe = recorded("h200-verify.json")["precision_ok"]
    best, _ = decide_best(runs_of(bench), safe)
    assert best is not None and best.config == bench["best"]
    assert best.config["dtype"] in ("fp16", "bf16")  # fp32 was the slowest on this GPU in both models
    report = BenchReport(device=bench["device"], model=bench["model"], size=bench["size"], reduced=False)
    report.runs, report.tf32 = runs_of(bench), bench["tf32"]
    report.best = decide_best(report.runs, safe)[0]
    text = "\n".join(bench_lines(report))
    assert "cuda:0" in text and "TF32" in text and f"fastest safe: {best.label}:" in text


def test_plan_adopts_what_bench_measured_on_the_gpu() -> None:
    profile = probe_machine(CaptureSource(FIXTURES / "machines" / "h200-cuda-container"), torch_check=False)
    best = recorded("h200-bench-sd15.json")["best"]
    verified = VerifiedFacts(env_dir="/opt/torch/.venv", device="cuda:0", best=BenchConfig(**best))
    for ui in ("forge", "comfyui"):
        plan = make_plan(profile, PlanOptions(ui=ui), verified)
        assert plan.backend == "cuda" and plan.precision == best["dtype"]
        assert not {"--no-half", "--force-fp32", "--lowvram", "--medvram"} & set(plan.ui_flags)


# CUDA errors produced on purpose on the same GPU with torch 2.11 (benchmarks/gpu_errors.sh): file -> the explanation
# that must rank first and facts it must read. torch 2.11 raises torch.AcceleratorError where older torch raised
# RuntimeError.
MEASURED_ERRORS = {
    "cuda-oom--h200-torch211-200gib-larger-than-card.txt": (
        "gpu-out-of-memory",
        {"tried_to_allocate": "200.00 GiB", "vram_gib": "139.8", "oversized": "yes"},
    ),
    "cuda-oom--h200-torch211-64gib-after-130gib-held.txt": (
        "cuda-out-of-memory",
        {"tried_to_allocate": "64.00 GiB", "vram_gib": "139.8"},
    ),
    "torch-device-mix--h200-torch211-linear-cpu-input.txt": ("torch-tensors-on-two-devices", {"dev1": "cpu"}),
    "torch-dtype-mix--h200-torch211-linear-half-float.txt": (
        "torch-matmul-dtype-mismatch",
        {"want": "float32", "got": "float16"},
    ),
    "gpu-status--h200-torch211-acceleratorerror-device-assert.txt": (
        "gpu-status-device-assert",
        {"status": "cudaErrorAssert"},
    ),
    "gpu-status--h200-torch211-acceleratorerror-invalid-ordinal.txt": (
        "gpu-status-no-device",
        {"status": "cudaErrorInvalidDevice"},
    ),
    "cuda-no-device--h200-torch211-cuda-visible-devices-empty.txt": ("cuda-torch-sees-no-device", {}),
}


@pytest.mark.parametrize("name", sorted(MEASURED_ERRORS))
def test_explain_reads_the_errors_torch_gave_on_the_gpu(name: str) -> None:
    expected, facts = MEASURED_ERRORS[name]
    found = explain_text((VERIFY / name).read_text(encoding="utf-8")).explanations
    assert found and found[0].id == expected, [(e.id, e.confidence) for e in found]
    assert {k: found[0].facts.get(k) for k in facts} == facts


def test_an_allocation_larger_than_the_card_gets_no_low_vram_answer() -> None:
    """No memory mode makes a 200 GiB allocation fit a 140 GiB card: the generic OOM answer (its fix: low-VRAM
    flags) contradicts the reading and is dropped, not listed second."""
    found = explain_text((VERIFY / "cuda-oom--h200-torch211-200gib-larger-than-card.txt").read_text()).explanations
    assert [e.id for e in found] == ["gpu-out-of-memory"]
    assert "--lowvram" not in found[0].fix and "--medvram" not in found[0].fix
