"""The probe source: a capture directory or archive replays files, links, commands and facts like the live machine."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest

from rigfit.probe.source import CaptureError, CaptureSource, CommandSpec, LiveSource, decode


def make_capture(root: Path) -> Path:
    cap = root / "cap"
    (cap / "files/sys/class/kfd/kfd/topology/nodes/0").mkdir(parents=True)
    (cap / "files/sys/class/kfd/kfd/topology/nodes/1").mkdir(parents=True)
    (cap / "files/sys/class/kfd/kfd/topology/nodes/1/properties").write_text("gfx_target_version 100302\n")
    (cap / "files/sys/class/kfd/kfd/topology/nodes/0/properties").write_text("gfx_target_version 0\n")
    (cap / "commands").mkdir()
    (cap / "commands/lspci.out").write_text("03:00.0 VGA compatible controller [0300]: ...\n")
    (cap / "commands/rocminfo.out").write_text("ROCk module is NOT loaded\n")
    (cap / "commands/rocminfo.rc").write_text("1\n")
    (cap / "facts").mkdir()
    (cap / "facts/environment.json").write_text(json.dumps({"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}))
    (cap / "links.json").write_text(json.dumps({"/sys/bus/pci/devices/0000:03:00.0/driver": "../../amdgpu"}))
    return cap


def test_capture_replays_files_globs_links_commands_and_env(tmp_path: Path) -> None:
    src = CaptureSource(make_capture(tmp_path))
    nodes = src.glob("/sys/class/kfd/kfd/topology/nodes/*/properties")
    assert nodes == [
        "/sys/class/kfd/kfd/topology/nodes/0/properties",
        "/sys/class/kfd/kfd/topology/nodes/1/properties",
    ]
    assert src.read_text(nodes[1]).text == "gfx_target_version 100302\n"
    assert src.read_text("/proc/cpuinfo").missing
    assert src.readlink("/sys/bus/pci/devices/0000:03:00.0/driver") == "../../amdgpu"
    lspci = src.run(CommandSpec("lspci", ("lspci", "-nnvvv")))
    assert lspci.ok and lspci.output.startswith("03:00.0")
    rocminfo = src.run(CommandSpec("rocminfo", ("rocminfo",)))
    assert rocminfo.rc == 1 and not rocminfo.ok
    nvidia = src.run(CommandSpec("nvidia-smi", ("nvidia-smi",)))
    assert nvidia.output is None and nvidia.error == "not in the capture"
    assert src.env("HSA_OVERRIDE_GFX_VERSION") == "10.3.0"
    assert src.env("CUDA_VISIBLE_DEVICES") is None


def test_capture_archive_replays_like_the_directory(tmp_path: Path) -> None:
    cap = make_capture(tmp_path)
    archive = tmp_path / "machine.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(cap, arcname="rigfit-capture")
    src = CaptureSource(archive)
    assert src.read_text("/sys/class/kfd/kfd/topology/nodes/1/properties").text == "gfx_target_version 100302\n"
    assert src.warnings == []


def test_archive_members_escaping_the_capture_are_ignored(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"pwned"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    CaptureSource(archive)
    assert not (tmp_path / "escaped.txt").exists()


def test_damaged_archive_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    src = CaptureSource(archive)
    assert src.read_text("/proc/cpuinfo").missing
    assert any("damaged" in w and "rigfit capture" in w for w in src.warnings)


def test_missing_capture_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"does not exist.*rigfit capture"):
        CaptureSource(tmp_path / "nope.tar.gz")


def test_live_commands_missing_tool_and_hang_become_unknowns(tmp_path: Path) -> None:
    src = LiveSource()
    missing = src.run(CommandSpec("x", ("rigfit-no-such-tool-xyz",)))
    assert missing.output is None and "not installed" in missing.error
    start = time.monotonic()
    hung = src.run(CommandSpec("sleep", ("sleep", "30"), timeout=0.5))
    assert time.monotonic() - start < 5
    assert hung.output is None and "did not answer" in hung.error


def test_prefetch_deadline_bounds_the_whole_run() -> None:
    src = LiveSource()
    specs = [CommandSpec(f"s{i}", ("sleep", "30"), timeout=2.5) for i in range(4)]
    start = time.monotonic()
    src.prefetch(specs, deadline=1.0)
    assert time.monotonic() - start < 3
    assert all("deadline" in (src.run(s).error or "") for s in specs)


def test_decode_never_raises_on_binary() -> None:
    assert decode(b"\xff\xfe\x00abc\x80") == "\ufffd\ufffdabc\ufffd"
