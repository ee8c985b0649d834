"""Adversarial `rigfit add` sets against the real Forge env: each leaves torch and torchvision byte-identical and
either installs the rest or fails naming the conflict; `rigfit env check` catches a hand-made change to torch, and a
step that changed torch anyway is rolled back from the recorded wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from rigfit.env.guard import restore_protected
from rigfit.env.installer import choose_installer
from rigfit.env.protect import installed_versions, site_packages, verify
from rigfit.env.record import load_record

pytestmark = pytest.mark.slow
OTHER_TORCH = next(iter(sorted(Path("/opt/wheels").glob("torch-2.13.0*.whl"))), None)


def rigfit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rigfit.cli", *args], capture_output=True, text=True, timeout=1800, check=False
    )


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "extension-requirements.txt"
    path.write_text(textwrap.dedent(text))
    return str(path)


# (id, arguments (a callable gets tmp_path), exit code, words the output must hold)
SETS = [
    ("exact-old-torch", ["torch==2.1.0"], 1, ["torch==2.1.0 asks for another torch than the protected torch 2.14.1"]),
    ("newer-torch", ["torch>=2.15"], 1, ["torch>=2.15 asks for another torch"]),
    ("needs-another-torch", ["xformers==0.0.27"], 1, ["xformers==0.0.27", "torch==2.3.1", "nothing was installed"]),
    ("forge-setuptools-pin", ["setuptools==69.5.1"], 1, ["conflicts with torch 2.14.1 (needs setuptools>=77.0.3)"]),
    ("torch-dependency-pin", ["triton==3.1.0"], 1, ["triton==3.1.0 conflicts with torch 2.14.1 (needs triton~=3.8.0)"]),
    ("upgrade-torch", ["-U", "torch", "torchvision"], 0, ["resolved: nothing to change"]),
    ("unpinned-torchvision", ["torchvision"], 0, ["resolved: nothing to change"]),
    ("force-reinstall", ["--force-reinstall", "torch", "joblib"], 0, ["torch is protected: not reinstalled"]),
    (
        "extra-index-other-torchvision",
        lambda tmp: ["-r", _file(tmp, "--extra-index-url file:///opt/pypi-more/simple\ntorchvision==0.28.0\n")],
        1,
        ["extension-requirements.txt:2 torchvision==0.28.0 asks for another torchvision"],
    ),
    (
        "extra-index-unpinned",
        lambda tmp: ["-r", _file(tmp, "--extra-index-url file:///opt/pypi-more/simple\ntorch\njoblib\n")],
        0,
        ["done"],
    ),
    ("pip-needs-another-torch", ["--installer", "pip", "xformers==0.0.27"], 1, ["refused, nothing was installed"]),
    ("pip-satisfied", ["--installer", "pip", "joblib"], 0, ["done"]),
]
if OTHER_TORCH is not None:
    SETS.append(("other-torch-wheel", [f"torch @ {OTHER_TORCH.as_uri()}"], 1, ["asks for another torch"]))


@pytest.mark.parametrize(("args", "code", "words"), [s[1:] for s in SETS], ids=[s[0] for s in SETS])
def test_adversarial_set_leaves_torch_byte_identical(forge_env: Path, tmp_path: Path, args, code, words) -> None:  # type: ignore[no-untyped-def]
    argv = args(tmp_path) if callable(args) else args
    before = installed_versions(forge_env)
    proc = rigfit("add", "--env", str(forge_env), *argv)
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    for word in words:
        assert word in " ".join(output.split()), output
    if code != 0:
        assert installed_versions(forge_env) == before  # refused before anything ran
    assert verify(forge_env, load_record(forge_env).protected) == []


def _sdist(tmp_path: Path) -> Path:
    """An sdist whose build imports torch (like a CUDA extension's setup.py) and records the torch it built with."""
    root = tmp_path / "torch_built_probe-0.1"
    (root / "torch_built_probe").mkdir(parents=True)
    (root / "torch_built_probe" / "__init__.py").write_text("from torch_built_probe.built import TORCH\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77", "torch"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (root / "setup.py").write_text(
        "import torch\nfrom pathlib import Path\nfrom setuptools import setup\n"
        "Path('torch_built_probe/built.py').write_text(f'TORCH = {torch.__version__!r}\\n')\n"
        "setup(name='torch_built_probe', version='0.1', packages=['torch_built_probe'])\n"
    )
    (root / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: torch_built_probe\nVersion: 0.1\n")
    archive = tmp_path / "torch_built_probe-0.1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname=root.name)
    return archive


def test_sdist_that_builds_against_torch_builds_against_the_protected_one(forge_env: Path, tmp_path: Path) -> None:
    proc = rigfit("add", "--env", str(forge_env), str(_sdist(tmp_path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = site_packages(forge_env) / "torch_built_probe" / "built.py"
    protected_build = re.search(
        r"__version__ = '([^']+)'", (site_packages(forge_env) / "torch" / "version.py").read_text()
    )
    assert protected_build is not None and protected_build.group(1).startswith("2.14.1")
    assert built.read_text().strip() == f"TORCH = {protected_build.group(1)!r}"  # built against the protected build
    assert verify(forge_env, load_record(forge_env).protected) == []


def _tamper(forge_env: Path) -> tuple[Path, bytes]:
    target = site_packages(forge_env) / "torch" / "version.py"
    original = target.read_bytes()
    target.write_bytes(original + b"\n# edited by hand\n")
    return target, original


def test_env_check_catches_a_hand_edited_torch_file(forge_env: Path) -> None:
    target, original = _tamper(forge_env)
    try:
        proc = rigfit("env", "check", "--env", str(forge_env))
        output = " ".join((proc.stdout + proc.stderr).split())
        assert proc.returncode == 1
        assert "torch: 1 files changed or missing" in output and "torch/version.py changed" in output
        assert f"rigfit install forge --env {forge_env}" in output  # the fix
    finally:
        target.write_bytes(original)
    proc = rigfit("env", "check", "--env", str(forge_env))
    assert proc.returncode == 0 and "byte-identical" in proc.stdout


def test_a_changed_torch_is_rolled_back_from_its_wheel(forge_env: Path) -> None:
    record = load_record(forge_env)
    target, original = _tamper(forge_env)
    try:
        said: list[str] = []
        restored = restore_protected(record, choose_installer(record.python), said.append)
        assert restored == ["torch"]
        assert target.read_bytes() == original
        assert verify(forge_env, record.protected) == []
    finally:
        if target.read_bytes() != original:
            target.write_bytes(original)
