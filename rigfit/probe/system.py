"""Operating system and Python: distro, kernel, venv, PEP 668, container, WSL."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit.kb.fixes import fix_text
from rigfit.lazy_re import later
from rigfit.probe.host_rules import rule_finding
from rigfit.probe.lines import bounded_lines
from rigfit.probe.profile import Finding, OsInfo, Profile, PythonInfo
from rigfit.probe.source import CommandSpec, Source

UNAME = CommandSpec("uname", ("uname", "-a"))
COMMANDS = (UNAME,)
_KERNEL = later(r"^\d+\.\d+[\w.+~-]*$")
_CONTAINER_CGROUP = (("kubepods", "kubernetes"), ("libpod", "podman"), ("docker", "docker"), ("lxc", "lxc"))


def parse_os_release(text: str) -> dict[str, str]:
    """os-release KEY=value lines (quoted or not); comments, prompts and junk lines are skipped."""
    values: dict[str, str] = {}
    for line in bounded_lines(text):
        match = re.match(r"^\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if not match:
            continue
        key, raw = match.groups()
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = raw[1:-1]
        values.setdefault(key, raw.replace('\\"', '"').replace("\\\\", "\\"))
    return values


def parse_uname(text: str) -> tuple[str | None, str | None]:
    """(system, kernel release) from `uname -a` ("Linux host 6.8.0-45-generic #45-Ubuntu SMP ...")."""
    tokens = text.split()
    if not tokens:
        return None, None
    system = tokens[0] if tokens[0].isalpha() else None
    candidates = tokens[2:3] + tokens[1:] + tokens[:1]  # uname -r alone: its one token
    kernel = next((t for t in candidates if _KERNEL.match(t)), None)
    return system, kernel


def _pretty_name(fields: dict[str, str], source: Source, error: str | None, warn: Callable[[str], None]) -> str | None:
    """os-release's PRETTY_NAME; without an os-release, the distribution a pasted report describes (else said)."""
    if fields:
        return fields.get("PRETTY_NAME") or None
    described = _described_distribution(source)
    if described is None:
        warn(f"distribution unknown: /etc/os-release {error or 'has no KEY=value lines'}")
    return described


def _described_distribution(source: Source) -> str | None:
    """Without an os-release: the distribution a pasted report describes (collect_env's "OS: Ubuntu 22.04.1 LTS
    (x86_64)", sysinfo's "os"), its PRETTY_NAME; its ID and VERSION_ID stay unknown."""
    described = source.fact("os_name", lambda: None)
    name = described.get("pretty_name") if isinstance(described, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _named_family(source: Source) -> str | None:
    """Without uname: the OS family a UI's own platform line names (ComfyUI-Manager's "** Platform: Windows", SD.Next's
    "platform=Linux"); its release stays unknown."""
    named = source.fact("os_family", lambda: None)
    family = named.get("system") if isinstance(named, dict) else None
    return family if isinstance(family, str) and family else None


def kernel_from_proc_version(text: str) -> str | None:
    match = re.search(r"Linux version (\S+)", text)
    return match.group(1) if match else None


def glibc_version() -> str | None:
    """glibc's version as the C library reports it; None under musl or where nothing says (what platform.libc_ver
    reads first, without importing platform: a tenth of doctor's imports)."""
    try:
        reported = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    name, _, version = reported.partition(" ")
    return version if name == "glibc" and version else None


def python_fact() -> dict[str, Any]:
    """The interpreter rigfit runs in: version, venv, and the PEP 668 marker of its base interpreter's stdlib."""
    stdlib = Path(os.__file__).parent  # the stdlib folder sysconfig names, without its import
    return {
        "version": ".".join(str(part) for part in sys.version_info[:3]),
        "executable": sys.executable,
        "in_venv": sys.prefix != sys.base_prefix,
        "externally_managed": (stdlib / "EXTERNALLY-MANAGED").is_file(),
        "glibc": glibc_version(),
    }


def container_of(dockerenv: bool, containerenv: bool, cgroup: str | None) -> str | None:
    """ "docker", "podman", "kubernetes", "lxc", or None when nothing says so (cgroup v2 often says nothing)."""
    if containerenv:
        return "podman"
    for marker, name in _CONTAINER_CGROUP:
        if cgroup and marker in cgroup:
            return name
    return "docker" if dockerenv else None


def probe_system(source: Source, warn: Callable[[str], None]) -> tuple[OsInfo, PythonInfo]:
    release = source.read_text("/etc/os-release")
    if release.text is None:
        release = source.read_text("/usr/lib/os-release")
    fields = parse_os_release(release.text or "")
    uname = source.run(UNAME)
    system, kernel = parse_uname(uname.output or "") if uname.ok else (None, None)
    proc_version = source.read_text("/proc/version").text or ""
    os_info = OsInfo(
        system=system or _named_family(source),
        distro_id=fields.get("ID") or None,
        distro_version=fields.get("VERSION_ID") or None,
        pretty_name=_pretty_name(fields, source, release.error, warn),
        kernel=kernel or kernel_from_proc_version(proc_version),
    )
    if os_info.kernel is None:
        warn(f"kernel version unknown: uname {uname.error or 'gave no release'}, /proc/version unreadable")

    facts = source.fact("python", python_fact)
    facts = facts if isinstance(facts, dict) else {}
    if not facts:
        warn(f"Python facts unknown ({source.missing_fact('python')})")
    os_info.glibc = facts.get("glibc") if isinstance(facts.get("glibc"), str) else None
    uname_text = uname.output or ""
    wsl: bool | None = None
    if proc_version or uname_text:
        wsl = "microsoft" in (proc_version + uname_text).lower()
    py = PythonInfo(
        version=facts.get("version"),
        executable=facts.get("executable"),
        in_venv=facts.get("in_venv"),
        externally_managed=facts.get("externally_managed"),
        container=container_of(
            source.read_text("/.dockerenv").text is not None,
            source.read_text("/run/.containerenv").text is not None,
            source.read_text("/proc/1/cgroup").text,
        ),
        wsl=wsl,
    )
    return os_info, py


def system_findings(profile: Profile) -> list[Finding]:
    p = profile.python
    found: list[Finding] = []
    if profile.os.system not in (None, "Linux"):
        found.append(
            Finding(
                id="system.not_linux",
                severity="warning",
                group="system",
                message=f"this is {profile.os.system}, not Linux: rigfit reads Linux's /proc, /sys and GPU tools, so "
                "this report is partial (what could not be read is listed under 'Not known').",
                fix=fix_text("system.not_linux"),
            )
        )
    if p.externally_managed:
        where = "rigfit itself runs in a venv" if p.in_venv else "you are not in a venv: `pip install` here is refused"
        found.append(
            rule_finding(
                "python.pep668",
                "pep668-externally-managed",
                "info",
                "python",
                f"this Python's base interpreter is EXTERNALLY-MANAGED (PEP 668); {where}. rigfit installs "
                "into its own virtual environments and never uses --break-system-packages.",
            )
        )
    if p.container:
        found.append(
            rule_finding(
                "system.container",
                "container-gpu-devices",
                "info",
                "system",
                f"rigfit runs inside a {p.container} container: it sees only the GPUs the container was "
                "started with, and the host's drivers are not visible from here.",
            )
        )
    if p.wsl:
        found.append(
            Finding(
                id="system.wsl",
                severity="info",
                message="rigfit runs under WSL: GPUs are reached through the Windows driver (/dev/dxg), not through "
                "the Linux amdgpu/nvidia drivers doctor checks on a native install.",
                fix=fix_text("system.wsl"),
                group="system",
            )
        )
    return found
