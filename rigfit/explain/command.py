"""`rigfit explain`: STUB, replaced by the explain work (issue 4)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def explain(
    log: Annotated[str, typer.Argument(help="Log file, or - for standard input.")] = "-",
    from_: Annotated[Optional[str], typer.Option("--from", help="Use a capture's machine profile.")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recognise a crash log or traceback: what happened, the cause, the exact fix, the source."""
    raise typer.Exit(3)
