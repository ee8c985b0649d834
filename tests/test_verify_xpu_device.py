"""`rigfit verify`/`bench` workers and Intel GPUs: `--device auto` takes torch.xpu when the env's torch is an XPU
build that reaches the GPU, and says so when it is not (then the CPU was measured, never passed off as the GPU).
No Intel GPU here: the decision is tested on torch's answers (a stand-in for torch's two calls, not for the code
under test), and on the real torch 2.13.0 CPU env in the slow test."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from rigfit.proc.worker import WORKERS_DIR
from rigfit.verify.device import device_name, unreached_gpu


def _worker_io() -> ModuleType:
    spec = importlib.util.spec_from_file_location("worker_io", WORKERS_DIR / "worker_io.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _torch(version: str, cuda: bool, xpu: bool | None) -> SimpleNamespace:
    fake = SimpleNamespace(__version__=version, cuda=SimpleNamespace(is_available=lambda: cuda))
    if xpu is not None:
        fake.xpu = SimpleNamespace(is_available=lambda: xpu)
    return fake


def test_auto_takes_the_intel_gpu_when_the_xpu_build_reaches_it() -> None:
    assert _worker_io().pick_device(_torch("2.13.0+xpu", cuda=False, xpu=True), "auto") == ("xpu", None)


def test_an_xpu_build_without_a_reachable_gpu_runs_on_the_cpu_and_says_so() -> None:
    device, note = _worker_io().pick_device(_torch("2.13.0+xpu", cuda=False, xpu=False), "auto")
    assert device == "cpu" and note is not None
    assert "torch 2.13.0+xpu is an Intel XPU build" in note and "torch.xpu.is_available() is False" in note


def test_cuda_first_and_a_cpu_build_says_nothing() -> None:
    io = _worker_io()
    assert io.pick_device(_torch("2.13.0+cu126", cuda=True, xpu=False), "auto") == ("cuda", None)
    assert io.pick_device(_torch("2.13.0+cpu", cuda=False, xpu=False), "auto") == ("cpu", None)
    assert io.pick_device(_torch("1.13.1+rocm5.2", cuda=False, xpu=None), "auto") == ("cpu", None)  # no torch.xpu
    assert io.pick_device(_torch("2.13.0+xpu", cuda=False, xpu=True), "cpu") == ("cpu", None)  # asked for


def test_verify_reports_the_unreached_gpu_with_the_kb_fix() -> None:
    problem = unreached_gpu({"device_note": "torch 2.13.0+xpu is an Intel XPU build, but ..."})
    assert problem is not None and problem.kind == "device"
    assert problem.fix and "not the Intel GPU" in problem.fix and "torch.xpu.is_available()" in problem.fix
    assert unreached_gpu({"device_note": None}) is None
    assert device_name("xpu") == "xpu:0" and device_name("cpu") == "cpu"


@pytest.mark.slow
def test_real_cpu_torch_picks_the_cpu_without_a_note(torch_env: Path) -> None:
    out = subprocess.run(
        [str(torch_env), str(WORKERS_DIR / "device_check.py"), "--dtypes", "fp32", "--small"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("RIGFIT-RESULT ")][-1]
    data = json.loads(line.removeprefix("RIGFIT-RESULT "))
    assert data["device"] == "cpu" and data["device_note"] is None and not data.get("error")
