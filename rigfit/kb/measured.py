"""Verified facts: what verify and bench measured on this machine. They feed `rigfit plan` (a measurement beats a
KB guess). Stored as JSON under rigfit's data dir, one file per (environment, device)."""

from __future__ import annotations

import json
from pathlib import Path

from rigfit.kb.typed import dump, load_as
from rigfit.paths import data_dir, write_atomic
from rigfit.records import field, record


@record(kw_only=True)
class BenchConfig:
    """One configuration `rigfit bench` timed, and what it measured."""

    dtype: str  # "fp16" | "bf16" | "fp32"
    attention: str = "sdpa"  # "sdpa" | "math" | "xformers" ...
    channels_last: bool = False
    memory_mode: str | None = None  # "lowvram", "medvram"... when VRAM is short
    seconds_per_image: float | None = None  # 20 steps, 512x512 (SD1.5) or 1024x1024 (SDXL)
    peak_memory_bytes: int | None = None
    step_seconds: float | None = None  # median of the timed CFG steps (UNet at batch 2)
    vae_seconds: float | None = None
    finite: bool | None = None  # the UNet output stayed free of inf/NaN at this setting
    error: str | None = None  # why this configuration could not run (OOM, missing kernel...)


@record(kw_only=True)
class VerifiedFacts:
    """What verify and bench measured for one env on one device."""

    env_dir: str
    device: str  # "cpu", "cuda:0"
    torch_version: str | None = None
    imports_ok: dict[str, bool] = field(default_factory=dict)  # package -> imported fine
    import_failures: dict[str, str] = field(default_factory=dict)  # package -> "sigill: needs avx" ...
    ops_ok: bool | None = None  # matmul/conv/groupnorm/sdpa matched the CPU
    precision_ok: dict[str, bool] = field(default_factory=dict)  # dtype -> no inf/NaN in the UNet probe
    best: BenchConfig | None = None  # fastest safe configuration bench measured
    measured_at: str | None = None
    device_name: str | None = None  # "NVIDIA GeForce RTX 3060", or the CPU for device "cpu"
    emulated_cpu: str | None = None  # qemu model the checks ran under (`verify --cpu`); device is then "qemu:<model>"
    problems: list[str] = field(default_factory=list)  # each failure, said with its fix
    notes: list[str] = field(default_factory=list)  # true and useful, not failures (workarounds that were needed)
    recommended_dtype: str | None = None  # fastest safe dtype when bench ran, else the best dtype verify found safe
    bench_model: str | None = None  # "sd15" | "sdxl": what `best` and `bench_runs` were measured with
    bench_runs: list[BenchConfig] = field(default_factory=list)  # every configuration bench timed
    matmul_gflops: dict[str, float] = field(default_factory=dict)  # dtype -> measured matmul throughput


def _path(env_dir: str, device: str) -> Path:
    import hashlib  # only where measured facts are read or written: doctor without --env never pays for it

    key = hashlib.sha256(f"{Path(env_dir).resolve()}|{device}".encode()).hexdigest()[:16]
    return data_dir() / "verified" / f"{key}.json"


def save_verified(facts: VerifiedFacts) -> Path:
    path = _path(facts.env_dir, facts.device)
    write_atomic(path, json.dumps(dump(facts), indent=2, ensure_ascii=False))
    return path


def load_verified(env_dir: str, device: str) -> VerifiedFacts | None:
    path = _path(env_dir, device)
    try:
        return load_as(VerifiedFacts, json.loads(path.read_text()), str(path), extra="ignore")
    except (OSError, ValueError):
        return None


def latest_verified(env_dir: str, devices: tuple[str, ...] = ("cuda:0", "cpu")) -> VerifiedFacts | None:
    """The most recent facts measured for an environment on this machine's real devices (not qemu emulations)."""
    found = [f for d in devices if (f := load_verified(env_dir, d)) is not None]
    return max(found, key=lambda f: f.measured_at or "", default=None)
