"""verify's pure parts: reading an env without importing it, and turning a failed import into the package, the CPU
extension or the mismatched pair, with the fix. Real outputs in tests/fixtures/verify (sources in SOURCES.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rigfit.kb.host import bench_refs, cpu_requirements, qemu_cpus
from rigfit.kb.registry import schema_for
from rigfit.verify.cpu_check import TargetCpu, emulated_cpu, find_model, openblas_overreach, requirements_for
from rigfit.verify.diagnose import abi_mismatch, crash_culprit, import_problem
from rigfit.verify.envscan import important_modules, parse_distributions, parse_torch_build, torch_variant
from tests.conftest import fixture_text

VERSIONS = {
    "torch": "2.13.0+cpu",
    "numpy": "2.4.6",
    "torchvision": "0.28.0",
    "xformers": "0.0.33",
    "diffusers": "0.42.1",
}
HOST = TargetCpu(flags=frozenset({"sse4_1", "sse4_2", "popcnt", "avx", "avx2", "fma"}))


def test_distributions_are_read_from_site_packages_names() -> None:
    names = [
        "numpy-2.4.6.dist-info",
        "torch-2.13.0+cpu.dist-info",
        "Pillow-10.0.0.dist-info",
        "numpy",
        "opencv_python_headless-4.10.0.84.dist-info",
        "clip-1.0-py3.11.egg-info",
        "README.txt",
    ]
    found = parse_distributions(names)
    assert found == {
        "numpy": "2.4.6",
        "torch": "2.13.0+cpu",
        "pillow": "10.0.0",
        "opencv-python-headless": "4.10.0.84",
        "clip": "1.0",
    }
    pairs = important_modules(found)
    assert pairs[:2] == [("torch", "torch"), ("numpy", "numpy")]
    assert ("opencv-python-headless", "cv2") in pairs and ("pillow", "PIL") in pairs


@given(st.lists(st.text(max_size=40), max_size=20))
def test_distribution_parser_never_raises(names: list[str]) -> None:
    assert isinstance(parse_distributions(names), dict)


def test_torch_build_is_read_without_importing() -> None:
    rocm = (
        "__version__ = '2.5.1+rocm6.2'\ndebug = False\ncuda: Optional[str] = None\nhip: Optional[str] = '6.2.41133'\n"
    )
    assert torch_variant(parse_torch_build(rocm)) == "rocm"
    cuda = "__version__ = '2.4.1+cu121'\ncuda: Optional[str] = '12.1'\nhip: Optional[str] = None\n"
    assert parse_torch_build(cuda)["cuda"] == "12.1" and torch_variant(parse_torch_build(cuda)) == "cuda"
    assert torch_variant(parse_torch_build("garbage")) is None


@given(st.text())
def test_torch_build_parser_never_raises(text: str) -> None:
    assert set(parse_torch_build(text)) == {"version", "cuda", "hip"}


def test_numpy_1x_module_under_numpy_2_names_the_pair() -> None:
    problem = abi_mismatch("torch", fixture_text("verify/numpy1x-abi-import-torch-pytorch-135013.txt"), VERSIONS)
    assert problem is not None and problem.pair == ("torch", "numpy")
    assert "NumPy 2.1.0" in problem.message and "numpy<2" in problem.fix


def test_xformers_built_for_another_torch_names_the_pair() -> None:
    problem = abi_mismatch("xformers", fixture_text("verify/xformers-built-for-other-torch-xformers-971.txt"), VERSIONS)
    assert problem is not None and problem.pair == ("xformers", "torch")
    assert "2.1.2+cu121" in problem.message and "2.1.0+cpu" in problem.message


def test_torchvision_without_its_operators_names_the_pair() -> None:
    problem = abi_mismatch("torchvision", fixture_text("verify/torchvision-nms-missing-hallo-98.txt"), VERSIONS)
    assert problem is not None and problem.pair == ("torchvision", "torch")
    assert "same index" in problem.fix


def test_clean_output_is_no_mismatch() -> None:
    assert abi_mismatch("torch", "Python 3.11.7\n>>> import torch\n>>> ", VERSIONS) is None


def test_sigill_in_torch_import_is_blamed_on_numpy_and_its_x86_64_v2_baseline() -> None:
    output = fixture_text("verify/import-torch-sigill-qemu-conroe.txt")
    assert crash_culprit(output, VERSIONS) == "numpy"
    problem = import_problem("torch", "torch", "sigill", None, output, emulated_cpu("core2"), VERSIONS, "cpu")
    assert problem is not None and problem.kind == "cpu"
    assert "because numpy" in problem.message and "x86-64-v2" in problem.message
    assert "sse4_2" in problem.message and problem.kb == ["numpy-2.4-x86-64-v2"]
    assert "numpy<2.4" in problem.fix


def test_numpy_refusing_the_cpu_is_a_cpu_problem_not_an_error() -> None:
    output = fixture_text("verify/numpy-2.4.6-x86v2-refusal-qemu-penryn.txt")
    data = {"ok": False, "error": "RuntimeError: NumPy was built with baseline optimizations: (X86_V2) ..."}
    problem = import_problem("numpy", "numpy", "ok", data, output, emulated_cpu("penryn"), VERSIONS, "cpu")
    assert problem is not None and problem.kind == "cpu" and problem.kb == ["numpy-2.4-x86-64-v2"]
    assert "sse4_2" in problem.message and "sse4_1" not in problem.message.split("lacks")[-1]


def test_torch_rocm_sigill_needs_avx_only_for_rocm_builds() -> None:
    westmere = emulated_cpu("x5670")
    rocm = import_problem("torch", "torch", "sigill", None, "", westmere, {"torch": "2.5.1+rocm6.2"}, "rocm")
    assert rocm is not None and "torch-rocm-avx" in rocm.kb and "lacks avx" in rocm.message
    assert [r.id for r in requirements_for("torch", "2.13.0+cpu", "cpu")] == ["torch-sse4_1-floor"]


def test_unknown_sigill_lists_what_the_cpu_lacks() -> None:
    problem = import_problem("mystery", "mystery", "sigill", None, "", emulated_cpu("nehalem"), {"mystery": "1"}, None)
    assert problem is not None and "avx" in problem.message and problem.kb == []


def test_clean_import_is_no_problem() -> None:
    data = {"ok": True, "error": None, "warnings": []}
    assert import_problem("numpy", "numpy", "ok", data, "", HOST, VERSIONS, "cpu") is None


def test_openblas_picking_kernels_the_cpu_lacks_is_recognised() -> None:
    westmere = emulated_cpu("westmere")
    assert openblas_overreach("Core: Haswell\n", westmere.flags) == "Haswell"
    assert openblas_overreach("Core: Nehalem\n", westmere.flags) is None
    assert openblas_overreach("Core: Haswell\n", emulated_cpu("haswell").flags) is None


def test_cpu_models_by_alias() -> None:
    assert find_model("Mac Pro 5.1").qemu == "Westmere" and find_model("core2").qemu == "Conroe"
    assert "avx" not in find_model("westmere").flags and "avx" in find_model("sandybridge").flags


def test_verify_kb_files_validate_and_are_registered() -> None:
    assert len(bench_refs()) >= 5 and len(qemu_cpus()) >= 6 and len(cpu_requirements()) >= 3
    for name in ("bench_refs.yaml", "qemu_cpus.yaml", "cpu_requirements.yaml"):
        assert schema_for(name) is not None


def test_verify_of_an_env_without_known_packages_is_a_failure_not_a_pass(tmp_path: Path) -> None:
    """A venv whose site-packages holds no *.dist-info that verify imports: nothing checked is exit 1, said why."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    home = {**os.environ, "RIGFIT_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "rigfit.cli", "verify", "--env", str(env_dir), "--json"],
        capture_output=True,
        text=True,
        env=home,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema"] == "rigfit.verify/1" and data["imports"] == []
    assert any("nothing was checked" in p and "--env" in p for p in data["problems"])
