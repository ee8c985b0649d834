"""Installed torch: version.py read without importing, the import worker, and SIGILL diagnosed as a CPU problem.

The real SIGILL path: numpy 2.4 (rigfit's own test venv has it) imported under `qemu-x86_64 -cpu Conroe` (Core 2
without SSE4.2) dies with signal 4. The real torch path uses the torch test env when it was built (slow, skipped
otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.probe.cpu_text import flag_states, parse_lscpu, x86_64_level
from rigfit.probe.gather import probe_machine
from rigfit.probe.profile import CpuInfo, GpuInfo, Profile, TorchInfo
from rigfit.probe.source import CaptureSource
from rigfit.probe.torch_probe import (
    IMPORT_WORKER,
    fields_from_worker,
    import_in_subprocess,
    missing_cpu_feature,
    parse_version_py,
    probe_torch,
    torch_findings,
)
from rigfit.proc.worker import run_worker
from tests.conftest import fixture_text

QEMU = shutil.which("qemu-x86_64")
REAL_PYTHON = os.path.realpath(sys.executable)


def cpu_of(lscpu_fixture: str) -> CpuInfo:
    parsed = parse_lscpu(fixture_text(f"real/cpuinfo/{lscpu_fixture}"))
    states, _ = flag_states(parsed.flags, parsed.flags_complete)
    return CpuInfo(arch=parsed.arch, flags=parsed.flags, x86_64_level=x86_64_level(parsed.flags), **states)


def test_version_py_of_a_real_wheel() -> None:
    fields = parse_version_py(fixture_text("real/torch/version-2.13.0+cpu.py.txt"))
    assert fields == {"version": "2.13.0+cpu", "cuda": None, "hip": None}


def test_version_py_never_executes_code() -> None:
    text = "__version__ = __import__('os').system('echo owned')\nhip: Optional[str] = '6.1.40091-a8dbc0c19'\n"
    assert parse_version_py(text) == {"version": None, "cuda": None, "hip": "6.1.40091-a8dbc0c19"}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_version_py_parser_never_crashes(text: str) -> None:
    fields = parse_version_py(text)
    assert set(fields) == {"version", "cuda", "hip"}


def test_worker_reports_an_importable_module() -> None:
    result = import_in_subprocess(sys.executable, "json", timeout=30)
    assert result.status == "ok" and result.data is not None
    assert result.data["found"] is True and result.data["imported"] is True


def test_worker_reports_a_missing_module() -> None:
    fields = fields_from_worker(import_in_subprocess(sys.executable, "no_such_module_rigfit", timeout=30))
    assert fields["import_status"] == "not_found" and "does not find" in fields["import_error"]


def test_worker_timeout_is_a_hang_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "hangs_on_import.py").write_text("import time\ntime.sleep(60)\n")
    result = run_worker(
        sys.executable, IMPORT_WORKER, ["hangs_on_import"], timeout=1.5, env={"PYTHONPATH": str(tmp_path)}
    )
    fields = fields_from_worker(result)
    assert fields["import_status"] == "timeout" and fields["location"] == str(tmp_path)
    profile = Profile(torch=TorchInfo(version="2.13.0", **{k: v for k, v in fields.items() if k != "location"}))
    (finding,) = torch_findings(profile)
    assert finding.id == "torch.import-timeout" and finding.severity == "warning"


@pytest.mark.skipif(QEMU is None, reason="qemu-x86_64 is not installed (apt-get install qemu-user)")
def test_real_sigill_under_core2_is_reported_as_a_cpu_problem_with_the_missing_extension() -> None:
    result = import_in_subprocess(REAL_PYTHON, "numpy", timeout=60, prefix=(QEMU, "-cpu", "Conroe"))
    assert result.status == "sigill", result.output_tail
    fields = fields_from_worker(result)
    assert fields["import_status"] == "sigill" and fields["location"].endswith("numpy")
    profile = Profile(cpu=cpu_of("core2-duo-e8400-lscpu.txt"))
    info = probe_torch({"found": True, "version": "2.13.0+cpu", **fields}, profile, [].append)
    assert info is not None and info.missing_cpu_feature == "sse4_2"
    profile.torch = info
    (finding,) = torch_findings(profile)
    assert finding.severity == "blocker" and finding.blocks == "cpu" and finding.id == "torch.sigill"
    assert "Illegal instruction" in finding.message and "SSE4.2" in finding.message
    assert "not a GPU problem" in finding.message and "no GPU" not in finding.message
    assert '"numpy<2.4"' in (finding.fix or "")


def test_rocm_build_sigill_on_westmere_blocks_the_gpu_route_only() -> None:
    profile = Profile(cpu=cpu_of("xeon-x5670-westmere-lscpu.txt"), gpus=[GpuInfo(vendor="amd", gfx="gfx1032")])
    torch = TorchInfo(version="2.3.0+rocm6.0", hip="6.0.32830", import_status="sigill", location="/venv/torch")
    torch.missing_cpu_feature = missing_cpu_feature(profile.cpu, torch)
    assert torch.missing_cpu_feature == "avx"
    profile.torch = torch
    (finding,) = torch_findings(profile)
    assert finding.blocks == "gpu" and "torch-rocm-avx" in finding.kb
    assert "rigfit verify --cpu westmere" in (finding.fix or "")


def test_aarch64_sigill_names_lse_atomics() -> None:
    cpu = CpuInfo(arch="aarch64", flags=parse_lscpu(fixture_text("real/cpuinfo/arm-cortex-a72-lscpu.txt")).flags)
    assert missing_cpu_feature(cpu, TorchInfo(import_status="sigill")) == "atomics"


def test_numpy_baseline_message_names_sse4_2_even_without_flags() -> None:
    message = fixture_text("logs/numpy-x86-v2-baseline--nixpkgs-python313.txt")
    torch = TorchInfo(import_status="sigill", import_error=message)
    assert missing_cpu_feature(CpuInfo(arch="x86_64"), torch) == "sse4_2"


def test_gpu_build_that_sees_no_gpu_and_cpu_build_on_a_gpu_machine() -> None:
    rocm = Profile(torch=TorchInfo(version="2.4.1+rocm6.1", hip="6.1", import_status="ok", gpu_available=False))
    assert [f.id for f in torch_findings(rocm)] == ["torch.no-gpu-visible"]
    cpu_build = Profile(gpus=[GpuInfo(vendor="amd")], torch=TorchInfo(version="2.13.0+cpu", import_status="ok"))
    assert [(f.id, f.severity) for f in torch_findings(cpu_build)] == [("torch.cpu-only-build", "info")]
    assert torch_findings(Profile(torch=TorchInfo())) == []  # no torch installed: nothing to say


def test_torch_facts_replay_from_a_capture(tmp_path: Path) -> None:
    (tmp_path / "facts").mkdir()
    fact = {
        "found": True,
        "python": "/home/REDACTED/sd/venv/bin/python",
        "location": "/home/REDACTED/sd/venv/lib/python3.10/site-packages/torch",
        "version": "2.3.0+rocm6.0",
        "hip": "6.0.32830-d62f6a171",
        "import_status": "sigill",
        "import_error": "Illegal instruction (core dumped)",
    }
    (tmp_path / "facts" / "torch.json").write_text(json.dumps(fact))
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "lscpu.out").write_text(fixture_text("real/cpuinfo/xeon-x5670-westmere-lscpu.txt"))
    profile = probe_machine(CaptureSource(tmp_path), torch_check=False)
    assert profile.torch is not None and profile.torch.import_status == "sigill"
    assert profile.torch.missing_cpu_feature == "avx" and profile.torch.python == fact["python"]


def test_capture_without_torch_fact_says_unknown(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()  # a capture that recorded no torch fact
    profile = probe_machine(CaptureSource(tmp_path), torch_check=False)
    assert profile.torch is None and any("facts/torch.json" in w for w in profile.warnings)


@pytest.mark.slow
def test_real_torch_imports_in_the_worker(torch_env: Path) -> None:
    result = import_in_subprocess(str(torch_env), "torch", timeout=120)
    fields = fields_from_worker(result)
    assert fields["import_status"] == "ok" and fields["version"] == "2.13.0+cpu"
    assert fields["gpu_available"] is False and fields["cpu_capability"] in ("DEFAULT", "AVX2", "AVX512")
