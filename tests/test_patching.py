"""Compatibility patches against the real gradio_client 1.2.0 release (the one gradio 4.40.0, Forge's pin, requires).

The wheel is downloaded from the package registry once (cached under .cache/) and unpacked into a throw-away env's
site-packages, so the patch meets the exact bytes pip installs.
"""

from __future__ import annotations

import ast
import fcntl
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rigfit.cli import app
from rigfit.env.patching import (
    PatchError,
    apply_patch,
    patch_entries,
    patch_status,
    reapply_patches,
    revert_patch,
    sha256_file,
)
from rigfit.env.record import EnvRecord, load_record, save_record
from tests.cli_runner import CliRunner
from tests.conftest import REPO, SHARED

WHEEL_DIR = REPO / ".cache" / "gradio-client-1.2.0"
PATCH_ID = "gradio-client-bool-schema"


def gradio_client_wheel() -> Path:
    WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    with open(WHEEL_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = sorted(WHEEL_DIR.glob("gradio_client-1.2.0-*.whl"))
        if not found:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "gradio_client==1.2.0",
                    "-d",
                    str(WHEEL_DIR),
                ],
                check=True,
                capture_output=True,
            )
            found = sorted(WHEEL_DIR.glob("gradio_client-1.2.0-*.whl"))
    return found[0]


@pytest.fixture
def env_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An env holding the real gradio_client 1.2.0 files, with a rigfit record."""
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))
    env = tmp_path / "env"
    site = env / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    with zipfile.ZipFile(gradio_client_wheel()) as wheel:
        wheel.extractall(site)
    save_record(EnvRecord(ui="forge", env_dir=str(env), ui_dir=str(env / "ui"), python=str(env / "bin/python")))
    return env


def utils_file(env: Path) -> Path:
    return env / "lib" / "python3.11" / "site-packages" / "gradio_client" / "utils.py"


def schema_functions(source: str) -> dict[str, Any]:
    """gradio_client's own get_type/_json_schema_to_python_type, compiled from the file (its imports need network
    packages this test does not install)."""
    wanted = {"APIInfoParseError", "get_type", "_json_schema_to_python_type"}
    tree = ast.parse(source)
    body = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name in wanted]
    namespace: dict[str, Any] = {"Any": Any}
    exec(compile(ast.Module(body=body, type_ignores=[]), "gradio_client/utils.py", "exec"), namespace)
    return namespace


# what pydantic 2.11 writes for a dict[str, Any] field: a boolean schema node
BOOL_SCHEMA = {"type": "object", "properties": {"extra": {"type": "object", "additionalProperties": True}}}


def test_the_kb_hash_is_the_release_file(env_dir: Path) -> None:
    entry = patch_entries()[PATCH_ID]
    assert sha256_file(utils_file(env_dir)) == entry.sha256_before
    assert patch_status(env_dir, entry).state == "original"


def test_forge_pins_the_gradio_this_patch_targets() -> None:
    import tarfile

    with tarfile.open(SHARED / "uis" / "stable-diffusion-webui-forge.tar.gz") as tar:
        member = tar.extractfile("stable-diffusion-webui-forge/requirements_versions.txt")
        assert member is not None
        assert "gradio==4.40.0" in member.read().decode().split()
    with zipfile.ZipFile(gradio_client_wheel()) as wheel:
        assert "gradio_client/utils.py" in wheel.namelist()


def test_apply_fixes_the_crash_and_reapply_is_idempotent(env_dir: Path) -> None:
    entry = patch_entries()[PATCH_ID]
    path = utils_file(env_dir)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="argument of type 'bool' is not iterable"):
        schema_functions(before.decode())["_json_schema_to_python_type"](BOOL_SCHEMA, None)

    status = apply_patch(env_dir, entry)
    assert status.state == "applied"
    assert sha256_file(path) == entry.sha256_after
    fixed = schema_functions(path.read_text())["_json_schema_to_python_type"](BOOL_SCHEMA, None)
    assert fixed == "Dict(extra: Dict(str, Any))"
    recorded = load_record(env_dir).patches
    assert [p.id for p in recorded] == [PATCH_ID]
    assert Path(recorded[0].backup).read_bytes() == before

    again = apply_patch(env_dir, entry)
    assert again.state == "applied"
    assert sha256_file(path) == entry.sha256_after
    assert len(load_record(env_dir).patches) == 1


def test_revert_restores_identical_bytes(env_dir: Path) -> None:
    entry = patch_entries()[PATCH_ID]
    path = utils_file(env_dir)
    before = path.read_bytes()
    apply_patch(env_dir, entry)
    assert path.read_bytes() != before
    assert revert_patch(env_dir, entry).state == "original"
    assert path.read_bytes() == before
    assert load_record(env_dir).patches == []


def test_unknown_file_is_refused_and_left_alone(env_dir: Path) -> None:
    entry = patch_entries()[PATCH_ID]
    path = utils_file(env_dir)
    edited = path.read_bytes() + b"\n# a hand edit\n"
    path.write_bytes(edited)
    with pytest.raises(PatchError, match="not the file patch gradio-client-bool-schema knows"):
        apply_patch(env_dir, entry)
    assert path.read_bytes() == edited
    with pytest.raises(PatchError, match="left untouched"):
        revert_patch(env_dir, entry)
    assert path.read_bytes() == edited


def test_other_release_is_not_touched(env_dir: Path) -> None:
    site = utils_file(env_dir).parent.parent
    (site / "gradio_client-1.2.0.dist-info").rename(site / "gradio_client-1.3.0.dist-info")
    with pytest.raises(PatchError, match=r"gradio_client 1\.3\.0 is installed"):
        apply_patch(env_dir, patch_entries()[PATCH_ID])


def test_reinstalled_file_gets_the_patch_again(env_dir: Path) -> None:
    entry = patch_entries()[PATCH_ID]
    path = utils_file(env_dir)
    original = path.read_bytes()
    apply_patch(env_dir, entry)
    path.write_bytes(original)  # what `pip install --force-reinstall gradio_client==1.2.0` leaves
    assert [s.state for s in reapply_patches(env_dir)] == ["applied"]
    assert sha256_file(path) == entry.sha256_after


def test_patch_cli_list_apply_revert(env_dir: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["patch", "list", "--env", str(env_dir)])
    assert listed.exit_code == 0, listed.output
    assert "gradio-client-bool-schema" in listed.output and "not applied" in listed.output
    assert "pydantic<2.11" in listed.output  # the pin is offered first
    applied = runner.invoke(app, ["patch", "apply", PATCH_ID, "--env", str(env_dir)])
    assert applied.exit_code == 0, applied.output
    assert "applied" in applied.output
    reverted = runner.invoke(app, ["patch", "revert", PATCH_ID, "--env", str(env_dir)])
    assert reverted.exit_code == 0, reverted.output
    unknown = runner.invoke(app, ["patch", "apply", "no-such-patch", "--env", str(env_dir)])
    assert unknown.exit_code == 2
    assert "gradio-client-bool-schema" in unknown.output
