"""Shared test helpers: where the real fixtures live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

pytest_plugins = ["tests.conftest_torchenv"]  # the session fixture `torch_env`: a real venv with torch 2.13.0


def fixture_text(relpath: str) -> str:
    """A real fixture file's text (tests/fixtures/<relpath>), as the tool printed it."""
    return (FIXTURES / relpath).read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
