"""The "package" install kind (InvokeAI: its pinned PyPI release instead of a checkout) and how rigfit starts such a
UI: its KB entry, what its real metadata asks of the protected torch, its settings passed as INVOKEAI_* variables,
its own login for --listen. The real install and launch: tests/test_launch_invokeai.py (slow)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rigfit.env.install import package_torch_requirements, requirement_lines
from rigfit.env.record import EnvRecord, ProtectedPackage
from rigfit.kb.installs import UiInstall, ui_installs
from rigfit.kb.typed import ValidationError, load_as
from rigfit.launch.auth import Credentials, generated_password
from rigfit.launch.launcher import build_command
from rigfit.plan.knowledge import ui_entry
from tests.conftest import REPO

METADATA = REPO / "tests" / "fixtures" / "packages" / "invokeai-6.14.2.METADATA"
PROTECTED = [ProtectedPackage(name="torch", version="2.14.1"), ProtectedPackage(name="torchvision", version="0.29.1")]


def test_invokeai_is_its_pinned_release_from_the_index() -> None:
    spec = ui_installs()["invokeai"]
    assert (spec.kind, spec.release, spec.root_flag) == ("package", "invokeai==6.14.2", "--root")
    assert spec.requirements == [] and spec.repositories == []
    [line] = requirement_lines(spec, Path("/nowhere"))
    assert (line.text, line.origin) == ("invokeai==6.14.2", "ui_installs.yaml (invokeai)")
    assert requirement_lines(spec, Path("/nowhere"), "6.14.1")[0].text == "invokeai==6.14.1"  # --ref


def test_schema_refuses_a_package_without_its_version_and_a_checkout_without_requirements() -> None:
    base = {"id": "x", "repo": "https://example.org/x", "launch": "x", "source": "test"}
    with pytest.raises(ValidationError, match="kind package needs `package`"):
        load_as(UiInstall, {**base, "kind": "package", "package": "x"})
    with pytest.raises(ValidationError, match="kind git needs `requirements`"):
        load_as(UiInstall, base)


@pytest.fixture
def env_with_invokeai_metadata(tmp_path: Path) -> Path:
    info = tmp_path / "lib" / "python3.11" / "site-packages" / "invokeai-6.14.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_bytes(METADATA.read_bytes())
    return tmp_path


def test_each_torch_requirement_of_the_real_metadata_is_named_with_what_rigfit_did(
    env_with_invokeai_metadata: Path,
) -> None:
    lines = package_torch_requirements(env_with_invokeai_metadata, "invokeai", PROTECTED)
    assert lines[:2] == [
        "invokeai requires torch<3.0,>=2.7.0: kept: the protected torch 2.14.1",  # the darwin-only line is left out
        "invokeai requires torchvision: kept: the protected torchvision 0.29.1",
    ]
    extras = {line.split(" pins ")[0]: line for line in lines[2:]}
    assert set(extras) == {"invokeai[cpu]", "invokeai[cuda]", "invokeai[rocm]", "invokeai[xpu]"}
    assert "torch==2.7.1+cu128, torchvision==0.22.1+cu128" in extras["invokeai[cuda]"]
    assert extras["invokeai[rocm]"].endswith("not installed (rigfit installs invokeai without extras)")
    older = [ProtectedPackage(name="torch", version="2.6.0+rocm6.2")]
    assert (
        "CONFLICT with the protected torch 2.6.0+rocm6.2"
        in package_torch_requirements(env_with_invokeai_metadata, "invokeai", older)[0]
    )


def _record(env: Path) -> EnvRecord:
    return EnvRecord(
        ui="invokeai",
        env_dir=str(env),
        ui_dir=str(env / "ui"),
        python=str(env / "bin" / "python"),
        launch_args=["--root", str(env / "ui")],
        launch_env={"INVOKEAI_DEVICE": "cpu"},
        complete=True,
    )


def test_invokeai_settings_go_in_its_variables_never_on_its_command_line(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "invokeai-web").touch()
    ui = ui_entry("invokeai")
    local = build_command(_record(tmp_path), ui, port=9191, listen=False, creds=None, extra=[])
    assert local.argv == [str(tmp_path / "bin" / "invokeai-web"), "--root", str(tmp_path / "ui")]
    assert local.env_added["INVOKEAI_PORT"] == "9191" and local.env_added["INVOKEAI_DEVICE"] == "cpu"
    assert "INVOKEAI_HOST" not in local.env_added and "INVOKEAI_MULTIUSER" not in local.env_added
    creds = Credentials("rigfit@rigfit.local", "Secret123", False, tmp_path / "auth")
    shared = build_command(_record(tmp_path), ui, port=9090, listen=True, creds=creds, extra=[])
    assert shared.argv == local.argv  # invokeai-web takes --root and --config only
    assert shared.env_added["INVOKEAI_HOST"] == "0.0.0.0" and shared.env_added["INVOKEAI_MULTIUSER"] == "true"
    assert "Secret123" not in " ".join(shared.argv) + " ".join(shared.env_added.values())


def test_generated_passwords_meet_invokeais_rule() -> None:
    for _ in range(200):
        password = generated_password()
        assert len(password) == 20
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)


def test_dry_run_names_the_release_and_writes_nothing(tmp_path: Path) -> None:
    env = tmp_path / "invokeai"
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "rigfit"), "install", "invokeai", "--env", str(env), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RIGFIT_HOME": str(tmp_path / "home"), "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "UI: invokeai==6.14.2 from the package index (no extras)" in proc.stdout
    assert "note numpy<2.0.0" in proc.stdout
    assert "launch flags: " in proc.stdout
    assert not env.exists()


def test_launch_script_runs_invokeai_web_with_its_variables_and_no_password(tmp_path: Path) -> None:
    from rigfit.launch.script import launch_script

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "invokeai-web").touch()
    ui = ui_entry("invokeai")
    creds = Credentials("rigfit@rigfit.local", "Secret123", False, tmp_path / "auth" / "invokeai.txt")
    command = build_command(_record(tmp_path), ui, port=9090, listen=True, creds=creds, extra=[])
    script = launch_script(_record(tmp_path), ui, command, creds)
    assert f'exec {tmp_path / "bin" / "invokeai-web"} "${{args[@]}}" "$@"' in script
    assert f"  --root {tmp_path / 'ui'}" in script
    assert "export INVOKEAI_MULTIUSER=true" in script and "export INVOKEAI_HOST=0.0.0.0" in script
    assert "Secret123" not in script and "auth=$(" not in script  # its login is an account, not a flag
    assert "the account rigfit@rigfit.local in the UI's own database" in script


def test_a_python_the_release_does_not_support_is_refused_first(tmp_path: Path) -> None:
    from rigfit.env.install import InstallError, InstallOptions, _check_python

    spec = ui_installs()["invokeai"]
    opts = InstallOptions(ui="invokeai", env_dir=tmp_path, python="python3.10")
    with pytest.raises(InstallError, match=r"invokeai 6\.14\.2 installs on Python >=3\.11,<3\.13, and python3\.10 is"):
        _check_python(spec, opts, "3.10.12")
    with pytest.raises(InstallError, match=r"--python python3\.11"):
        _check_python(spec, opts, "3.13.1")
    _check_python(spec, opts, "3.11.7")
    _check_python(spec, opts, "3.12.3")
