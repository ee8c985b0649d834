"""The real InvokeAI end to end: `rigfit install invokeai` (its pinned PyPI release, no extras) with the torch 2.14.1 +
torchvision 0.29.1 wheels as --torch-wheel (session fixture `invokeai_env`, built once per checkout), then
`rigfit launch` -> its health endpoint answers -> `rigfit stop` leaves no process; `--listen` turns on its own login.

No model is installed (InvokeAI starts without one and downloads nothing); one InvokeAI at a time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rigfit.env.protect import installed_versions, verify
from rigfit.env.record import load_record
from rigfit.kb.typed import dump
from rigfit.launch.preflight import listen_inodes
from rigfit.launch.process import group_members
from rigfit.launch.state import load_state, state_path
from tests.cached_env import files_unlike_their_wheels
from tests.test_launch_forge import free_port, request, rigfit

pytestmark = pytest.mark.slow
START_TIMEOUT = "900"  # seconds: a first start imports torch and creates InvokeAI's database (160 s here, loaded)


def test_record_lock_and_the_release_installed(invokeai_env: Path) -> None:
    record = load_record(invokeai_env)
    assert record.complete and record.ui == "invokeai" and record.ui_ref == "6.14.2"
    assert [(p.name, p.version) for p in record.protected] == [("torch", "2.14.1"), ("torchvision", "0.29.1")]
    assert record.launch_args[:2] == ["--root", str(invokeai_env / "ui")]  # its data root inside the env
    assert record.launch_env["INVOKEAI_DEVICE"] == "cpu"  # the plan's settings, as the variables it reads
    have = installed_versions(invokeai_env)
    assert have["invokeai"] == "6.14.2"
    assert have["numpy"].startswith("1.")  # InvokeAI's own numpy<2.0.0, installed as asked
    assert "triton-rocm" not in have and "xformers" not in have  # no extra was installed
    lock = json.loads((invokeai_env / "rigfit-lock.json").read_text())
    assert "invokeai==6.14.2" in lock["packages"] and lock["ui_ref"] == "6.14.2"


def test_install_output_says_what_it_did_with_each_torch_requirement(invokeai_env: Path) -> None:
    log = (invokeai_env.parent / "invokeai-env.log").read_text()
    assert "invokeai requires torch<3.0,>=2.7.0: kept: the protected torch 2.14.1" in log
    assert "invokeai requires torchvision: kept: the protected torchvision 0.29.1" in log
    assert re.search(r"invokeai\[cuda\] pins torch==2\.7\.1\+cu128, torchvision==0\.22\.1\+cu128.*: not installed", log)
    assert re.search(r"invokeai\[rocm\] pins torch==2\.10\.0\+rocm7\.1.*: not installed", log)
    assert "CONFLICT" not in log
    assert "protected packages byte-identical: torch 2.14.1, torchvision 0.29.1" in log
    assert f"rigfit launch invokeai --env {invokeai_env}" in log


def test_torch_and_torchvision_are_byte_identical_to_their_wheels(invokeai_env: Path) -> None:
    compared, differing = files_unlike_their_wheels(invokeai_env)
    assert compared > 1000 and differing == []
    assert verify(invokeai_env, load_record(invokeai_env).protected) == []


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """rigfit's data dir for the test (state files, logs, the generated login)."""
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def port(invokeai_env: Path, home: Path) -> Iterator[int]:
    """A free port; whatever the test started in the env is stopped afterwards."""
    yield free_port()
    rigfit("stop", "--env", str(invokeai_env))


def test_launch_answers_then_stop_leaves_nothing(invokeai_env: Path, port: int) -> None:
    started = rigfit("launch", "invokeai", "--env", str(invokeai_env), "--port", str(port), "--timeout", START_TIMEOUT)
    out = started.stdout
    assert started.returncode == 0, out + started.stderr
    assert re.search(r"InvokeAI answers after [\d.]+ s", out) and f"http://127.0.0.1:{port}/" in out
    assert f"no model in {invokeai_env / 'ui' / 'models'}" in out and "Model Manager" in out  # and started anyway
    assert "\x1b[" not in out  # its coloured log lines shown as text
    status, body = request(f"http://127.0.0.1:{port}/api/v1/app/version")
    assert status == 200 and json.loads(body) == {"version": "6.14.2"}
    assert request(f"http://127.0.0.1:{port}/api/v1/auth/status")[1].find(b'"multiuser_enabled":false') > 0
    state = load_state(state_path(invokeai_env))
    assert state is not None and group_members(state.pid)
    running = json.loads(rigfit("status", "--json").stdout)["running"]
    assert [(r["ui"], r["answers"]) for r in running] == [("invokeai", True)]

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        stopped = rigfit("stop", "invokeai", "--env", str(invokeai_env))
        assert stopped.returncode == 0 and "stopped invokeai" in stopped.stdout
        assert not group_members(state.pid)  # InvokeAI and anything it started are gone
        assert bystander.poll() is None  # another Python of this user survives
    finally:
        bystander.kill()
        bystander.wait()
    assert not state_path(invokeai_env).exists() and not listen_inodes(port)
    assert verify(invokeai_env, load_record(invokeai_env).protected) == []  # it changed no torch file


def test_listen_turns_on_its_own_login(invokeai_env: Path, port: int, home: Path) -> None:
    started = rigfit("launch", "--env", str(invokeai_env), "--port", str(port), "--listen", "--timeout", START_TIMEOUT)
    assert started.returncode == 0, started.stdout + started.stderr
    user, password = (home / "auth" / "invokeai.txt").read_text().strip().split(":", 1)
    assert user == "rigfit@rigfit.local" and f"login: {user} / {password}" in started.stdout
    assert "/api/v1/auth/login" in started.stdout
    state = load_state(state_path(invokeai_env))
    assert state is not None and password not in json.dumps(dump(state))
    base = f"http://127.0.0.1:{port}/api"
    _, body = request(f"{base}/v1/auth/status")
    assert json.loads(body)["multiuser_enabled"] is True and json.loads(body)["setup_required"] is False
    assert request(f"{base}/v2/models/")[0] == 401
    assert request(f"{base}/v1/auth/login", {"email": user, "password": "Wrong1234"})[0] == 401
    status, body = request(f"{base}/v1/auth/login", {"email": user, "password": password})
    assert status == 200
    token = json.loads(body)["token"]
    assert request_bearer(f"{base}/v2/models/", token) == 200
    # nobody else can make themselves the first administrator
    assert request(f"{base}/v1/auth/setup", {"email": "someone@example.org", "password": "Other1234"})[0] >= 400


def request_bearer(url: str, token: str) -> int:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
