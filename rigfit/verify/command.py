"""`rigfit verify` and `rigfit bench`: STUB, replaced by the verify/bench work (issue 5)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def verify(
    env: Annotated[Optional[str], typer.Option("--env", help="Environment directory (a venv).")] = None,  # noqa: UP045
    cpu: Annotated[str | None, typer.Option("--cpu", help="Emulate an older CPU: westmere, nehalem, core2...")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prove the environment works on this hardware: imports, device ops, precision."""
    raise typer.Exit(3)


def bench(
    env: Annotated[Optional[str], typer.Option("--env", help="Environment directory (a venv).")] = None,  # noqa: UP045
    model: Annotated[str, typer.Option("--model", help="sd15 | sdxl")] = "sd15",
    steps: Annotated[int, typer.Option("--steps", help="Steps to time.")] = 2,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Write a comparison PNG.")] = None,  # noqa: UP045
    quick: Annotated[bool, typer.Option("--quick", help="Estimate in under a minute.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure seconds per image for each candidate configuration; the fastest safe one feeds the plan."""
    raise typer.Exit(3)
