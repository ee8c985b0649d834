"""End to end: the real Forge installed by `rigfit install` (session fixture `forge_env`, built once per checkout)
from the shared snapshots with the torch 2.14.1 + torchvision 0.29.1 wheels; then Forge's own launcher, run in that
env with the record's flags, gets to "Running on local URL" without installing anything."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from rigfit.env.protect import installed_versions, site_packages, verify
from rigfit.env.record import load_record
from tests.conftest_forge import FORGE_ENV

pytestmark = pytest.mark.slow
LAUNCH_TIMEOUT = 900.0  # seconds: importing torch alone took 100 s on this shared 2-core machine


def test_record_is_complete_with_the_plan_flags_and_the_overridden_pin(forge_env: Path) -> None:
    record = load_record(forge_env)
    assert record.complete and record.ui == "forge"
    assert record.ui_ref == "dfdcbab685e57677014f05a3309b48cc87383167"
    assert [(p.name, p.version) for p in record.protected] == [("torch", "2.14.1"), ("torchvision", "0.29.1")]
    assert all(p.wheel and Path(p.wheel).is_file() for p in record.protected)
    assert record.launch_args[0] == "--skip-prepare-environment"  # Forge's launcher installs nothing
    assert "--always-cpu" in record.launch_args  # the plan for this GPU-less machine
    assert record.launch_env.get("GRADIO_ANALYTICS_ENABLED") == "False"
    [pin] = record.overridden
    assert (pin.origin, pin.requirement, pin.installed) == (
        "requirements_versions.txt:1",
        "setuptools==69.5.1",
        "setuptools>=77.0.3,<82",
    )
    assert "pkg_resources" in pin.reason


def test_install_output_lists_overrides_pins_and_the_launch_command(forge_env: Path) -> None:
    log = (forge_env.parent / "forge-env.log").read_text()
    assert "override requirements_versions.txt:1 setuptools==69.5.1 -> setuptools>=77.0.3,<82" in log
    assert "pin pydantic<2.11" in log  # a KB compatibility pin, with its reason on the same line
    assert "add joblib" in log
    assert f"rigfit launch forge --env {forge_env}" in log


def test_torch_and_torchvision_are_byte_identical_to_their_wheels(forge_env: Path) -> None:
    """Every file each wheel holds (dist-info aside) is on disk with the same bytes: checked against the wheel."""
    site = site_packages(forge_env)
    for package in load_record(forge_env).protected:
        assert package.wheel is not None
        with zipfile.ZipFile(package.wheel) as wheel:
            names = [n for n in wheel.namelist() if not n.endswith("/") and ".dist-info/" not in n]
            assert len(names) > 100
            for name in names:
                with wheel.open(name) as inside, (site / name).open("rb") as on_disk:
                    assert _digest(inside) == _digest(on_disk), f"{package.name}: {name} differs from the wheel"
    assert verify(forge_env, load_record(forge_env).protected) == []


def _digest(handle) -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def test_forge_requirements_are_met_as_its_launcher_checks_them(forge_env: Path) -> None:
    """Every `==` pin of requirements_versions.txt is installed at that version (the overridden one excepted), and
    the three repositories its launcher clones are in place: with or without its install step, nothing to do."""
    have = installed_versions(forge_env)
    overridden = {p.requirement for p in load_record(forge_env).overridden}
    reqs = (forge_env / "ui" / "requirements_versions.txt").read_text().splitlines()
    for line in reqs:
        text = re.sub(r"#.*", "", line).strip()
        match = re.match(r"^([-_A-Za-z0-9.]+)==(\S+)$", text)
        if not match or text in overridden:
            continue
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        assert Version(have[name]) == Version(match.group(2)), (
            f"{text}: installed {have.get(name)}"
        )  # as Forge compares
    assert have["joblib"]
    for repo in ("stable-diffusion-webui-assets", "huggingface_guess", "BLIP"):
        assert (forge_env / "ui" / "repositories" / repo).is_dir()


def test_lock_file_pins_what_was_installed(forge_env: Path) -> None:
    lock = json.loads((forge_env / "rigfit-lock.json").read_text())
    assert lock["ui_ref"] == "dfdcbab685e57677014f05a3309b48cc87383167"
    assert "gradio==4.40.0" in lock["packages"]
    torch = next(p for p in lock["protected"] if p["name"] == "torch")
    with open(torch["wheel"], "rb") as wheel:
        assert torch["sha256"] == _digest(wheel)
    assert lock["overridden"][0]["installed"] == "setuptools>=77.0.3,<82"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_forge_own_launcher_starts_without_installing_anything(forge_env: Path) -> None:
    record = load_record(forge_env)
    argv = [record.python, "launch.py", *record.launch_args, "--always-cpu", "--no-download-sd-model", "--api"]
    argv += ["--port", str(_free_port())]
    env = {**os.environ, **record.launch_env, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        argv,
        cwd=record.ui_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Running on local URL" in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log = "".join(lines)
    (FORGE_ENV.parent / "forge-launch.log").write_text(log)
    assert "Running on local URL" in log, log[-3000:]
    assert not re.search(r"\bpip\b", log), "Forge's launcher ran pip"
    assert "Installing" not in log and "Cloning" not in log
    assert verify(forge_env, record.protected) == []
