"""Device access: /dev/kfd denied and /dev/kfd missing are different findings with different fixes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.permissions import _access, device_access, device_gids, parse_id
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES, fixture_text

DENIED = "real/rocminfo/kfd-permission-denied-in-docker-missing-render-group.txt"


def _capture(tmp: Path, commands: dict[str, str], facts: dict[str, object], docker: bool = False) -> CaptureSource:
    (tmp / "commands").mkdir(parents=True)
    (tmp / "facts").mkdir()
    if docker:  # the empty marker file docker creates in every container
        (tmp / "files").mkdir()
        (tmp / "files" / ".dockerenv").write_text("")
    for name, text in commands.items():
        (tmp / "commands" / f"{name}.out").write_text(text)
    for name, value in facts.items():
        (tmp / "facts" / f"{name}.json").write_text(json.dumps(value))
    return CaptureSource(tmp)


def test_id_and_groups_outputs() -> None:
    line = "uid=1000(alice) gid=1000(alice) groups=1000(alice),4(adm),27(sudo),44(video),993(render)"
    assert parse_id(line) == ("alice", 1000, ["alice", "adm", "sudo", "video", "render"])
    assert parse_id("uid=0(root) gid=0(root) groups=0(root)") == ("root", 0, ["root"])
    # the `groups` command as pasted in the ROCm-docker issue
    assert parse_id(fixture_text(DENIED).strip().splitlines()[-1]) == (None, None, ["rocm-user", "sudo", "video"])
    assert parse_id("garbage: not an id output\nsecond line") == (None, None, None)


@given(st.text(max_size=300))
def test_parse_id_never_raises(text: str) -> None:
    parse_id(text)


def test_device_access_reports_missing_paths(tmp_path: Path) -> None:
    assert _access(str(tmp_path / "kfd")) == "missing"
    assert _access(str(tmp_path)) is None  # a directory cannot be opened read-write: unknown, not a verdict
    assert set(device_access().values()) <= {"ok", "permission_denied", "missing"}


def test_rocminfo_permission_denied_in_a_container(tmp_path: Path) -> None:
    source = _capture(
        tmp_path,
        {"rocminfo": fixture_text(DENIED), "rocm-smi": fixture_text(DENIED), "id": "rocm-user sudo video\n"},
        {},
        docker=True,
    )
    profile = probe_machine(source, torch_check=False)
    assert profile.kfd_access == "permission_denied" and profile.rocm.error == "kfd_permission_denied"
    assert len(profile.gpus) == 4 and not profile.rocm.agents_listed  # rocm-smi reads sysfs; ROCm sees nothing
    found = {f.id: f for f in findings_for(profile)}
    denied = found["permissions.kfd_denied"]
    assert (denied.severity, denied.blocks) == ("blocker", "gpu")
    assert "not in: render" in denied.message and "--group-add render" in denied.fix
    assert "permissions.kfd_missing" not in found and "gpu.rocm_no_agent" not in found


def test_permission_denied_on_a_host_means_groups_and_relogin(tmp_path: Path) -> None:
    id_line = "uid=1000(u) gid=1000(u) groups=1000(u),44(video)"
    facts = {"device_access": {"/dev/kfd": "permission_denied", "/dev/dri/renderD128": "permission_denied"}}
    source = _capture(tmp_path, {"id": id_line, "rocminfo": fixture_text(DENIED)}, facts)
    profile = probe_machine(source, torch_check=False)
    found = {f.id: f for f in findings_for(profile)}
    assert "usermod -aG render,video" in found["permissions.kfd_denied"].fix
    assert "log out" in found["permissions.kfd_denied"].fix
    assert profile.permissions.render_nodes == {"/dev/dri/renderD128": "permission_denied"}


def test_kfd_missing_in_a_container_vs_on_a_host(tmp_path: Path) -> None:
    lspci = fixture_text("machines/x5670-rx460-gfx803-x58/commands/lspci.out")
    missing = {"device_access": {"/dev/kfd": "missing"}}
    in_docker = _capture(tmp_path / "a", {"lspci": lspci}, missing, docker=True)
    found = {f.id: f for f in findings_for(probe_machine(in_docker, torch_check=False))}
    assert found["permissions.kfd_missing"].fix.startswith("start the container with --device /dev/kfd")
    on_host = _capture(tmp_path / "b", {"lspci": lspci}, missing)
    found = {f.id: f for f in findings_for(probe_machine(on_host, torch_check=False))}
    assert "modprobe amdgpu" in found["permissions.kfd_missing"].fix


def test_captured_access_facts_are_used_as_is() -> None:
    profile = probe_machine(CaptureSource(FIXTURES / "machines/rx5500xt-debian11-a1111-docker"), torch_check=False)
    assert profile.kfd_access == "ok" and profile.permissions.render_nodes == {"/dev/dri/renderD128": "ok"}


def test_device_gids_are_the_numeric_groups_of_real_device_files() -> None:
    """Real files of this machine: /dev/null's group is what stat says, a missing device is left out."""
    gids = device_gids(["/dev/null", "/dev/kfd-not-here"])
    assert gids == {"/dev/null": os.stat("/dev/null").st_gid}


def test_device_gids_come_from_the_capture_and_reject_non_numbers(tmp_path: Path) -> None:
    facts = {"device_access": {"/dev/kfd": "ok"}, "device_gids": {"/dev/kfd": 109, "/dev/dri/renderD128": "render"}}
    for name, value in facts.items():
        (tmp_path / "facts").mkdir(exist_ok=True)
        (tmp_path / "facts" / f"{name}.json").write_text(json.dumps(value))
    (tmp_path / "rigfit-capture.json").write_text("{}")
    profile = probe_machine(CaptureSource(tmp_path), torch_check=False)
    assert profile.permissions.device_gids == {"/dev/kfd": 109}  # a group name is not a gid: unknown, not guessed
