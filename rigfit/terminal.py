"""What every command prints with: the consoles, JSON on stdout, and usage errors (exit 2) on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

# soft_wrap: long commands stay on one line, so they can be copied and pasted as printed
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: dict[str, Any]) -> None:
    """JSON on stdout, unwrapped (scripts read it), whatever the terminal width."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def usage_error(message: str) -> typer.Exit:
    """Say what is wrong with the input and how to fix it; the caller raises the returned Exit (code 2)."""
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)
