"""The whole doctor under bad input: hanging, failing or garbage-printing tools, damaged captures, a round trip.

Fake tools are real shell scripts put first on PATH. Tests run as root, so permission denied is exercised through a
Source that answers it (chmod would not deny root).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from rigfit.probe.cpu_text import parse_cpuinfo
from rigfit.probe.gather import COMMANDS, probe_machine
from rigfit.probe.source import CaptureSource
from tests.conftest import DeniedSource, fixture_text

RIGFIT = [sys.executable, "-m", "rigfit.cli"]
TOOLS = sorted({spec.argv[0] for spec in COMMANDS} | {"journalctl"})


def fake_tools(tmp: Path, body: str) -> dict[str, str]:
    """Every tool doctor runs, replaced by `body` (a /bin/sh script), first on PATH."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def doctor(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str, str, float]:
    start = time.monotonic()
    proc = subprocess.run([*RIGFIT, "doctor", *args], capture_output=True, text=True, env=env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def test_every_tool_hanging_still_finishes_within_10_seconds(tmp_path: Path) -> None:
    env = fake_tools(tmp_path, "exec sleep 1000")
    rc, out, err, seconds = doctor("--json", env=env)
    assert seconds < 10, seconds
    assert rc in (0, 1) and "Traceback" not in err
    data = json.loads(out)
    profile = data["profile"]
    assert profile["cpu"]["flags"], "files still answer: /proc/cpuinfo gives the flags"
    assert profile["memory"]["total_bytes"] > 0
    assert profile["os"]["kernel"]  # from /proc/version when uname hangs
    # nothing is left running: every hung tool was killed with its own process group
    leftover = subprocess.run(["pgrep", "-f", "sleep 1000"], capture_output=True, text=True).stdout.split()
    assert leftover == []


def test_tools_whose_children_hang_leave_no_process_behind(tmp_path: Path) -> None:
    """A tool (a shell script) that starts children and hangs: on timeout its whole process group is killed, not
    just the shell (subprocess.run's timeout left 9 `sleep`s running per doctor run)."""
    env = fake_tools(tmp_path, "sleep 1234.5 & sleep 1234.5 & wait")
    rc, _, err, seconds = doctor("--json", "--no-torch-check", env=env)
    assert rc in (0, 1) and "Traceback" not in err and seconds < 15
    time.sleep(0.3)
    leftover = subprocess.run(["pgrep", "-f", "sleep 1234.5"], capture_output=True, text=True).stdout.split()
    assert leftover == [], "children of timed-out tools are still running"


def test_a_tool_printing_50_mb_is_cut_fast_and_small(tmp_path: Path) -> None:
    env = fake_tools(tmp_path, "yes 'Flags: avx2 fma sse4_2 ................................' | head -c 50000000")
    measure = (
        "import resource, subprocess, sys, time; t = time.monotonic(); "
        "p = subprocess.run(sys.argv[1:], capture_output=True); "
        "print(p.returncode, time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", measure, *RIGFIT, "doctor", "--json", "--no-torch-check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    rc, seconds, max_rss_kib = proc.stdout.split()
    assert int(rc) in (0, 1), proc.stderr
    assert float(seconds) < 15 and int(max_rss_kib) < 300 * 1024, (seconds, max_rss_kib)


def test_garbage_and_failing_tools(tmp_path: Path) -> None:
    env = fake_tools(tmp_path, "head -c 3000 /bin/sh; echo 'Flags: avx2 fma'; exit 3")
    rc, out, err, _ = doctor("--json", "--no-torch-check", env=env)
    assert rc in (0, 1) and "Traceback" not in err
    cpu = json.loads(out)["profile"]["cpu"]
    from_file = parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    assert cpu["arch"] == from_file.arch  # /proc/cpuinfo, not the failed `uname -m`
    assert cpu["model"] == from_file.model and cpu["flags"] == from_file.flags  # nothing from the failed lscpu


def test_missing_tools_are_unknowns_not_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    proc = subprocess.run(
        [sys.executable, "-m", "rigfit.cli", "doctor", "--json", "--no-torch-check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["profile"]["cpu"]["flags"]


def test_permission_denied_everywhere_is_reported_why() -> None:
    profile = probe_machine(DeniedSource(), torch_check=False)
    assert profile.cpu.avx is None and profile.memory.total_bytes is None and profile.os.distro_id is None
    joined = "\n".join(profile.warnings)
    assert "permission denied" in joined and "RAM size unknown" in joined and "distribution unknown" in joined


def test_binary_and_truncated_files_in_a_capture(tmp_path: Path) -> None:
    files = tmp_path / "files" / "proc"
    files.mkdir(parents=True)
    cpuinfo = fixture_text("real/cpuinfo/celeron-1037u-ivybridge-noavx-cpuinfo.txt")
    cut = cpuinfo[: cpuinfo.index("sse4_2") + 3]  # ends inside the flags line
    (files / "cpuinfo").write_bytes(cut.encode().replace(b"Celeron", b"Cel\xe9\xff\x00ron"))
    (files / "meminfo").write_bytes(os.urandom(2000))
    profile = probe_machine(CaptureSource(tmp_path), torch_check=False)
    assert profile.cpu.sse4_1 is True and profile.cpu.avx is None  # cut before avx: unknown, not absent
    assert profile.memory.total_bytes is None
    assert any("cut short" in w for w in profile.warnings)


def test_corrupt_archive_completes_with_a_warning(tmp_path: Path) -> None:
    good = tmp_path / "good.tar.gz"
    source_dir = tmp_path / "c" / "files" / "proc"
    source_dir.mkdir(parents=True)
    (source_dir / "cpuinfo").write_text(fixture_text("real/cpuinfo/intel-i3-7100u-kabylake-cpuinfo.txt"))
    with tarfile.open(good, "w:gz") as tar:
        tar.add(tmp_path / "c", arcname="rigfit-capture")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    rc, out, err, _ = doctor("--from", str(broken), "--json")
    assert rc in (0, 1) and "Traceback" not in err
    assert any("damaged" in w for w in json.loads(out)["profile"]["warnings"])


def test_capture_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    rc, out, err, _ = doctor("--from", str(tmp_path / "nope.tar.gz"))
    said = " ".join(err.split())  # rich wraps long lines
    assert rc == 2 and "does not exist" in said and "rigfit capture -o machine.tar.gz" in said and out == ""


def test_what_is_not_a_capture_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "empty.tar.gz").write_bytes(b"")
    (tmp_path / "garbage.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    for what in (empty, tmp_path / "empty.tar.gz", tmp_path / "garbage.tar.gz", Path("/bin/ls")):
        rc, out, err, _ = doctor("--from", str(what))
        said = " ".join(err.split())
        assert rc == 2 and out == "" and "is not a capture" in said, (what, rc, said)
        assert "rigfit capture -o machine.tar.gz" in said and "Traceback" not in err


def test_a_replayed_archive_leaves_no_temporary_folder(tmp_path: Path) -> None:
    cap = tmp_path / "c" / "files" / "proc"
    cap.mkdir(parents=True)
    (cap / "cpuinfo").write_text(fixture_text("real/cpuinfo/intel-i3-7100u-kabylake-cpuinfo.txt"))
    archive = tmp_path / "machine.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "c", arcname="rigfit-capture")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    for args in (("--json",), ()):
        rc, _, err, _ = doctor("--from", str(archive), *args, env=env)
        assert rc in (0, 1) and "Traceback" not in err
    assert list(tmp.iterdir()) == []


def test_a_capture_cannot_read_outside_itself_or_block_on_a_fifo(tmp_path: Path) -> None:
    private = tmp_path / "private.txt"
    private.write_text('PRETTY_NAME="my-secret-project-host"\nID=secretos\n')
    files = tmp_path / "cap" / "files"
    (files / "etc").mkdir(parents=True)
    (files / "proc").mkdir()
    (files / "etc" / "os-release").symlink_to(private)
    (files / "proc" / "cpuinfo").write_text(fixture_text("real/cpuinfo/intel-i3-7100u-kabylake-cpuinfo.txt"))
    os.mkfifo(files / "proc" / "meminfo")
    rc, out, err, _ = doctor("--from", str(tmp_path / "cap"), "--json", timeout=30)
    assert rc in (0, 1) and "Traceback" not in err
    assert "secret" not in out
    assert json.loads(out)["profile"]["cpu"]["flags"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_capture_round_trip_keeps_the_facts_and_drops_the_hostname(tmp_path: Path) -> None:
    archive = tmp_path / "machine.tar.gz"
    proc = subprocess.run([*RIGFIT, "capture", "-o", str(archive)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    live = json.loads(doctor("--json", "--no-torch-check")[1])["profile"]
    rc, out, _, _ = doctor("--from", str(archive), "--json")
    assert rc in (0, 1)
    replay = json.loads(out)["profile"]
    assert replay["cpu"] == live["cpu"]
    for key in ("total_bytes", "swap_total_bytes", "disk_path"):
        assert replay["memory"][key] == live["memory"][key]
    assert replay["os"] == live["os"] and replay["python"]["version"] == live["python"]["version"]
    assert replay["torch"] is not None  # facts/torch.json was written, even when no torch is installed
    hostname = socket.gethostname()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert "rigfit-capture/facts/torch.json" in names and "rigfit-capture/facts/python.json" in names
        for member in tar.getmembers():
            if member.isfile():
                text = tar.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
                assert not _has_word(text, hostname), member.name


def _has_word(text: str, word: str) -> bool:
    return bool(re.search(rf"\b{re.escape(word)}\b", text))
