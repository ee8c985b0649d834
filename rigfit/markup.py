"""rich's console markup ([bold], [cyan]...[/]) printed without importing rich.

rich is the largest import of a command that prints a report (over a third of `rigfit doctor`'s start-up) while rigfit
only uses its markup: a few styles on lines rigfit wraps itself. `Printer` prints markup strings the way a rich
Console with `highlight=False, soft_wrap=True` prints them: styles as ANSI codes on a terminal (not with NO_COLOR or
TERM=dumb), dropped elsewhere, `\\[` escapes honoured. Anything else (a rich Tree, rich's own options) goes to a real
rich Console, made then. tests/test_markup.py holds the output to rich's on rigfit's own messages.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

from rigfit.cli_args import columns

# rich.markup's tag and escape grammar: a tag starts with a lowercase letter, #, / or @; backslashes before it escape it
_TAG = re.compile(r"(\\*)\[([a-z#/@][^[]*?)]")
_ESCAPABLE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")

_CODES = {
    "bold": "1", "dim": "2", "italic": "3", "underline": "4", "reverse": "7", "strike": "9",
    "black": "30", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
    "white": "37",
}  # fmt: skip


def escape(text: str) -> str:
    """Text shown as is: no [tag] in it is read as markup (rich.markup.escape)."""
    escaped = _ESCAPABLE.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    if escaped.endswith("\\") and not escaped.endswith("\\\\"):
        return escaped + "\\"
    return escaped


def _codes(style: str) -> str:
    return ";".join(_CODES[word] for word in style.split() if word in _CODES)


def _plain(text: str) -> str:
    """Text between tags: an escaped bracket that opens no tag is a bracket (as rich prints it)."""
    return text.replace("\\[", "[")


def render(markup: str, color: bool) -> str:
    """The text of `markup` with its styles as ANSI codes (`color`) or without them."""
    out: list[str] = []
    open_styles: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        backslashes, tag = match.group(1), match.group(2)
        out.append(_plain(markup[position : match.start()]) + "\\" * (len(backslashes) // 2))
        position = match.end()
        if len(backslashes) % 2:  # an escaped tag is text
            out.append(f"[{tag}]")
            continue
        if tag.startswith("/"):
            name = tag[1:].strip()
            if open_styles:
                index = (
                    len(open_styles) - 1
                    if not name
                    else max((i for i, style in enumerate(open_styles) if style == name), default=len(open_styles) - 1)
                )
                del open_styles[index]
        else:
            open_styles.append(tag)
        if color:
            active = ";".join(code for code in map(_codes, open_styles) if code)
            out.append("\x1b[0m" + (f"\x1b[{active}m" if active else ""))
    out.append(_plain(markup[position:]))
    text = "".join(out)
    return text + "\x1b[0m" if color and open_styles else text


class Printer:
    """What rigfit asks of a console: print(markup), width, is_terminal."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._rich: Any = None

    @property
    def file(self) -> TextIO:
        return sys.stderr if self._stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        if os.environ.get("FORCE_COLOR"):
            return True
        isatty = getattr(self.file, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    @property
    def width(self) -> int:
        return columns(self.file)  # 80 where the stream is no terminal

    def _color(self) -> bool:
        return self.is_terminal and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    def print(self, *objects: Any, markup: bool = True, style: str | None = None, **rich_options: Any) -> None:
        if rich_options or not all(isinstance(o, str) for o in objects):
            self._rich_console().print(*objects, markup=markup, style=style, **rich_options)
            return
        text = " ".join(objects) if markup else escape(" ".join(objects))
        if style:
            text = f"[{style}]{text}[/]"
        self.file.write(render(text, self._color()) + "\n")
        self.file.flush()

    def _rich_console(self) -> Any:
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._rich
