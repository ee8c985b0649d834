"""What every command prints with: the consoles, JSON on stdout, and usage errors (exit 2) on stderr.

rich is imported on the first print, not at import: `--json` output and the commands that print nothing never pay
for it (a third of doctor's start-up).
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, cast

from rigfit.cli_args import Exit

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
