"""rigfit.kb.versions agrees with packaging (PEP 440) on versions and ranges, plain or not."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version as PackagingVersion

from rigfit.kb.versions import InvalidVersion, Version, check_range, contains

plain = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts)))
suffixed = st.tuples(plain, st.sampled_from(["a0", "rc1", ".post1", ".dev20240801", "b2"])).map("".join)
versions = st.one_of(plain, plain, suffixed)
clause = st.tuples(st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~="]), plain).map("".join)
star = plain.map(lambda v: f"=={v}.*")
ranges = st.lists(st.one_of(clause, clause, star), min_size=1, max_size=3).map(",".join)


@settings(max_examples=400, deadline=None)
@given(versions, versions)
def test_versions_order_as_packaging_orders_them(a: str, b: str) -> None:
    mine, theirs = (Version(a), Version(b)), (PackagingVersion(a), PackagingVersion(b))
    assert (mine[0] < mine[1], mine[0] == mine[1], mine[0] > mine[1]) == (
        theirs[0] < theirs[1],
        theirs[0] == theirs[1],
        theirs[0] > theirs[1],
    )
    assert (mine[0].major, mine[0].minor) == (theirs[0].major, theirs[0].minor)


@settings(max_examples=600, deadline=None)
@given(ranges, versions)
def test_ranges_hold_as_packaging_says(spec: str, value: str) -> None:
    try:
        expected = SpecifierSet(spec).contains(PackagingVersion(value), prereleases=True)
    except Exception:  # a range packaging refuses (`~=2`): ours must refuse it too
        with pytest.raises(InvalidVersion):
            check_range(spec)
        return
    check_range(spec)
    assert contains(spec, Version(value)) == expected


PLAIN_ONLY = """
import sys
from rigfit.kb.versions import Version, check_range, contains
check_range(">=2.4, <2.6")
assert contains(">=2.4,<2.6", Version("2.5.1")) and not contains(">=2.4,<2.6", Version("2.6"))
assert Version("12.1") < Version("12.10") and Version("2.1") == Version("2.1.0")
assert not any(name.startswith("packaging") for name in sys.modules), "plain versions imported packaging"
assert contains(">=2.4", Version("2.5.0a1"))  # a pre-release: packaging decides, pre-releases included
assert "packaging.version" in sys.modules
"""


def test_plain_versions_and_ranges_do_not_import_packaging() -> None:
    subprocess.run([sys.executable, "-c", PLAIN_ONLY], check=True)


@pytest.mark.parametrize("bad", ["2.x", "", "latest", "1..2"])
def test_what_is_not_a_version_is_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        Version(bad)


@pytest.mark.parametrize("bad", [">=2.4,<", "~=2", "=>2.4", "2.4"])
def test_what_is_not_a_range_is_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        check_range(bad)
