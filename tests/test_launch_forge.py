"""The real Forge, installed by `rigfit install` (session fixture `forge_env`), launched by rigfit, generating an
image through its own API, and stopped. The model is an SD 1.5 checkpoint with random weights the test builds
(tests/workers/forge_sd15_checkpoint.py under the Forge env's python), cached under .cache/.

One Forge at a time (about 7 GB while generating on the CPU): every test stops what it started.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rigfit.launch.preflight import listen_inodes
from rigfit.launch.process import group_members
from rigfit.launch.state import load_state, state_path
from rigfit.proc.worker import run_worker
from tests.conftest import REPO, SHARED
from tests.launch_helpers import RIGFIT, ctrl_c_reaches, free_port, rigfit

pytestmark = pytest.mark.slow

CHECKPOINT = REPO / ".cache" / "sd15-random" / "sd15-random-fp16.safetensors"
WORKER = REPO / "tests" / "workers" / "forge_sd15_checkpoint.py"
TXT2IMG = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 1, "cfg_scale": 1, "sampler_name": "Euler"}


def build_checkpoint(python: Path, ui_dir: Path) -> Path:
    """The random SD 1.5 checkpoint (built once: ~30 s, ~5 GB peak)."""
    if not CHECKPOINT.exists():
        CHECKPOINT.parent.mkdir(parents=True, exist_ok=True)
        result = run_worker(python, WORKER, [str(ui_dir), str(CHECKPOINT)], timeout=900)
        assert result.ok, result.output_tail
        assert result.data is not None and result.data["tensors"] > 1000
    return CHECKPOINT


@pytest.fixture(scope="module")
def forge(forge_env: Path) -> Path:
    """The Forge env with the random checkpoint in its model folder (a link to the cached file)."""
    ui_dir = forge_env / "ui"
    checkpoint = build_checkpoint(forge_env / "bin" / "python", ui_dir)
    link = ui_dir / "models" / "Stable-diffusion" / checkpoint.name
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(checkpoint)
    return forge_env


def request(url: str, body: dict | None = None, auth: str | None = None, timeout: float = 600) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def launched(forge: Path, home: Path) -> Iterator[tuple[Path, int]]:
    """Forge started by `rigfit launch`; stopped (and checked gone) afterwards whatever the test did."""
    port = free_port()
    yield forge, port
    rigfit("stop", "--env", str(forge))


def test_launch_generate_stop(launched: tuple[Path, int]) -> None:
    env, port = launched
    started = rigfit("launch", "--env", str(env), "--port", str(port), "--quiet", "--timeout", "400")
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"http://127.0.0.1:{port}/" in started.stdout
    state = load_state(state_path(env))
    assert state is not None and group_members(state.pid)

    status, body = request(f"http://127.0.0.1:{port}/sdapi/v1/txt2img", TXT2IMG)
    assert status == 200, body[:500]
    image = base64.b64decode(json.loads(body)["images"][0])
    assert png_size(image) == (64, 64)

    shown = rigfit("status", "--json")
    running = json.loads(shown.stdout)["running"]
    assert [r["pid"] for r in running] == [state.pid] and running[0]["answers"] is True

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        stopped = rigfit("stop", "--env", str(env))
        assert stopped.returncode == 0
        assert "stopped" in stopped.stdout or "killed" in stopped.stdout
        assert not group_members(state.pid)
        assert bystander.poll() is None  # another Python of this user survives
    finally:
        bystander.kill()
        bystander.wait()
    assert not state_path(env).exists()
    assert not listen_inodes(port)  # nothing listens on the port any more


def test_listen_turns_on_the_api_login(launched: tuple[Path, int], home: Path) -> None:
    env, port = launched
    started = rigfit("launch", "--env", str(env), "--port", str(port), "--listen", "--quiet", "--timeout", "400")
    assert started.returncode == 0, started.stdout + started.stderr
    user, password = (home / "auth" / "forge.txt").read_text().strip().split(":", 1)
    assert f"login: {user} / {password}" in started.stdout  # shown once
    state = load_state(state_path(env))
    assert state is not None and password not in " ".join(state.command) and password not in str(state.env)
    # what every user of the machine reads (`ps`): no process of the UI's group has the password on its command line
    members = group_members(state.pid)
    assert members
    for member in members:
        assert password.encode() not in Path(f"/proc/{member.pid}/cmdline").read_bytes()
    # the web login reads the 0600 file; the API login comes through the environment, which only its owner reads
    cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[cmdline.index(b"--gradio-auth-path") + 1] == str(home / "auth" / "forge.txt").encode()
    environ = Path(f"/proc/{state.pid}/environ")
    assert stat.S_IMODE(environ.stat().st_mode) == 0o400
    assert f"COMMANDLINE_ARGS=--api-auth {user}:{password}".encode() in environ.read_bytes().split(b"\0")
    assert stat.S_IMODE(Path(state.log).stat().st_mode) == 0o600  # Forge prints its arguments into its log
    assert password not in started.stdout.replace(f"login: {user} / {password}", "")
    models = f"http://127.0.0.1:{port}/sdapi/v1/sd-models"
    assert request(models)[0] == 401
    assert request(models, auth=f"{user}:wrong")[0] == 401
    status, body = request(models, auth=f"{user}:{password}")
    assert status == 200
    assert any("sd15-random" in m["title"] for m in json.loads(body))
    # the web page's login (gradio's /login form) takes the same user and password from the file
    assert login(port, user, "wrong") == 400
    assert login(port, user, password) == 200


def login(port: int, user: str, password: str) -> int:
    form = urllib.parse.urlencode({"username": user, "password": password}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/login", data=form)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_foreground_stops_the_ui_group_on_ctrl_c_and_sigterm(launched: tuple[Path, int], sig: signal.Signals) -> None:
    """`rigfit launch --foreground` stays attached; Ctrl-C (SIGINT to rigfit: the UI is in its own session, the
    terminal's Ctrl-C never reaches it) or SIGTERM stops the UI's whole process group and removes the state file."""
    env, port = launched
    attached = subprocess.Popen(
        [str(RIGFIT), "launch", "--env", str(env), "--port", str(port), "--quiet", "--foreground", "--timeout", "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=ctrl_c_reaches,
    )
    try:
        assert attached.stdout is not None
        seen = []
        for line in attached.stdout:  # until it says the UI answers
            seen.append(line)
            if "answers after" in line:
                break
        assert any("answers after" in line for line in seen), "".join(seen)
        state = load_state(state_path(env))
        assert state is not None and group_members(state.pid)
        time.sleep(1)
        assert attached.poll() is None  # still attached, following the log
        attached.send_signal(sig)
        rest, _ = attached.communicate(timeout=60)
    finally:
        if attached.poll() is None:
            attached.kill()
            attached.wait()
    assert "stopping forge: stopped" in rest or "stopping forge: killed" in rest, rest
    assert not group_members(state.pid)
    assert not state_path(env).exists()
    assert not listen_inodes(port)


def test_a_second_launch_is_refused_while_one_runs(launched: tuple[Path, int]) -> None:
    env, port = launched
    assert rigfit("launch", "--env", str(env), "--port", str(port), "--quiet", "--timeout", "400").returncode == 0
    again = rigfit("launch", "--env", str(env), "--port", str(free_port()))
    assert again.returncode == 1
    assert "already runs" in again.stderr and "rigfit stop" in again.stderr
    time.sleep(0.1)


def test_up_runs_the_whole_chain_from_nothing(tmp_path: Path, home: Path) -> None:
    """`rigfit up` on a fresh env folder: doctor, plan, install from the mirror with the torch wheels, launch."""
    from tests.conftest_forge import WHEELS, find_wheel

    env = tmp_path / "forge-up"
    port = free_port()
    wheels = [arg for name, version in WHEELS for arg in ("--torch-wheel", str(find_wheel(name, version)))]
    argv = ["up", "forge", "--env", str(env), "--yes", "--mirror", str(SHARED / "uis"), *wheels, "--port", str(port)]
    try:
        result = rigfit(*argv, "--timeout", "400", timeout=3600)
        out = result.stdout
        assert result.returncode == 0, out + result.stderr
        for stage in ("✓ doctor", "✓ plan", "✓ install", "answers after"):
            assert stage in out
        assert out.index("✓ doctor") < out.index("✓ plan") < out.index("✓ install") < out.index("answers after")
        assert f"http://127.0.0.1:{port}/" in out
        assert f"no model in {env / 'ui' / 'models' / 'Stable-diffusion'}" in out  # started without downloading one
        assert request(f"http://127.0.0.1:{port}/internal/ping")[0] == 200
        again = rigfit(*argv, timeout=600)  # running already: install is skipped, launch refuses with the fix
        assert "already installed and intact" in again.stdout
        assert again.returncode == 1 and "already runs" in again.stderr
    finally:
        rigfit("stop", "--env", str(env))
        shutil.rmtree(env, ignore_errors=True)  # 5 GB
