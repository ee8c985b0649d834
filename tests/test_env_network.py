"""An installer that cannot reach its index: the hint names each URL once and the offline route (real uv output)."""

from __future__ import annotations

from rigfit.env.installer import network_hint
from tests.conftest import fixture_text


def test_an_unreachable_index_is_named_once_with_the_offline_route() -> None:
    hint = network_hint(fixture_text("install/uv-0.13.9-index-unreachable-dns.txt"))
    assert hint is not None
    assert hint.startswith("a package index cannot be reached (https://download.pytorch.org/whl/cpu/torchvision/): ")
    assert "--torch-wheel FILE" in hint and "--mirror DIR" in hint


def test_a_failure_that_is_not_the_network_gets_no_network_hint() -> None:
    assert network_hint(fixture_text("install/enospc--uv-cache-on-40m-tmpfs.txt")) is None
