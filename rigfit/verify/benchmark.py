"""`rigfit bench`'s decisions: which device and configurations to time, what a measured step means in seconds per image,
which configuration is the fastest safe one, and how that compares with published figures and the device's limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rigfit.kb.host import BenchRef, bench_refs
from rigfit.kb.loader import load_entries
from rigfit.kb.measured import load_verified
from rigfit.kb.schemas import ModelEntry
from rigfit.proc.worker import WORKERS_DIR, run_worker
from rigfit.records import field, record
from rigfit.verify.cpu_check import TargetCpu
from rigfit.verify.device import check_device, device_name
from rigfit.verify.envscan import TargetEnv

IMAGE_STEPS = 20  # what "seconds per image" means everywhere in rigfit


def bench_model(model: str) -> ModelEntry:
    """The models.yaml entry of a bench model ("sd15", "sdxl"): its native resolution and measured FLOPs."""
    found = [m for m in load_entries("models.yaml", ModelEntry) if m.id == model]
    if not found:
        raise KeyError(f"models.yaml has no model {model}")
    return found[0]


SHORT_VRAM = 6 * 2**30  # below this, time a memory-saving mode too
QUICK_NOTE = "--quick timed one configuration for one step: an estimate, not a comparison"
MIN_REPEATS = 3  # timed steps per configuration: one configuration alone varies +-5% on a busy machine


@record
class Run:
    """One configuration as measured."""

    config: dict[str, Any]
    step_seconds: float | None  # median of the timed CFG steps (batch 2)
    step_spread: tuple[float, float] | None
    vae_seconds: float | None
    finite: bool
    peak_memory: int | None
    error: str | None = None

    @property
    def seconds_per_image(self) -> float | None:
        return seconds_per_image(self.step_seconds, self.vae_seconds)

    @property
    def label(self) -> str:
        c = self.config
        parts = [c["dtype"], c.get("attention", "sdpa")]
        if c.get("channels_last"):
            parts.append("channels_last")
        if c.get("memory_mode"):
            parts.append(c["memory_mode"])
        return " + ".join(parts)


@record
class BenchReport:
    device: str
    model: str
    size: int
    reduced: bool
    runs: list[Run] = field(default_factory=list)
    matmul: list[dict[str, Any]] = field(default_factory=list)
    tf32: dict[str, Any] = field(default_factory=dict)
    step_flops: float | None = None
    vae_flops: float | None = None
    vae_seconds: dict[str, float] = field(default_factory=dict)  # dtype -> one VAE decode
    best: Run | None = None
    best_note: str | None = None  # why `best` is not simply the fastest (a difference within the noise), or --quick
    quick: bool = False  # one configuration, one step: an estimate, never a comparison
    errors: list[str] = field(default_factory=list)

    def gflops(self, dtype: str) -> float | None:
        found = [m["gflops"] for m in self.matmul if m.get("dtype") == dtype and m.get("gflops")]
        return max(found) if found else None

    def image_flops(self) -> float | None:
        """FLOPs of a 20-step image: the published count for the real model at its size (torch's counter misses
        some fused attention kernels on CPU), else what the worker counted."""
        entry = bench_model(self.model)
        if self.comparable() and entry.cfg_step_flops:
            return IMAGE_STEPS * entry.cfg_step_flops + (entry.vae_decode_flops or 0.0)
        return IMAGE_STEPS * self.step_flops + (self.vae_flops or 0.0) if self.step_flops else None

    def comparable(self) -> bool:
        """Whether this run is the real model at its native resolution (so published figures compare)."""
        return not self.reduced and self.size in (0, bench_model(self.model).resolution)

    def peak_gflops(self, dtype: str) -> float | None:
        """The fastest matmul repeat's rate: what this device demonstrably reaches (a median can be dragged down
        by a busy machine, and a floor must not be slower than what was achieved)."""
        found = [2 * m["n"] ** 3 / m["min"] / 1e9 for m in self.matmul if m.get("dtype") == dtype and m.get("min")]
        return max(found) if found else None

    def physical_limit(self, dtype: str) -> float | None:
        """Seconds per image if every FLOP ran at the peak matmul rate measured here: the floor for this device."""
        flops, rate = self.image_flops(), self.peak_gflops(dtype)
        return flops / (rate * 1e9) if flops and rate else None


def seconds_per_image(step: float | None, vae: float | None, steps: int = IMAGE_STEPS) -> float | None:
    """A 20-step image: 20 CFG steps (the text encoder runs once and is negligible) plus one VAE decode."""
    if step is None:
        return None
    return steps * step + (vae or 0.0)


def dtype_candidates(device: str, safe: dict[str, bool]) -> list[str]:
    """Dtypes worth timing: those verify found safe (fp16 only on a GPU: CPUs have no fast fp16 path)."""
    order = ["fp16", "bf16", "fp32"] if device.startswith("cuda") else ["bf16", "fp32"]
    chosen = [d for d in order if safe.get(d, d == "fp32")]
    return chosen or ["fp32"]


def refinement_configs(dtype: str, device: str, has_xformers: bool, vram: int | None) -> list[dict[str, Any]]:
    """Second round, on the fastest dtype: one change at a time (attention backend, memory layout, memory mode)."""
    base = {"dtype": dtype, "attention": "sdpa", "channels_last": False, "memory_mode": None}
    configs = [{**base, "attention": "classic"}, {**base, "channels_last": True}]
    if has_xformers and device.startswith("cuda"):
        configs.append({**base, "attention": "xformers"})
    if device.startswith("cuda") and vram is not None and vram < SHORT_VRAM:
        configs.append({**base, "memory_mode": "attention_slicing"})
    return configs


def complexity(run: Run) -> int:
    """How far a configuration is from the plain one (fp32, SDPA, default layout, no memory mode)."""
    c = run.config
    return (
        (c["dtype"] != "fp32")
        + (c.get("attention", "sdpa") != "sdpa")
        + bool(c.get("channels_last"))
        + bool(c.get("memory_mode"))
    )


def clearly_faster(a: Run, b: Run) -> bool:
    """`a` beats `b` by more than the measured spread: a's slowest timed step is faster than b's fastest."""
    if a.step_spread is None or b.step_spread is None:
        return (a.step_seconds or 0.0) < (b.step_seconds or 0.0)
    return a.step_spread[1] < b.step_spread[0]


def decide_best(runs: list[Run], safe: dict[str, bool], quick: bool = False) -> tuple[Run | None, str | None]:
    """The fastest configuration that finished, stayed finite, and whose dtype verify found safe; but a simpler one
    when the fastest is not faster by more than the measured spread (then the note says so). With `quick` (one
    configuration timed once) the note says it is an estimate."""
    usable = [
        r
        for r in runs
        if r.error is None and r.finite and r.seconds_per_image is not None and safe.get(r.config["dtype"], True)
    ]
    if not usable:
        return None, None
    fastest = min(usable, key=lambda r: r.seconds_per_image or 0.0)
    if quick:
        return fastest, QUICK_NOTE
    simpler = [r for r in usable if complexity(r) < complexity(fastest) and not clearly_faster(fastest, r)]
    if not simpler:
        return fastest, None
    chosen = min(simpler, key=lambda r: (complexity(r), r.seconds_per_image or 0.0))
    return chosen, (
        f"{fastest.label} measured faster than {chosen.label}, but by less than the spread of their repeats: "
        f"kept the simpler {chosen.label}"
    )


def choose_best(runs: list[Run], safe: dict[str, bool]) -> Run | None:
    return decide_best(runs, safe)[0]


def parse_runs(data: dict[str, Any]) -> list[Run]:
    runs = []
    for raw in data.get("runs", []):
        config = {k: raw.get(k) for k in ("dtype", "attention", "channels_last", "memory_mode")}
        step = raw.get("step") or {}
        runs.append(
            Run(
                config=config,
                step_seconds=step.get("median"),
                step_spread=(step["min"], step["max"]) if step else None,
                vae_seconds=None,
                finite=bool(raw.get("finite")),
                peak_memory=raw.get("peak_memory"),
                error=raw.get("error"),
            )
        )
    return runs


def references(model: str, kind: str | None = None) -> list[tuple[BenchRef, float | None]]:
    """Published figures for the model, with their seconds for a 20-step image."""
    return [
        (r, r.seconds_for(IMAGE_STEPS)) for r in bench_refs() if r.model == model and (kind is None or r.kind == kind)
    ]


@record
class BenchTarget:
    """The device bench times and the dtypes found safe on it."""

    device: str  # "cpu" | "cuda:0"
    safe: dict[str, bool]  # dtype -> safe on this device
    name: str | None = None  # the GPU's name; None for the CPU
    total_memory: int | None = None  # bytes of device memory, when a device check measured it


def verified_target(env: TargetEnv, device: str) -> BenchTarget | None:
    """The device and safe dtypes verify stored for this environment; None when verify has not run there."""
    if device == "auto":
        stored = load_verified(str(env.root), "cuda:0") or load_verified(str(env.root), "cpu")
    else:
        stored = load_verified(str(env.root), device_name(device))
    if stored is None or not stored.precision_ok:
        return None
    return BenchTarget(stored.device, dict(stored.precision_ok), stored.device_name)


def checked_target(
    env: TargetEnv, device: str, *, model: str, reduced: bool, size: int, on_line: Callable[[str], None] | None = None
) -> BenchTarget:
    """A quick device check when verify has not run: the device and the dtypes it found safe (fp32 when none)."""
    outcome = check_device(
        env, TargetCpu(flags=None), device=device, model=model, reduced=reduced, size=size, on_line=on_line
    )
    safe = {p["dtype"]: outcome.dtype_ok(p["dtype"]) for p in outcome.precision}
    return BenchTarget(
        outcome.device, safe or {"fp32": True}, outcome.facts.get("name"), outcome.facts.get("total_memory")
    )


def _round_args(index: int, dtypes: list[str], *, reduced: bool, size: int, matmul_n: int) -> list[str]:
    """Worker options besides the configurations: model size, and matmul throughput in the first round only."""
    args = ["--reduced"] if reduced else []
    args += ["--size", str(size)] if size else []
    if index == 0:
        args += ["--matmul", ",".join(dtypes)] + (["--matmul-n", str(matmul_n)] if matmul_n else [])
    else:
        args += ["--no-vae"]  # the VAE does not change with the UNet's settings: measured once per dtype
    return args


def _record_first_round(report: BenchReport, data: dict[str, Any]) -> None:
    """What only the first round measures: matmul throughput, FLOP counts, VAE decode time per dtype."""
    report.matmul, report.tf32 = data.get("matmul", []), data.get("tf32", {})
    report.step_flops = data.get("unet_step_flops")
    report.vae_flops = next((v.get("flops") for v in data.get("vae", []) if v.get("flops")), None)
    report.vae_seconds = {v["dtype"]: v["median"] for v in data.get("vae", []) if v.get("median")}


def run_bench(
    env: TargetEnv,
    *,
    device: str,
    model: str,
    steps: int,
    safe: dict[str, bool],
    has_xformers: bool = False,
    vram: int | None = None,
    quick: bool = False,
    reduced: bool = False,
    size: int = 0,
    matmul_n: int = 0,
    extra_env: dict[str, str] | None = None,
    timeout: float = 3600.0,
    on_line: Any = None,
) -> BenchReport:
    """Round 1: each safe dtype at the default settings (plus matmul throughput); round 2: one change at a time on
    the fastest. --quick: a single configuration, one timed step."""
    worker_device = "cuda" if device.startswith("cuda") else "cpu"
    report = BenchReport(device=device, model=model, size=size, reduced=reduced, quick=quick)
    dtypes = dtype_candidates(device, safe)
    base = {"attention": "sdpa", "channels_last": False, "memory_mode": None}
    rounds = [[{"dtype": d, **base} for d in (dtypes[:1] if quick else dtypes)]]
    for index in range(2):
        if index == 1:
            best = choose_best(report.runs, safe)
            if quick or best is None:
                break
            rounds.append(refinement_configs(best.config["dtype"], device, has_xformers, vram))
        args = [
            "--device",
            worker_device,
            "--model",
            model,
            "--steps",
            str(1 if quick else max(steps, MIN_REPEATS)),
            "--configs",
            json.dumps(rounds[index]),
        ]
        args += _round_args(index, dtypes, reduced=reduced, size=size, matmul_n=matmul_n)
        result = run_worker(env.python, WORKERS_DIR / "bench.py", args, timeout=timeout, env=extra_env, on_line=on_line)
        data = result.data or {}
        if not result.ok or data.get("error"):
            report.errors.append(
                data.get("error") or f"the bench worker {result.describe()}: {result.output_tail[-800:]}"
            )
            break
        report.size = data.get("size", size)
        report.runs.extend(parse_runs(data))
        if index == 0:
            _record_first_round(report, data)
    for run in report.runs:
        run.vae_seconds = report.vae_seconds.get(run.config["dtype"])
    report.best, report.best_note = decide_best(report.runs, safe, quick=quick)
    return report
