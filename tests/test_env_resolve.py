"""`rigfit resolve` for seed 003's RunPod set (torch 2.1.0+cu121, Python 3.10): every pin with its reason, and a set
that really installs and imports (torch 2.1.0 from the package index; no CPU-only 2.1.0 wheel is reachable here, so
the index's CUDA build is used: it imports on a CPU). pytorch3d's prebuilt wheel lives on its own index, which is
not reachable here: it is checked against the knowledge base's conditions only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from rigfit.env.installer import read_pip_config, uv_binary

SEED_003 = ["diffusers", "transformers", "huggingface_hub", "kornia", "accelerate", "pytorch3d"]
IMPORTS = (
    "import torch, diffusers, transformers, huggingface_hub, kornia, accelerate; "
    "from diffusers import UNet2DConditionModel; from huggingface_hub import cached_download"
)


def rigfit_json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    proc = subprocess.run(
        [sys.executable, "-m", "rigfit.cli", "resolve", "--json", *args], capture_output=True, text=True, check=False
    )
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def seed_003() -> dict:  # type: ignore[type-arg]
    code, data = rigfit_json("--torch", "2.1.0+cu121", "--python", "3.10", *SEED_003)
    assert code == 0, data
    return data


def test_seed_003_set_pins_each_package_with_its_reason(seed_003: dict) -> None:  # type: ignore[type-arg]
    packages = seed_003["packages"]
    assert packages["torch"] == "2.1.0"
    pins = {p["requirement"]: p for p in seed_003["pins"]}
    for requirement, package in [
        ("huggingface_hub<0.26", "huggingface-hub"),
        ("transformers<4.39", "transformers"),
        ("kornia<0.8", "kornia"),
        ("diffusers<0.32", "diffusers"),
        ("numpy<2", "numpy"),
    ]:
        assert requirement in pins and pins[requirement]["reason"] and pins[requirement]["kb"]
        spec = SpecifierSet(requirement.split(package.replace("-", "_"), 1)[-1].lstrip(package))
        assert spec.contains(packages[package]), (requirement, packages[package])
    [pytorch3d] = seed_003["separate"]
    assert pytorch3d["requirement"] == "pytorch3d==0.7.5"
    assert "py310_cu121_pyt210" in pytorch3d["install"]
    assert {"fvcore", "iopath"} <= set(packages)  # what `--no-index` cannot fetch for it


def test_prebuilt_pytorch3d_does_not_fit_another_torch() -> None:
    code, data = rigfit_json("--torch", "2.5.1+cu124", "--python", "3.10", "pytorch3d")
    assert code == 1
    assert "pytorch3d==0.7.5 (prebuilt) needs torch ==2.1.0" in data["conflict"]


def test_two_requirements_that_cannot_coexist_are_named() -> None:
    code, data = rigfit_json("--torch", "2.1.0", "--python", "3.10", "transformers>=4.45")
    assert code == 1
    assert "transformers>=4.45" in data["conflict"] and "transformers<4.39" in data["conflict"]


def _python310() -> Path | None:
    for candidate in [Path("/usr/bin/python3.10"), *sorted(Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"))]:
        if candidate.is_file():
            return candidate
    return None


@pytest.mark.slow
def test_seed_003_set_installs_and_imports(seed_003: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """Built in a temporary env with its own uv cache, both removed after: the set's CUDA 12 libraries take ~4.7 GB,
    which a CI machine's disk needs back for the Forge and InvokeAI envs."""
    python = _python310()
    if python is None:
        pytest.skip("no Python 3.10 on this machine: the set was checked against package metadata only")
    env = tmp_path / "resolve-003"
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(env)], check=True)
    uv = uv_binary()
    assert uv is not None
    reqs = [f"{name}=={version}" for name, version in seed_003["packages"].items()]
    install = [
        uv,
        "pip",
        "install",
        "--python",
        str(env / "bin" / "python"),
        "--cache-dir",
        str(tmp_path / "uv-cache"),
        *read_pip_config(sys.executable).uv_args(),
    ]
    try:
        proc = subprocess.run([*install, *reqs], capture_output=True, text=True, timeout=3600, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        proc = subprocess.run(
            [str(env / "bin" / "python"), "-c", IMPORTS], capture_output=True, text=True, timeout=900, check=False
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
