"""Device access: can this user open /dev/kfd (ROCm compute) and /dev/dri/renderD* (ROCm, Vulkan, VA-API)
read-write, and which groups is the user in.

"Permission denied" and "missing" are different problems with different fixes: the first is a group membership
(render/video, then a new login) or a container started without --group-add; the second is a container started
without --device /dev/kfd --device /dev/dri, or a kernel / GPU without KFD.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable

from rigfit.kb.fixes import fix_text
from rigfit.probe.gpu.rocminfo import parse_rocminfo
from rigfit.probe.gpus import ROCMINFO  # the GPU probe's command: run once, cached
from rigfit.probe.lines import bounded_lines
from rigfit.probe.profile import Access, Finding, PermissionsInfo, Profile
from rigfit.probe.source import CommandSpec, Source

ID = CommandSpec("id", ("id",))
COMMANDS = (ID,)
KFD = "/dev/kfd"


def _access(path: str) -> Access | None:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
            return "missing"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission_denied"
        return None
    os.close(fd)
    return "ok"


def _device_paths() -> list[str]:
    paths = [KFD]
    with contextlib.suppress(OSError):
        paths += sorted(f"/dev/dri/{n}" for n in os.listdir("/dev/dri") if n.startswith("renderD"))
    return paths


def device_access() -> dict[str, Access]:
    """{device path: access} for /dev/kfd and every /dev/dri/renderD* of this machine (computed live only)."""
    return {path: access for path in _device_paths() if (access := _access(path)) is not None}


def device_gids(paths: list[str] | None = None) -> dict[str, int]:
    """{device path: numeric gid of its group} for /dev/kfd and the render nodes that exist (computed live only)."""
    found: dict[str, int] = {}
    for path in _device_paths() if paths is None else paths:
        with contextlib.suppress(OSError):
            found[path] = os.stat(path).st_gid
    return found


def parse_id(text: str | None) -> tuple[str | None, int | None, list[str] | None]:
    """`id` output -> (user, uid, groups); also accepts `groups` output (names separated by spaces)."""
    for line in bounded_lines(text):
        line = line.strip()
        uid = re.search(r"uid=(\d+)(?:\(([^)]*)\))?", line)
        if uid:
            groups_part = re.search(r"groups=(\S+)", line)
            groups = re.findall(r"\d+\(([^)]+)\)", groups_part[1]) if groups_part else None
            return uid[2], int(uid[1]), groups
    words = [ln.strip() for ln in bounded_lines(text) if ln.strip() and not ln.lstrip().startswith(("#", "$"))]
    if len(words) == 1 and re.fullmatch(r"[a-z_][\w-]*(?:\s+[a-z_][\w-]*)*", words[0]):
        return None, None, words[0].split()
    return None, None, None


def probe_permissions(source: Source, warn: Callable[[str], None]) -> PermissionsInfo:
    info = PermissionsInfo()
    info.user, info.uid, info.groups = parse_id(source.run(ID).output)
    facts = source.fact("device_access", device_access) or {}
    valid: tuple[Access, ...] = ("ok", "permission_denied", "missing")
    access = {str(k): v for k, v in facts.items() if v in valid}
    info.kfd_access = access.get(KFD)
    info.render_nodes = {k: v for k, v in access.items() if k.startswith("/dev/dri/renderD")}
    gids = source.fact("device_gids", device_gids) or {}
    info.device_gids = {str(k): v for k, v in gids.items() if isinstance(v, int) and not isinstance(v, bool) and v >= 0}
    if info.kfd_access is None:  # a capture of pasted outputs: rocminfo says why it could not open /dev/kfd
        error = parse_rocminfo(source.run(ROCMINFO).output)
        rocminfo_access: dict[str, Access] = {"kfd_permission_denied": "permission_denied", "kfd_missing": "missing"}
        info.kfd_access = rocminfo_access.get(error.error or "") or (
            "ok" if error.listed_agents and error.error is None else None
        )
    if facts and len(access) < len(facts):
        warn("facts/device_access.json holds values other than ok / permission_denied / missing: those were ignored")
    return info


def permission_findings(profile: Profile) -> list[Finding]:
    perm = profile.permissions
    amd = [g for g in profile.gpus if g.vendor == "amd" and g.driver != "radeon"]
    container = profile.python.container
    found: list[Finding] = []
    missing_groups = [g for g in ("render", "video") if perm.groups is not None and g not in perm.groups]
    groups_note = f" (this user is not in: {', '.join(missing_groups)})" if missing_groups else ""
    if perm.kfd_access == "permission_denied":
        found.append(
            Finding(
                id="permissions.kfd_denied",
                severity="blocker" if amd else "warning",
                blocks="gpu" if amd else None,
                group="permissions",
                message=f"/dev/kfd exists but this user cannot open it read-write{groups_note}: ROCm sees no GPU "
                "(torch.cuda.is_available() is False, rocminfo fails).",
                fix=fix_text("permissions.gpu-groups-container" if container else "permissions.gpu-groups"),
            )
        )
    elif perm.kfd_access == "missing" and amd:
        if container:
            fix, why = (
                fix_text("permissions.kfd_missing-container"),
                "this container was started without the GPU devices",
            )
        else:
            fix = fix_text("permissions.kfd_missing")
            why = "the kernel created no KFD device (amdgpu is not loaded, or the kernel was built without KFD)"
        found.append(
            Finding(
                id="permissions.kfd_missing",
                severity="blocker",
                blocks="gpu",
                group="permissions",
                message=f"/dev/kfd does not exist: {why}. ROCm cannot use the AMD GPU.",
                fix=fix,
            )
        )
    denied = [node for node, access in perm.render_nodes.items() if access == "permission_denied"]
    if denied and perm.kfd_access != "permission_denied":
        found.append(
            Finding(
                id="permissions.render_denied",
                severity="warning",
                group="permissions",
                message=f"{', '.join(denied)} cannot be opened read-write{groups_note}: ROCm and Vulkan-based "
                "engines cannot use the GPU behind it.",
                fix=fix_text("permissions.gpu-groups-container" if container else "permissions.gpu-groups"),
            )
        )
    return found
