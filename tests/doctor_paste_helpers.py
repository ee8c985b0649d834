"""What the tests of `rigfit doctor --from FILE` share: the real pasted texts (tests/fixtures/doctor/pasted/,
SOURCES.md) and the profile doctor reads from one of them given whole, the way a user gives it."""

from __future__ import annotations

from rigfit.probe.gather import probe_machine
from rigfit.probe.paste_source import PasteSource
from rigfit.probe.profile import Profile
from rigfit.probe.source import open_source
from tests.conftest import FIXTURES

PASTED = FIXTURES / "doctor" / "pasted"


def pasted_profile(name: str) -> Profile:
    """The profile of tests/fixtures/doctor/pasted/NAME read as a paste (no torch check: a paste has none)."""
    source = open_source(str(PASTED / name))
    assert isinstance(source, PasteSource)
    return probe_machine(source, torch_check=False)
