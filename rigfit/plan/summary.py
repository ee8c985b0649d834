"""The plan's summary inside `rigfit doctor`: STUB, replaced by the planner work (issue 3)."""

from __future__ import annotations

from rigfit.probe.profile import Finding, Profile


def doctor_summary(profile: Profile) -> tuple[list[str], list[Finding]]:
    """Lines for the report's Plan section, and findings the plan adds (group="plan")."""
    return [], []
