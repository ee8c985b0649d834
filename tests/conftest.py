"""Shared test helpers: where the real fixtures live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rigfit.probe.source import CommandResult, CommandSpec, LiveSource, Read

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = REPO.parent / "shared"  # the project's shared material (seeds, real UIs, model configs), beside the clone

pytest_plugins = [
    "tests.conftest_torchenv",  # the session fixture `torch_env`: a real venv with torch 2.13.0
    "tests.conftest_forge",  # the session fixture `forge_env`: the real Forge installed by `rigfit install`
    "tests.launch_helpers",  # the fixture `home`: a private $RIGFIT_HOME
    "tests.conftest_invokeai",  # the session fixture `invokeai_env`: the real InvokeAI from its PyPI release
]


def fixture_text(relpath: str) -> str:
    """A real fixture file's text (tests/fixtures/<relpath>), as the tool printed it."""
    return (FIXTURES / relpath).read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


class DeniedSource(LiveSource):
    """The live machine as an unprivileged user sees it when everything is refused (tests run as root, where
    chmod 000 denies nothing): every file read, command and fact answers "permission denied"."""

    def read_text(self, path: str) -> Read:
        return Read(None, "permission denied")

    def _run(self, spec: CommandSpec) -> CommandResult:
        return CommandResult(spec.name, None, None, f"{spec.argv[0]}: permission denied")

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The free disk at the end, beside the test envs' sizes: a CI machine short of disk shows here first."""
    import shutil

    cache = Path(__file__).resolve().parent.parent / ".cache"
    free = shutil.disk_usage(cache if cache.exists() else Path.cwd()).free
    terminalreporter.write_line(f"free disk at the end: {free / 10**9:.1f} GB on {cache}")
