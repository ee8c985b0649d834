"""The real InvokeAI env: `rigfit install invokeai` (its pinned release from the package index, no extras) with the
torch 2.14.1 + torchvision 0.29.1 wheels as --torch-wheel, built once per checkout under .cache/invokeai-env
(tests/cached_env.py), then reused (session fixture `invokeai_env`). About 7 GB."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.cached_env import build_cached_env
from tests.conftest import REPO
from tests.conftest_forge import WHEELS, find_wheel

INVOKEAI_ENV = REPO / ".cache" / "invokeai-env"
BUILD_VERSION = "1"  # bump when what `rigfit install invokeai` puts in the env changes in a way the tests must see


def build_invokeai_env() -> float:
    wheels = [find_wheel(n, v) for n, v in WHEELS]
    argv = [sys.executable, "-m", "rigfit.cli", "install", "invokeai", "--env", str(INVOKEAI_ENV)]
    argv += [arg for wheel in wheels for arg in ("--torch-wheel", str(wheel))]
    return build_cached_env(INVOKEAI_ENV, argv, "\n".join([BUILD_VERSION, *map(str, wheels)]) + "\n")


@pytest.fixture(scope="session")
def invokeai_env() -> Path:
    """The env folder (DIR/bin/invokeai-web, DIR/ui = InvokeAI's root, DIR/rigfit-env.json); install output in
    .cache/invokeai-env.log."""
    seconds = build_invokeai_env()
    if seconds:
        sys.stderr.write(f"built the InvokeAI test env in {seconds:.0f} s ({INVOKEAI_ENV})\n")
    return INVOKEAI_ENV


if __name__ == "__main__":
    print(f"InvokeAI env ready in {build_invokeai_env():.1f} s: {INVOKEAI_ENV}")
