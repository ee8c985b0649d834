"""The probe source: a capture directory or archive replays files, links, commands and facts like the live machine."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from rigfit.probe.source import MAX_COMMAND_BYTES, CaptureError, CaptureSource, CommandSpec, LiveSource, decode


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
        for name, data in (("../escaped.txt", b"pwned"), ("rigfit-capture/files/proc/version", b"Linux version 6.8")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    src = CaptureSource(archive)
    assert not (tmp_path / "escaped.txt").exists()
    assert src.read_text("/proc/version").text == "Linux version 6.8"


def test_damaged_archive_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    cap = make_capture(tmp_path)
    whole = tmp_path / "whole.tar.gz"
    with tarfile.open(whole, "w:gz") as tar:
        tar.add(cap, arcname="rigfit-capture")
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) * 2 // 3])
    src = CaptureSource(archive)
    assert src.read_text("/proc/cpuinfo").missing
    assert any("damaged" in w and "rigfit capture" in w for w in src.warnings)


def _tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_what_is_not_a_capture_is_refused_naming_what_a_capture_is(tmp_path: Path) -> None:
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    empty_file = tmp_path / "empty.tar.gz"
    empty_file.write_bytes(b"")
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    unrelated = _tar_gz(tmp_path / "photos.tar.gz", {"holiday/beach.jpg": b"\xff\xd8\xff"})
    for path in (empty_dir, empty_file, garbage, unrelated, Path("/bin/ls")):
        with pytest.raises(CaptureError, match=r"not a capture.*rigfit capture -o machine.tar.gz"):
            CaptureSource(path)


def test_a_huge_member_is_refused_before_anything_is_extracted(tmp_path: Path) -> None:
    """A member whose header says 3 GiB (zeros compress to almost nothing) is refused from its header alone."""
    archive = tmp_path / "bomb.tar.gz"
    info = tarfile.TarInfo("rigfit-capture/files/proc/cpuinfo")
    info.size = 3 * 2**30
    with gzip.open(archive, "wb") as gz:
        gz.write(info.tobuf(format=tarfile.GNU_FORMAT))
        gz.write(bytes(2**20))  # the first MiB of the zeros; the rest would follow
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    start = time.monotonic()
    with pytest.raises(CaptureError, match=r"cpuinfo' of 3072 MiB.*not a capture"):
        CaptureSource(archive)
    assert time.monotonic() - start < 5


def test_unpacked_archive_is_removed_when_closed(tmp_path: Path) -> None:
    cap = make_capture(tmp_path)
    archive = tmp_path / "machine.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(cap, arcname="rigfit-capture")
    src = CaptureSource(archive)
    unpacked = src.dir
    assert unpacked.exists() and str(unpacked).startswith(tempfile.gettempdir())
    src.close()
    assert not unpacked.exists() and not unpacked.parent.exists()


def test_symlinks_leading_out_of_a_capture_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "private.txt"
    secret.write_text("PRETTY_NAME=secret-host-data\n")
    cap = make_capture(tmp_path)
    (cap / "files/etc").mkdir()
    (cap / "files/etc/os-release").symlink_to(secret)
    (cap / "files/proc").mkdir()
    (cap / "files/proc/cpuinfo").symlink_to("../../../private.txt")
    (cap / "commands/lscpu.out").symlink_to(secret)
    (cap / "files/sys/class/kfd/kfd/topology/nodes/2").symlink_to(tmp_path)
    src = CaptureSource(cap)
    for path in ("/etc/os-release", "/proc/cpuinfo"):
        read = src.read_text(path)
        assert read.text is None and "outside the capture" in (read.error or "")
    assert src.run(CommandSpec("lscpu", ("lscpu",))).output is None
    assert src.list_dir("/sys/class/kfd/kfd/topology/nodes/2") == []
    # a link that stays inside is followed
    (cap / "files/etc/lsb-release").symlink_to("os-release.orig")
    (cap / "files/etc/os-release.orig").write_text("ID=debian\n")
    assert src.read_text("/etc/lsb-release").text == "ID=debian\n"


def test_fifos_and_devices_are_not_read(tmp_path: Path) -> None:
    cap = make_capture(tmp_path)
    (cap / "files/proc").mkdir()
    os.mkfifo(cap / "files/proc/cpuinfo")
    os.mkfifo(cap / "commands/lscpu.out")
    src = CaptureSource(cap)
    read = src.read_text("/proc/cpuinfo")
    assert read.text is None and "not a regular file" in (read.error or "")
    assert src.run(CommandSpec("lscpu", ("lscpu",))).output is None
    live = LiveSource().read_text("/dev/zero")
    assert live.text is None and "not a regular file" in (live.error or "")


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


def test_a_tool_printing_without_end_is_cut_and_killed() -> None:
    src = LiveSource()
    start = time.monotonic()
    result = src.run(CommandSpec("yes", ("yes", "x" * 100), timeout=20))
    assert time.monotonic() - start < 10
    assert result.output is not None and len(result.output) == MAX_COMMAND_BYTES
    assert result.rc is None and "printed more than 1 MiB" in (result.error or "")


def test_prefetch_deadline_bounds_the_whole_run() -> None:
    src = LiveSource()
    specs = [CommandSpec(f"s{i}", ("sleep", "30"), timeout=2.5) for i in range(4)]
    start = time.monotonic()
    src.prefetch(specs, deadline=1.0)
    assert time.monotonic() - start < 3
    assert all("deadline" in (src.run(s).error or "") for s in specs)


def test_decode_never_raises_on_binary() -> None:
    assert decode(b"\xff\xfe\x00abc\x80") == "\ufffd\ufffdabc\ufffd"
