"""`rigfit plan`: STUB, replaced by the planner work (issue 3)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def plan(
    from_: Annotated[Optional[str], typer.Option("--from", help="Replay a capture instead of this machine.")] = None,  # noqa: UP045
    ui: Annotated[str, typer.Option("--ui", help="forge | a1111 | comfyui | sdnext | invokeai")] = "forge",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Print the reasoning as a tree.")] = False,
) -> None:
    """Decide the whole stack for this machine (torch, env vars, precision, UI flags, models), with reasons."""
    raise typer.Exit(3)
