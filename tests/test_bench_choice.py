"""bench's decisions as pure functions: seconds per image, the fastest SAFE configuration, which configurations
are worth timing, the physical limit, and the published references."""

from __future__ import annotations

from rigfit.kb.host import bench_refs
from rigfit.verify.benchmark import (
    BenchReport,
    Run,
    choose_best,
    decide_best,
    dtype_candidates,
    refinement_configs,
    seconds_per_image,
)
from rigfit.verify.render import bench_lines


def run(dtype: str, step: float, *, finite: bool = True, error: str | None = None, attention: str = "sdpa") -> Run:
    config = {"dtype": dtype, "attention": attention, "channels_last": False, "memory_mode": None}
    return Run(config, step, (step, step), 1.0, finite, None, error)


def test_seconds_per_image_is_twenty_cfg_steps_plus_the_vae() -> None:
    assert seconds_per_image(0.5, 2.0) == 12.0
    assert seconds_per_image(0.5, None) == 10.0 and seconds_per_image(None, 2.0) is None


def test_the_fastest_measured_config_wins() -> None:
    runs = [run("fp32", 0.020), run("bf16", 0.079)]
    assert choose_best(runs, {"fp32": True, "bf16": True}).config["dtype"] == "fp32"
    runs = [run("fp32", 0.020), run("bf16", 0.012)]
    assert choose_best(runs, {"fp32": True, "bf16": True}).config["dtype"] == "bf16"


def test_fast_but_unsafe_configs_are_never_chosen() -> None:
    runs = [run("fp16", 0.005, finite=False), run("bf16", 0.006), run("fp32", 0.010)]
    assert choose_best(runs, {"fp16": True, "bf16": False, "fp32": True}).config["dtype"] == "fp32"
    assert choose_best([run("fp16", 0.001, error="CUDA out of memory")], {"fp16": True}) is None


def test_candidates_follow_verify_and_the_device() -> None:
    assert dtype_candidates("cpu", {"fp32": True, "bf16": True}) == ["bf16", "fp32"]
    assert dtype_candidates("cuda:0", {"fp16": False, "bf16": True, "fp32": True}) == ["bf16", "fp32"]
    assert dtype_candidates("cuda:0", {}) == ["fp32"]
    small = refinement_configs("fp16", "cuda:0", has_xformers=True, vram=4 * 2**30)
    assert {c["attention"] for c in small} == {"classic", "sdpa", "xformers"}
    assert any(c["memory_mode"] == "attention_slicing" for c in small)
    assert not any(c.get("memory_mode") for c in refinement_configs("fp32", "cpu", has_xformers=True, vram=None))


def test_physical_limit_uses_the_published_flops_and_the_fastest_matmul_repeat() -> None:
    report = BenchReport(device="cuda:0", model="sd15", size=512, reduced=False)
    fastest = 2 * 4096**3 / 100e12  # one repeat reached 100 TFLOP/s; a busy machine slowed the others 4x
    report.matmul = [{"dtype": "fp16", "n": 4096, "min": fastest, "median": 4 * fastest, "gflops": 25_000.0}]
    assert abs(report.physical_limit("fp16") - 34.72e12 / 100e12) < 1e-3  # 34.7 TFLOP per 20-step image
    assert report.physical_limit("fp32") is None


def test_references_scale_to_twenty_steps_and_cite_sources() -> None:
    refs = {r.id: r for r in bench_refs()}
    assert refs["seed-rx5500xt-a1111-docker"].seconds_for(20) == 14
    assert abs(refs["fal-a100-diffusers-sdpa"].seconds_for(20) - 20 / 31.44) < 1e-9
    assert all(r.sources and r.sources[0] for r in refs.values())


def timed(dtype: str, low: float, high: float, **settings: object) -> Run:
    """A configuration whose repeated steps took between `low` and `high` seconds (median in the middle)."""
    config = {"dtype": dtype, "attention": "sdpa", "channels_last": False, "memory_mode": None, **settings}
    return Run(config, (low + high) / 2, (low, high), 1.0, True, None)


def test_a_difference_within_the_spread_keeps_the_simpler_configuration_and_says_so() -> None:
    plain, layout = timed("fp32", 0.095, 0.105), timed("fp32", 0.093, 0.101, channels_last=True)
    best, note = decide_best([plain, layout], {"fp32": True})
    assert best is plain and note is not None and "kept the simpler fp32 + sdpa" in note
    bf16 = timed("bf16", 0.090, 0.100)
    assert decide_best([plain, bf16], {"fp32": True, "bf16": True})[0] is plain
    clearly = timed("fp32", 0.080, 0.085, channels_last=True)
    assert decide_best([plain, clearly], {"fp32": True}) == (clearly, None)


def test_quick_never_calls_its_one_configuration_the_fastest() -> None:
    report = BenchReport(device="cpu", model="sd15", size=512, reduced=False, quick=True)
    report.runs = [timed("fp32", 1.0, 1.0)]
    report.best, report.best_note = report.runs[0], "--quick timed one configuration for one step"
    text = "\n".join(bench_lines(report))
    assert "fastest" not in text and "estimate (--quick)" in text
