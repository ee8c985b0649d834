"""Device access: /dev/kfd and /dev/dri/renderD*, and the user's groups."""

from __future__ import annotations

from collections.abc import Callable

from rigfit.probe.profile import Finding, PermissionsInfo, Profile
from rigfit.probe.source import CommandSpec, Source

COMMANDS = (CommandSpec("id", ("id",)),)


def probe_permissions(source: Source, warn: Callable[[str], None]) -> PermissionsInfo:
    return PermissionsInfo()  # STUB


def permission_findings(profile: Profile) -> list[Finding]:
    return []
