"""Undo what pasting does to a tool's output: code fences and inline-code backticks, HTML <details> wrappers and
entities, markdown quotes, shell prompt lines, `...` elisions, Windows line ends, the typographic quotes a blog or
word processor puts in place of "'" ("couldn‘t communicate"), and the "service-1  | " prefix docker compose puts on
each line of a container's output. Lines keep their indentation (several outputs nest by it)."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.lines import MAX_LINE, bounded_lines, unfenced

_HTML = later(r"</?(?:details|summary|pre|code|br)\b[^>]*>", re.I)
# "$ rocminfo", "# rocm-smi", "user@host:~$ lspci -nnk", "(venv) user@host:~/sd$ nvidia-smi", "PS C:\> nvidia-smi"
_PROMPT = later(r"^\s*(?:\([\w.-]+\)\s*)?(?:[\w.-]+@[\w.-]+(?::\S*)?\s*)?[$#]\s+[\w./-]")
_PS_PROMPT = later(r"^\s*PS [A-Za-z]:\\\S*>\s")
_ELISION = later(r"^\s*(?:\.\.\.|…|\[\.\.\.\]|\[…\]|\(\.\.\.\)|<snip>|\[snip\])\s*$", re.I)
_QUOTE = later(r"^> ?")
# docker compose's prefix on a container's lines: "supervisor-1  | Total VRAM 5927 MB" (Compose v2: service-N),
# "web_1     | ..." (v1: service_N); the service name ends with the replica number, then padding and "| "
_COMPOSE = later(r"^[\w.-]*[-_]\d+ +\| ?")
# a line a chat or forum post wrapped in inline code: "`04:00.0 3D controller: NVIDIA ... (rev a1)`"
_INLINE_CODE = later(r"^(\s*)`([^`]+)`\s*$")
_PASTED = later("|".join(p.pattern for p in (_PROMPT, _PS_PROMPT)) + f"|(?i:{_ELISION.pattern})")
# a number starts after a non-digit: no retry at every digit of a long digit run (quadratic)
# ‘ ’ ‛ ′ ʼ and “ ” „ ″ back to the ASCII quotes the tools print
_TYPOGRAPHIC = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201b\u2032\u02bc"} | {c: '"' for c in "\u201c\u201d\u201e\u2033"}
)
# what a web form or an HTML page makes of the characters tool outputs print (`nvidia-smi -q -x` pasted through a
# comment box arrives as "<driver_version&gt;591.74</driver_version&gt;" with "&nbsp;" for its indentation)
_ENTITIES = {"gt": ">", "lt": "<", "amp": "&", "quot": '"', "#39": "'", "apos": "'", "nbsp": " "}
_ENTITY = later(r"&(gt|lt|amp|quot|#39|apos|nbsp);", re.I)
_GTS = later(r"(?<![\d.])(\d+(?:\.\d+)?)\s*G[Tb]/s")


def clean_lines(text: str | None, *, keep_prompts: bool = False) -> list[str]:
    """The output lines of a pasted (or live) tool output, without what the paste added (with `keep_prompts`, the
    shell's prompt lines stay: the commands whose output follows, `echo $CUDA_VISIBLE_DEVICES`)."""
    if not text:
        return []
    out: list[str] = []
    for raw in bounded_lines(text):
        unquoted = _QUOTE.sub("", raw) if raw.startswith(">") else raw
        if "| " in unquoted:  # the common line has no compose prefix: no match to try
            unquoted = _COMPOSE.sub("", unquoted, count=1)
        if "&" in unquoted:  # a web form's escapes ("<gpu&gt;", "&nbsp;"): the common line has none
            unquoted = _ENTITY.sub(lambda m: _ENTITIES[m[1].lower()], unquoted)
        if "<" in unquoted:  # the common line has no tag: no substitution to pay for
            line = _HTML.sub("", unquoted).rstrip()
            if unquoted.strip() and not line.strip():  # a line that held only tags
                continue
        else:
            line = unquoted.rstrip()
        if not line.isascii():
            line = line.translate(_TYPOGRAPHIC)
        kept = unfenced(line)
        if kept is not None and "`" in kept:
            inline = _INLINE_CODE.match(kept)
            kept = inline[1] + inline[2] if inline else (None if kept.strip() == "`" else _span_edge(kept))
        if kept is not None and (keep_prompts or not _PASTED.match(kept)):
            out.append(kept)
    return out


def _span_edge(line: str) -> str:
    """The first or last line of an inline-code span that runs over several lines ("`Total VRAM 8176 MB, ..." ...
    "...attention`"): its one backtick is the paste's, not the output's."""
    if line.count("`") != 1:
        return line
    stripped = line.strip()
    return line.replace("`", "", 1) if stripped.startswith("`") or stripped.endswith("`") else line


def hex4(value: str | None) -> str | None:
    """'0x73FF' / '73ff' / '29695(0x73ff)' -> '73ff'; None when no 4-digit hex id can be read."""
    if not value:
        return None
    match = re.search(r"0x([0-9a-fA-F]{1,4})\b", value) or re.fullmatch(r"\s*([0-9a-fA-F]{4})\s*", value)
    return match[1].lower().zfill(4) if match else None


def bdf(domain: int, bus: int, device: int, function: int) -> str:
    return f"{domain:04x}:{bus:02x}:{device:02x}.{function:x}"


_BDF = later(r"(?:(?P<dom>[0-9a-fA-F]{1,8}):)?(?P<bus>[0-9a-fA-F]{1,2}):(?P<dev>[0-9a-fA-F]{1,2})\.(?P<fn>[0-7])")


def parse_bdf(text: str | None) -> str | None:
    """'00000000:2D:00.0' / '0000:03:00.0' / '03:00.0' -> '0000:03:00.0' (domain 0 when not given)."""
    match = _BDF.search(text or "")
    if not match:
        return None
    dom = int(match["dom"][-4:], 16) if match["dom"] else 0
    return bdf(dom, int(match["bus"], 16), int(match["dev"], 16), int(match["fn"], 16))


def gts(text: str | None) -> float | None:
    """PCIe speed '8GT/s', '8.0 GT/s PCIe', '2.5 GT/s', '5GT/s (downgraded)' -> GT/s; None when unknown."""
    match = _GTS.search((text or "")[:MAX_LINE])
    return float(match[1]) if match else None


def gfx_from_version(major: int, minor: int, stepping: int) -> str:
    """gfx name of a major.minor.stepping ISA version: (10, 3, 2) -> 'gfx1032', (9, 0, 10) -> 'gfx90a'."""
    return f"gfx{major}{minor:x}{stepping:x}"
