"""Memory, disk, OS and Python probes: real /proc/meminfo and os-release files -> facts, thresholds -> findings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.probe.memory import GIB, disk_fact, memory_findings, parse_meminfo, probe_memory
from rigfit.probe.profile import MemoryInfo, OsInfo, Profile, PythonInfo
from rigfit.probe.source import CaptureSource
from rigfit.probe.system import (
    container_of,
    kernel_from_proc_version,
    parse_os_release,
    parse_uname,
    probe_system,
    python_fact,
    system_findings,
)
from tests.conftest import FIXTURES, fixture_text

KB = 1024


@pytest.mark.parametrize(
    ("name", "total", "available", "swap"),
    [
        ("16gb-no-swap-falcon-plus.txt", 16268680 * KB, 8366284 * KB, 0),
        ("openwrt-arm-128mb-no-memavailable-pasted.txt", 125128 * KB, None, 0),
        ("fedora20-first-lines-only.txt", 16124136 * KB, 10398964 * KB, None),
    ],
)
def test_meminfo_real_outputs(name: str, total: int, available: int | None, swap: int | None) -> None:
    values = parse_meminfo(fixture_text(f"real/meminfo/{name}"))
    assert values["MemTotal"] == total
    assert values.get("MemAvailable") == available
    assert values.get("SwapTotal") == swap


def test_meminfo_first_character_cut() -> None:
    text = fixture_text("real/meminfo/16gb-no-swap-falcon-plus.txt")
    assert parse_meminfo(text[1:])["MemTotal"] == 16268680 * KB


def capture(tmp: Path, files: dict[str, str], facts: dict[str, str] | None = None) -> CaptureSource:
    (tmp / "files").mkdir(exist_ok=True)
    for path, text in files.items():
        target = tmp / "files" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for name, text in (facts or {}).items():
        (tmp / "facts").mkdir(exist_ok=True)
        (tmp / "facts" / f"{name}.json").write_text(text)
    return CaptureSource(tmp)


def test_probe_memory_from_a_capture_and_old_kernel_warning(tmp_path: Path) -> None:
    source = capture(
        tmp_path,
        {"/proc/meminfo": fixture_text("real/meminfo/openwrt-arm-128mb-no-memavailable-pasted.txt")},
        {"disk": '{"path": "/home/REDACTED/.local/share/rigfit", "free_bytes": 5368709120}'},
    )
    warnings: list[str] = []
    info = probe_memory(source, warnings.append)
    assert info.total_bytes == 125128 * KB and info.available_bytes is None and info.swap_total_bytes == 0
    assert info.disk_free_bytes == 5 * GIB and info.disk_path == "/home/REDACTED/.local/share/rigfit"
    assert any("MemAvailable" in w for w in warnings)


def test_unreadable_meminfo_is_unknown_with_the_reason(tmp_path: Path) -> None:
    warnings: list[str] = []
    info = probe_memory(capture(tmp_path, {}), warnings.append)
    assert info.total_bytes is None and info.disk_free_bytes is None
    assert any("RAM size unknown: /proc/meminfo missing" in w for w in warnings)
    assert any("free disk space unknown" in w for w in warnings)


def ids(profile: Profile) -> set[str]:
    return {f.id for f in memory_findings(profile)}


def test_memory_thresholds_say_what_fits() -> None:
    tiny = Profile(memory=MemoryInfo(total_bytes=125128 * KB, swap_total_bytes=0))
    assert ids(tiny) == {"memory.below-sd15", "memory.no-swap"}
    six = Profile(memory=MemoryInfo(total_bytes=6 * GIB, swap_total_bytes=4 * GIB))
    found = {f.id: f for f in memory_findings(six)}
    assert set(found) == {"memory.below-sd15-cpu"}
    assert "6.0 GiB of RAM and 4.0 GiB of swap" in found["memory.below-sd15-cpu"].message
    sixteen_no_swap = Profile(memory=MemoryInfo(total_bytes=16268680 * KB, swap_total_bytes=0))
    found = {f.id: f for f in memory_findings(sixteen_no_swap)}
    assert set(found) == {"memory.below-sdxl", "memory.no-swap"}  # 15.5 GiB: just under SDXL's 16
    assert "swapon" in (found["memory.no-swap"].fix or "")
    big = Profile(memory=MemoryInfo(total_bytes=64 * GIB, swap_total_bytes=0, disk_free_bytes=500 * GIB))
    assert ids(big) == set()


def test_low_disk_names_the_place_and_the_fix() -> None:
    profile = Profile(memory=MemoryInfo(disk_path="/data/rigfit", disk_free_bytes=12 * GIB))
    (finding,) = memory_findings(profile)
    assert finding.id == "memory.low-disk" and "12.0 GiB free at /data/rigfit" in finding.message
    assert "RIGFIT_HOME" in (finding.fix or "")


def test_disk_fact_checks_the_nearest_existing_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "not" / "yet" / "there"))
    fact = disk_fact()
    assert fact["path"].endswith("there") and fact["checked"] == str(tmp_path) and fact["free_bytes"] > 0


@pytest.mark.parametrize(
    ("name", "distro", "version", "pretty"),
    [
        ("ubuntu-24.04.txt", "ubuntu", "24.04", "Ubuntu 24.04.3 LTS"),
        ("debian-12-bookworm-rigfit-devbox.txt", "debian", "12", "Debian GNU/Linux 12 (bookworm)"),
        ("debian-9-stretch-sid.txt", "debian", None, "Debian GNU/Linux stretch/sid"),
        ("alpine-3.23.txt", "alpine", "3.23.2", "Alpine Linux v3.23"),
    ],
)
def test_os_release_real_files(name: str, distro: str, version: str | None, pretty: str) -> None:
    fields = parse_os_release(fixture_text(f"real/os-release/{name}"))
    assert (fields.get("ID"), fields.get("VERSION_ID"), fields.get("PRETTY_NAME")) == (distro, version, pretty)


def test_uname_and_proc_version() -> None:
    assert parse_uname("Linux vm 6.18.44-fc-v657 #1 SMP PREEMPT_DYNAMIC @0 x86_64 GNU/Linux") == (
        "Linux",
        "6.18.44-fc-v657",
    )
    assert parse_uname("") == (None, None)
    wsl2 = fixture_text("real/proc-version/wsl2-5.4.72.txt")
    assert kernel_from_proc_version(wsl2) == "5.4.72-microsoft-standard-WSL2"
    assert kernel_from_proc_version(fixture_text("real/proc-version/wsl1-4.4.0-18985.txt")) == "4.4.0-18985-Microsoft"


def test_container_detection() -> None:
    assert container_of(True, False, "0::/\n") == "docker"
    assert container_of(False, True, None) == "podman"
    assert container_of(False, False, "12:pids:/kubepods/besteffort/pod1234\n") == "kubernetes"
    assert container_of(False, False, "0::/init.scope\n") is None


def test_probe_system_replays_python_fact_and_detects_wsl(tmp_path: Path) -> None:
    source = capture(
        tmp_path,
        {
            "/etc/os-release": fixture_text("real/os-release/ubuntu-24.04.txt"),
            "/proc/version": fixture_text("real/proc-version/wsl1-4.4.0-18985.txt"),
        },
        {
            "python": '{"version": "3.12.3", "executable": "/usr/bin/python3", "in_venv": false, '
            '"externally_managed": true, "glibc": "2.39"}'
        },
    )
    warnings: list[str] = []
    os_info, py = probe_system(source, warnings.append)
    assert (os_info.distro_id, os_info.distro_version, os_info.glibc) == ("ubuntu", "24.04", "2.39")
    assert os_info.kernel == "4.4.0-18985-Microsoft"  # uname not captured: from /proc/version
    assert py.wsl is True and py.externally_managed is True and py.in_venv is False and py.container is None
    found = {f.id: f for f in system_findings(Profile(python=py))}
    assert set(found) == {"python.pep668", "system.wsl"}
    assert "never uses --break-system-packages" in found["python.pep668"].message
    assert "not in a venv" in found["python.pep668"].message


def test_python_fact_of_this_interpreter() -> None:
    fact = python_fact()
    assert fact["in_venv"] is (os.path.realpath(os.sys.prefix) != os.path.realpath(os.sys.base_prefix))
    assert isinstance(fact["externally_managed"], bool) and fact["version"].count(".") == 2


def test_container_finding() -> None:
    found = system_findings(Profile(python=PythonInfo(container="docker")))
    assert [f.id for f in found] == ["system.container"] and "--device=/dev/kfd" in (found[0].fix or "")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_text_parsers_never_crash(text: str) -> None:
    values = parse_meminfo(text)
    assert all(isinstance(v, int) and v >= 0 for v in values.values())
    parse_os_release(text)
    parse_uname(text)
    kernel_from_proc_version(text)


@settings(max_examples=40, deadline=2000)
@given(st.sampled_from(["MemTotal: ", "ID=", "Linux version ", "uid=0(", "groups="]), st.text(min_size=1, max_size=3))
def test_text_parsers_stay_fast_on_long_lines(prefix: str, unit: str) -> None:
    text = prefix + unit * (60_000 // len(unit)) + " kB\n"
    parse_meminfo(text)
    parse_os_release(text)
    parse_uname(text)
    kernel_from_proc_version(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted((FIXTURES / "real" / "meminfo").iterdir())), st.integers(0, 3000))
def test_cut_meminfo_never_invents_a_size(path: Path, cut: int) -> None:
    text = path.read_text()[:cut]
    values = parse_meminfo(text)
    if "MemTotal" in values:
        assert str(values["MemTotal"] // KB) in text


def test_a_system_other_than_linux_is_said_with_what_to_do() -> None:
    found = {f.id: f for f in system_findings(Profile(os=OsInfo(system="Darwin")))}
    assert "Darwin, not Linux" in found["system.not_linux"].message
    assert "rigfit capture" in found["system.not_linux"].fix
    assert "system.not_linux" not in {f.id for f in system_findings(Profile(os=OsInfo(system="Linux")))}


def test_python_fact_reads_what_platform_reads_without_importing_it() -> None:
    import platform
    import sysconfig

    from rigfit.probe.system import python_fact

    fact = python_fact()
    stdlib = Path(sysconfig.get_path("stdlib", sysconfig.get_default_scheme()))
    assert fact["externally_managed"] == (stdlib / "EXTERNALLY-MANAGED").is_file()
    assert Path(os.__file__).parent == stdlib  # where python_fact looks
    assert fact["glibc"] == (platform.libc_ver()[1] or None)
    assert fact["version"] == platform.python_version()


def test_which_and_free_bytes_agree_with_shutil(tmp_path: Path) -> None:
    import shutil

    from rigfit.paths import which
    from rigfit.probe.memory import free_bytes

    for name in ("sh", "python3", "ls", "no-such-tool-here", "/bin/sh", str(tmp_path)):
        assert which(name) == shutil.which(name), name
    assert abs(free_bytes(tmp_path) - shutil.disk_usage(tmp_path).free) < 64 * 2**20  # others write meanwhile
