"""rigfit install's parts on real inputs: Forge's own requirements file, torch 2.14.1's own METADATA, the shared
snapshots, real wheel names. Fast: no env is built here (the Forge env tests are in test_env_forge.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from rigfit.env.installer import IndexConfig, read_pip_config
from rigfit.env.overrides import apply_overrides, direct_conflicts, read_requirements
from rigfit.env.protect import VERIFIED_NAME, file_hash, verify
from rigfit.env.record import ProtectedPackage
from rigfit.env.ui_source import SourceError, fetch, resolve_source
from rigfit.env.venv import inspect
from rigfit.env.wheels import WheelError, check_fits, parse_wheel
from rigfit.kb.installs import ui_installs
from rigfit.records import fields
from tests.conftest import SHARED
from tests.conftest_forge import find_wheel

UIS = SHARED / "uis"
FORGE_TAR = UIS / "stable-diffusion-webui-forge.tar.gz"


@pytest.fixture(scope="module")
def forge_requirements(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forge's requirements_versions.txt, as its snapshot holds it."""
    out = tmp_path_factory.mktemp("forge") / "requirements_versions.txt"
    with tarfile.open(FORGE_TAR, "r:gz") as tar:
        member = tar.extractfile("stable-diffusion-webui-forge/requirements_versions.txt")
        assert member is not None
        out.write_bytes(member.read())
    return out


@pytest.fixture(scope="module")
def env_with_torch_metadata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like an env whose site-packages holds torch 2.14.1's real dist-info METADATA (no torch)."""
    env = tmp_path_factory.mktemp("env")
    info = env / "lib" / "python3.11" / "site-packages" / "torch-2.14.1.dist-info"
    info.mkdir(parents=True)
    with zipfile.ZipFile(find_wheel("torch", "2.14.1")) as wheel:
        (info / "METADATA").write_bytes(wheel.read("torch-2.14.1.dist-info/METADATA"))
    return env


TORCH = ProtectedPackage(name="torch", version="2.14.1")


def test_forge_setuptools_pin_is_overridden_with_its_reason(forge_requirements: Path) -> None:
    lines = read_requirements(forge_requirements)
    texts, overridden = apply_overrides(lines, list(ui_installs()["forge"].overrides))
    assert [(o.origin, o.requirement, o.installed) for o in overridden] == [
        ("requirements_versions.txt:1", "setuptools==69.5.1", "setuptools>=77.0.3,<82")
    ]
    assert "pkg_resources" in overridden[0].reason
    assert "setuptools>=77.0.3,<82" in texts and "setuptools==69.5.1" not in texts
    assert "gradio==4.40.0" in texts  # the other pins stay as Forge wrote them


def test_forge_pin_conflict_names_file_line_and_torch_need(
    forge_requirements: Path, env_with_torch_metadata: Path
) -> None:
    lines = read_requirements(forge_requirements)
    conflicts = direct_conflicts(lines, [TORCH], env_with_torch_metadata)
    assert conflicts == [
        "requirements_versions.txt:1 setuptools==69.5.1 conflicts with torch 2.14.1 (needs setuptools>=77.0.3)"
    ]


@pytest.mark.parametrize(
    ("requirement", "refused"),
    [
        ("torch==2.1.0", "asks for another torch than the protected torch 2.14.1"),
        ("torch>=2.15", "asks for another torch"),
        ("triton==3.1.0", "conflicts with torch 2.14.1 (needs triton~=3.8.0)"),
        ("torch", None),
        ("torch==2.14.1", None),
        ("setuptools>=77.0.3,<82", None),
    ],
)
def test_direct_requests_for_protected_packages(
    tmp_path: Path, env_with_torch_metadata: Path, requirement: str, refused: str | None
) -> None:
    req = tmp_path / "extension-requirements.txt"
    req.write_text(f"# an extension's requirements\n{requirement}\n")
    conflicts = direct_conflicts(read_requirements(req), [TORCH], env_with_torch_metadata)
    if refused is None:
        assert conflicts == []
    else:
        assert len(conflicts) == 1 and conflicts[0].startswith(f"extension-requirements.txt:2 {requirement}")
        assert refused in conflicts[0]


def test_mirror_tarball_keeps_its_commit(tmp_path: Path) -> None:
    where = resolve_source("huggingface_guess", "https://github.com/lllyasviel/huggingface_guess.git", None, UIS)
    commit = fetch(where, tmp_path / "hg", None, lambda _m: None)
    assert commit == "84826248b49bb7ca754c73293299c4d4e23a548d"
    assert (tmp_path / "hg" / "huggingface_guess").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left behind


def test_mirror_without_the_repository_says_how_to_add_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no BLIP\.tar\.gz.*git archive"):
        resolve_source("BLIP", "https://github.com/salesforce/BLIP.git", None, tmp_path)


def test_unreachable_git_url_points_to_offline_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"cannot clone .*--source PATH.*--mirror DIR"):
        fetch(f"file://{tmp_path}/nowhere.git", tmp_path / "ui", None, lambda _m: None)
    assert not (tmp_path / "ui").exists()


def test_local_git_repository_checked_out_at_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    (repo / "a.txt").write_text("one\n")
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    first = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    (repo / "a.txt").write_text("two\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    assert fetch(str(repo), tmp_path / "ui", first, lambda _m: None) == first
    assert (tmp_path / "ui" / "a.txt").read_text() == "one\n"


def _wheel_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"")
    return str(path)


def test_wheel_for_another_python_or_machine_is_refused(tmp_path: Path) -> None:
    interp, _ = inspect(sys.executable)
    other_py = "cp310" if interp.tag != "cp310" else "cp312"
    with pytest.raises(WheelError, match=r"built for Python .*--python"):
        check_fits(
            parse_wheel(_wheel_file(tmp_path, f"torch-2.14.1-{other_py}-{other_py}-manylinux_2_28_x86_64.whl")), interp
        )
    with pytest.raises(WheelError, match=r"not this machine"):
        check_fits(
            parse_wheel(_wheel_file(tmp_path, f"torch-2.14.1-{interp.tag}-{interp.tag}-manylinux_2_28_aarch64.whl")),
            interp,
        )
    check_fits(parse_wheel(str(find_wheel("torch", "2.14.1"))), interp)  # the real one fits


def test_bad_wheel_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(WheelError, match=r"does not exist"):
        parse_wheel(str(tmp_path / "torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl"))
    with pytest.raises(WheelError, match=r"not a wheel file name"):
        parse_wheel(_wheel_file(tmp_path, "torch.zip"))


def test_pip_config_is_read_for_uv() -> None:
    config = read_pip_config(sys.executable)
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False)
    for url in config.extra_index_urls:
        assert url in proc.stdout
    args = IndexConfig(extra_index_urls=("file:///x/simple",), find_links=("/w",)).uv_args()
    assert args == [
        "--index-strategy",
        "unsafe-best-match",
        "--extra-index-url",
        "file:///x/simple",
        "--find-links",
        "/w",
    ]


def test_every_launcher_repository_of_forge_is_in_the_shared_mirror() -> None:
    forge = ui_installs()["forge"]
    assert {r.name for r in forge.repositories} == {"stable-diffusion-webui-assets", "huggingface_guess", "BLIP"}
    for repo in forge.repositories:
        assert (UIS / f"{repo.name}.tar.gz").is_file()
    assert forge.additions[0].requirement == "joblib"
    # the "install nothing" switch is one KB fact (uis.yaml install.skip), read by the plan and by install
    from rigfit.plan.knowledge import ui_entry

    assert ui_entry("forge").flags["install.skip"] == ["--skip-prepare-environment"]
    assert "no_install_flags" not in {f.name for f in fields(type(forge))}


def test_the_launch_check_rehashes_the_files_an_installer_replaced_and_env_check_rehashes_all(tmp_path: Path) -> None:
    torch_dir = tmp_path / "lib" / "python3.11" / "site-packages" / "torch"
    torch_dir.mkdir(parents=True)
    (torch_dir / "a.py").write_text("x = 1\n")
    (torch_dir / "b.py").write_text("y = 2\n")
    package = ProtectedPackage(
        name="torch", version="2.14.1", files={f"torch/{n}": file_hash(torch_dir / n) for n in ("a.py", "b.py")}
    )
    assert verify(tmp_path, [package]) == []  # a full pass records each file's size and mtime beside its hash
    assert (tmp_path / VERIFIED_NAME).is_file()
    # an installer replaces a.py (new bytes, new mtime): the launch check hashes it again and catches it
    before = (torch_dir / "a.py").stat()
    (torch_dir / "a.py").write_text("x = 3\n")
    os.utime(torch_dir / "a.py", ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert [(p.path, p.kind) for p in verify(tmp_path, [package], trust_unchanged=True)] == [("torch/a.py", "changed")]
    (torch_dir / "a.py").write_text("x = 1\n")
    (torch_dir / "b.py").unlink()
    assert [(p.path, p.kind) for p in verify(tmp_path, [package], trust_unchanged=True)] == [("torch/b.py", "missing")]
    (torch_dir / "b.py").write_text("y = 2\n")
    assert verify(tmp_path, [package]) == []
    # an edit that keeps size and mtime is what only `rigfit env check` (every byte hashed) sees
    kept = (torch_dir / "b.py").stat()
    (torch_dir / "b.py").write_text("y = 9\n")
    os.utime(torch_dir / "b.py", ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert verify(tmp_path, [package], trust_unchanged=True) == []
    assert [(p.path, p.kind) for p in verify(tmp_path, [package])] == [("torch/b.py", "changed")]
