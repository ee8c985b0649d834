"""The install commands' clear errors and dry runs, through the CLI: one message each, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED


def rigfit(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIGFIT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "rigfit.cli", *args], capture_output=True, text=True, timeout=600, check=False, env=env
    )


def words(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.parametrize(
    ("ui", "expected"),
    [
        ("krita", "cannot install"),
    ],
)
def test_unknown_ui_is_one_clear_error(tmp_path: Path, ui: str, expected: str) -> None:
    proc = rigfit("install", ui, "--env", str(tmp_path / "env"), home=tmp_path)
    assert proc.returncode == 1 and expected in words(proc)
    assert "Traceback" not in words(proc)
    assert not (tmp_path / "env").exists()


def test_bad_wheel_path_writes_nothing(tmp_path: Path) -> None:
    proc = rigfit(
        "install",
        "forge",
        "--torch-wheel",
        str(tmp_path / "torch-2.5.1-cp311-cp311-linux_x86_64.whl"),
        "--env",
        str(tmp_path / "env"),
        home=tmp_path,
    )
    assert proc.returncode == 1 and "does not exist: check the path given to --torch-wheel" in words(proc)
    assert not (tmp_path / "env").exists()


def test_dry_run_prints_the_steps_and_writes_nothing(tmp_path: Path) -> None:
    env = tmp_path / "env"
    proc = rigfit("install", "forge", "--mirror", str(SHARED / "uis"), "--dry-run", "--env", str(env), home=tmp_path)
    out = words(proc)
    assert proc.returncode == 0, out
    assert "override setuptools==69.5.1 -> setuptools>=77.0.3,<82" in out
    assert "add joblib" in out and "repositories/BLIP at 48211a1594f1" in out
    assert "launch flags: --skip-prepare-environment" in out
    assert not env.exists()


def test_env_check_on_a_folder_that_is_no_env(tmp_path: Path) -> None:
    proc = rigfit("env", "check", "--env", str(tmp_path), home=tmp_path)
    assert proc.returncode == 2 and "is not an env rigfit installed" in words(proc)


def test_env_list_without_envs(tmp_path: Path) -> None:
    proc = rigfit("env", "list", home=tmp_path)
    assert proc.returncode == 0 and "rigfit install forge" in words(proc)


def test_add_needs_something_to_add(tmp_path: Path) -> None:
    proc = rigfit("add", "--env", str(tmp_path), home=tmp_path)
    assert proc.returncode == 2 and "rigfit add -r requirements.txt" in words(proc)


def test_env_list_shows_an_env_installed_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rigfit.env.record import EnvRecord, register_env, save_record

    env_dir = tmp_path / "sd" / "forge"
    save_record(EnvRecord(ui="forge", env_dir=str(env_dir), ui_dir=str(env_dir / "ui"), python="x", complete=True))
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))
    register_env(env_dir)
    proc = rigfit("env", "list", home=tmp_path / "home")
    assert proc.returncode == 0 and str(env_dir) in words(proc) and "forge" in words(proc)


def test_dry_run_json_is_the_record_it_would_write(tmp_path: Path) -> None:
    import json

    proc = rigfit("install", "forge", "--dry-run", "--json", "--env", str(tmp_path / "env"), home=tmp_path)
    data = json.loads(proc.stdout)
    assert data["schema"] == "rigfit.install/1" and data["ui"] == "forge"
    assert data["launch_args"][0] == "--skip-prepare-environment"
    assert data["launch_env"]["GRADIO_ANALYTICS_ENABLED"] == "False"
