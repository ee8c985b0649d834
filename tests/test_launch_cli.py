"""`rigfit launch/stop/status` on the real Forge checkout in an env without its packages (a broken env), and the
checks that stop a launch before anything starts. The run with Forge installed is tests/test_launch_forge.py."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from rigfit.env.record import EnvRecord, save_record
from rigfit.launch.process import start_ticks
from rigfit.launch.state import RunState, save_state, state_path
from tests.conftest import REPO, SHARED
from tests.launch_helpers import free_port, rigfit

SHELLCHECK = REPO / ".venv" / "bin" / "shellcheck"
FORGE_TAR = SHARED / "uis" / "stable-diffusion-webui-forge.tar.gz"


@pytest.fixture(scope="module")
def broken_forge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv without Forge's requirements holding the real Forge checkout: Forge dies importing fastapi."""
    env = tmp_path_factory.mktemp("broken") / "forge"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    with tarfile.open(FORGE_TAR) as tar:
        tar.extractall(env.parent, filter="data")
    (env.parent / "stable-diffusion-webui-forge").rename(env / "ui")
    save_forge_record(env, env / "ui")
    return env


def save_forge_record(env: Path, ui_dir: Path, **more: object) -> None:
    """The record of a finished Forge env started on the CPU without its preparation step."""
    save_record(
        EnvRecord(
            ui="forge",
            env_dir=str(env),
            ui_dir=str(ui_dir),
            python=str(env / "bin" / "python"),
            complete=True,
            launch_args=["--skip-prepare-environment", "--always-cpu"],
            **more,
        )
    )


def test_a_ui_crashing_at_start_shows_its_log_and_the_explanation(broken_forge: Path, home: Path) -> None:
    result = rigfit("launch", "--env", str(broken_forge), "--port", str(free_port()), "--timeout", "90")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Stable Diffusion WebUI Forge exited while starting" in result.stderr
    assert "ModuleNotFoundError: No module named 'fastapi'" in result.stderr  # the log's tail
    assert "python-module-not-found" in result.stderr  # rigfit explain recognised it
    assert "`fastapi`" in result.stderr
    assert not state_path(broken_forge).exists()  # nothing recorded as running
    assert (
        "Launching Web UI with arguments: --skip-prepare-environment --always-cpu"
        in (home / "logs" / f"{state_path(broken_forge).stem}.log").read_text()
    )


def test_a_busy_port_is_named_with_its_owner(broken_forge: Path, home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = rigfit("launch", "--env", str(broken_forge), "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} is already in use by PID {os.getpid()}" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert not state_path(broken_forge).exists()


def test_an_unfinished_install_is_refused(tmp_path: Path, home: Path) -> None:
    env = tmp_path / "half"
    save_record(EnvRecord(ui="forge", env_dir=str(env), ui_dir=str(env / "ui"), python=str(env / "bin/python")))
    result = rigfit("launch", "--env", str(env))
    assert result.returncode == 1
    assert "did not finish" in result.stderr
    assert f"rigfit install forge --env {env}" in result.stderr


def test_listen_on_a_ui_without_login_needs_no_auth(tmp_path: Path, home: Path) -> None:
    env = tmp_path / "comfy"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    (env / "ui").mkdir(parents=True)
    python = str(env / "bin" / "python")
    save_record(EnvRecord(ui="comfyui", env_dir=str(env), ui_dir=str(env / "ui"), python=python, complete=True))
    result = rigfit("launch", "--env", str(env), "--listen", "--port", str(free_port()), "--script", "x.sh")
    assert result.returncode == 1
    assert "ComfyUI has no login of its own" in result.stderr
    assert "--listen --no-auth" in result.stderr


def test_the_script_passes_shellcheck_and_holds_no_password(broken_forge: Path, home: Path, tmp_path: Path) -> None:
    script = tmp_path / "start-forge.sh"
    result = rigfit("launch", "--env", str(broken_forge), "--listen", "--port", "7999", "--script", str(script))
    assert result.returncode == 0, result.stderr
    text = script.read_text()
    auth = home / "auth" / "forge.txt"
    password = auth.read_text().strip().split(":", 1)[1]
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert password not in text
    assert "killall" not in text and "pkill" not in text
    # the web login reads the 0600 file; the API login (no file form) goes in the environment, never in argv
    assert f"--gradio-auth-path {auth}" in text
    assert 'export COMMANDLINE_ARGS="${COMMANDLINE_ARGS:+$COMMANDLINE_ARGS }--api-auth $auth_q"' in text
    assert "--gradio-auth " not in text and '"$auth"' not in text.split("args=(")[1]
    assert "--port 7999" in text and "--listen" in text and "--skip-prepare-environment" in text
    code_lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    commented = sum(1 for line in text.splitlines() if line.lstrip().startswith("#"))
    assert commented >= len(code_lines) - 3  # a comment per line (the shebang, `args=(`, `)` aside)
    check = subprocess.run([str(SHELLCHECK), str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_stop_leaves_a_reused_pid_alone_and_cleans_the_state(broken_forge: Path, home: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        ticks = start_ticks(bystander.pid)
        assert ticks is not None
        save_state(
            RunState(
                ui="forge",
                env_dir=str(broken_forge),
                pid=bystander.pid,
                start_ticks=ticks - 100,  # the UI rigfit started had this PID earlier
                port=7860,
                urls=["http://127.0.0.1:7860/"],
                command=["python", "launch.py"],
                cwd=str(broken_forge / "ui"),
                log=str(home / "x.log"),
                started_at="2026-01-01T00:00:00+00:00",
            )
        )
        result = rigfit("stop", "--env", str(broken_forge))
        assert result.returncode == 0, result.stderr
        assert "belongs to another process (left alone)" in result.stdout
        assert bystander.poll() is None
        assert not state_path(broken_forge).exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_status_drops_a_stale_state(broken_forge: Path, home: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    save_state(
        RunState(
            ui="forge",
            env_dir=str(broken_forge),
            pid=proc.pid,
            start_ticks=1,
            port=7860,
            urls=["http://127.0.0.1:7860/"],
            command=["python"],
            cwd="/",
            log="/nonexistent",
            started_at="2026-01-01T00:00:00+00:00",
        )
    )
    result = rigfit("status")
    assert result.returncode == 0
    assert "Nothing rigfit started is running" in result.stdout
    assert not state_path(broken_forge).exists()


def test_explain_names_the_missing_package_of_a_real_forge_crash() -> None:
    from rigfit.explain.match import explain_text
    from tests.conftest import fixture_text

    result = explain_text(fixture_text("launch/forge-bare-venv-crash.txt"))
    assert result.explanations[0].id == "python-module-not-found"
    assert "`fastapi`" in result.explanations[0].cause
    assert "rigfit add --env DIR fastapi" in result.explanations[0].fix


def test_the_start_phases_of_forge_follow_its_real_log() -> None:
    from rigfit.launch.health import phase_of
    from rigfit.plan.knowledge import ui_entry
    from tests.conftest import fixture_text

    phases = ui_entry("forge").start_phases
    said = [s for line in fixture_text("launch/forge-start-cpu.txt").splitlines() if (s := phase_of(line, phases))]
    assert said == [p.says for p in phases]  # each phase once, in order


def test_plan_for_an_installed_env_shows_rigfit_launch(broken_forge: Path, home: Path, tmp_path: Path) -> None:
    installed = rigfit("plan", "--ui", "forge", "--env", str(broken_forge))
    assert installed.returncode == 0, installed.stderr
    assert f"$ rigfit launch forge --env {broken_forge}" in installed.stdout
    assert "launch.py" not in installed.stdout
    # no env rigfit installed: the UI's own line, with the one "install nothing" switch the KB names
    raw = rigfit("plan", "--ui", "forge", "--env", str(tmp_path / "nothing-here"))
    assert raw.returncode == 0, raw.stderr
    assert "rigfit launch" not in raw.stdout
    line = next(line for line in raw.stdout.splitlines() if "launch.py" in line)
    assert "--skip-prepare-environment" in line


def test_a_protected_file_changed_stops_the_ui_it_started(broken_forge: Path, home: Path, tmp_path: Path) -> None:
    """The env check runs while the UI starts (not before): a protected file that changed since install stops that
    UI's group at once, with the fix, and nothing stays recorded as running."""
    from rigfit.env.protect import file_hash
    from rigfit.env.record import ProtectedPackage

    env = tmp_path / "tampered"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next(env.glob("lib/python3*/site-packages"))
    (site / "guarded").mkdir()
    module = site / "guarded" / "__init__.py"
    module.write_text("VALUE = 1\n")
    protected = ProtectedPackage(name="guarded", version="1.0", files={"guarded/__init__.py": file_hash(module)})
    save_forge_record(env, broken_forge / "ui", protected=[protected])
    module.write_text("VALUE = 2\n")  # something reinstalled or edited it
    result = rigfit("launch", "--env", str(env), "--port", str(free_port()), "--timeout", "90")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 file(s) of guarded changed since rigfit installed them" in result.stderr
    assert f"rigfit install forge --env {env}" in result.stderr
    assert not state_path(env).exists()
    python = str(env / "bin" / "python").encode()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                assert not (proc / "cmdline").read_bytes().startswith(python)  # the UI it started is gone
            except OSError:
                continue


def test_the_password_goes_to_the_environment_never_the_command_line(
    broken_forge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rigfit.env.record import load_record
    from rigfit.launch.auth import Credentials
    from rigfit.launch.launcher import build_command, full_env
    from rigfit.plan.knowledge import ui_entry

    creds = Credentials("rigfit", "s3cret-Pass", False, tmp_path / "forge.txt")
    command = build_command(load_record(broken_forge), ui_entry("forge"), port=7999, listen=True, creds=creds, extra=[])
    assert "s3cret-Pass" not in " ".join(command.argv) and "s3cret-Pass" not in str(command.env_added)
    assert command.argv[command.argv.index("--gradio-auth-path") + 1] == str(creds.path)
    assert command.env_secret == {"COMMANDLINE_ARGS": "--api-auth rigfit:s3cret-Pass"}
    # the user's own COMMANDLINE_ARGS stays, the login joins it (a setdefault would silently drop the API login)
    monkeypatch.setenv("COMMANDLINE_ARGS", "--theme dark")
    env = full_env(command.env_added, command.env_secret)
    assert env["COMMANDLINE_ARGS"] == "--theme dark --api-auth rigfit:s3cret-Pass"
    monkeypatch.delenv("COMMANDLINE_ARGS")
    assert full_env({}, command.env_secret)["COMMANDLINE_ARGS"] == "--api-auth rigfit:s3cret-Pass"
