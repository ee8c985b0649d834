"""Lines of a tool's output or a file, each bounded in length before any parser's regex sees it.

No line a probed tool or file really prints is longer than a few kilobytes (the longest, a CPU flags line, is under
2 KB), so anything longer is garbage or a hostile capture: cutting it keeps every parser linear in its input.
"""

from __future__ import annotations

from rigfit.lazy_re import later

MAX_LINE = 4096  # characters kept of one line


def bounded_lines(text: str | None) -> list[str]:
    """The lines of `text` (any of \\n, \\r\\n, \\r ends), each cut to MAX_LINE characters."""
    if not text:
        return []
    return [line[:MAX_LINE] for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


_FENCE = later(r"^\s*(?:```|~~~)`*")
_LANGUAGE_TAG = later(r"[\w+#.-]*")


def unfenced(line: str) -> str | None:
    """A markdown code fence line is no output: None for "```" or "```bash"; but a fence a forum glued to the first
    output line ("```Architecture:   x86_64") leaves that line."""
    fence = _FENCE.match(line)
    if fence is None:
        return line
    rest = line[fence.end() :]
    return None if _LANGUAGE_TAG.fullmatch(rest.strip()) else rest
