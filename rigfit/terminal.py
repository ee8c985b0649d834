"""What every command prints with: the consoles, JSON on stdout, and usage errors (exit 2) on stderr.

The consoles print rich's markup without importing rich (rigfit/markup.py): a report costs no more than `--json`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, cast

from rigfit.cli_args import Exit
from rigfit.markup import Printer, escape

if TYPE_CHECKING:
    from rich.console import Console


# soft_wrap: long commands stay on one line, so they can be copied and pasted as printed
console = cast("Console", Printer())
err = cast("Console", Printer(stderr=True))


def print_json(data: dict[str, Any]) -> None:
    """JSON on stdout, unwrapped (scripts read it), whatever the terminal width."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def usage_error(message: str) -> Exit:
    """Say what is wrong with the input and how to fix it; the caller raises the returned Exit (code 2)."""
    err.print(f"[bold red]error:[/] {message}")
    return Exit(2)


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; no answer (Enter, or no input at all) is no."""
    try:
        answer = input(f"{question} [y/N]: ")
    except EOFError:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


_WORDS = re.compile(r"\S*`[^`]*`\S*|\S+")  # a `command` in backticks is one word: never broken across lines


def wrap_lines(text: str, first_room: int, room: int) -> list[str]:
    """Greedy word wrap: `first_room` columns on the first line, `room` on the others; a `command` is never split."""
    lines: list[str] = []
    current = ""
    for word in _WORDS.findall(text):
        limit = room if lines else first_room
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current]


def prose(text: str, used: int, indent: int, target: Console | None = None) -> str:
    """Prose for a terminal, escaped for rich: wrapped at the terminal's width (never cropped, never inside a
    `command`) with `used` columns already taken on the first line and continuation lines indented by `indent`;
    one line when the output is piped or captured, so scripts and grep see it whole."""
    shown = target if target is not None else console
    width = shown.width
    if not shown.is_terminal or width < max(used, indent) + 30:
        return escape(text)
    lines = wrap_lines(text, width - used, width - indent)
    return ("\n" + " " * indent).join(escape(line) for line in lines)
