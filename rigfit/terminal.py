"""What every command prints with: the consoles, JSON on stdout, and usage errors (exit 2) on stderr.

rich is imported on the first print, not at import: `--json` output and the commands that print nothing never pay
for it (a third of doctor's start-up).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """A rich Console made on first use; every attribute is the real console's."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


# soft_wrap: long commands stay on one line, so they can be copied and pasted as printed
console = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
err = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))


def escape(text: str) -> str:
    """Text shown as is by rich (no [markup] in it is interpreted)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def print_json(data: dict[str, Any]) -> None:
    """JSON on stdout, unwrapped (scripts read it), whatever the terminal width."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def usage_error(message: str) -> typer.Exit:
    """Say what is wrong with the input and how to fix it; the caller raises the returned Exit (code 2)."""
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)
