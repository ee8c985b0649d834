"""An installed torch: read torch/version.py without importing it, then import it in a subprocess."""

from __future__ import annotations

from collections.abc import Callable

from rigfit.probe.profile import Finding, Profile, TorchInfo
from rigfit.probe.source import Source


def probe_torch(
    source: Source, profile: Profile, warn: Callable[[str], None], *, import_check: bool
) -> TorchInfo | None:
    return None  # STUB


def torch_findings(profile: Profile) -> list[Finding]:
    return []
