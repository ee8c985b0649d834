"""pasted_tools.yaml: the tool outputs rigfit recognises in a pasted text, and which capture reader reads each.

`rigfit doctor --from FILE` takes one text someone pasted (nvidia-smi, rocminfo, lscpu, a collect_env, a UI's
start-up, or several of them); rigfit/probe/paste_source.py serves it to the readers of the tools it matches.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.kb.typed import FieldError
from rigfit.records import field, record

# the capture slot a tool's output is read from: commands/<name>.out, or files/<path> (/proc/cpuinfo, /etc/os-release)
# a `line_fact` tool's slot may also be one of the facts a capture computes ("python", "torch") or the distribution a
# report describes ("os_name", the PRETTY_NAME of an os-release it does not show), the OS family a UI's platform line
# names ("os_family": Python's platform.system(), "Linux", "Windows", "Darwin"), or a variable the paste's shell sets
# ("environment": HSA_OVERRIDE_GFX_VERSION, CUDA_VISIBLE_DEVICES...): the paste's own
PasteSlot = Literal[
    "nvidia-smi",
    "lspci",
    "rocminfo",
    "rocm-smi",
    "dmesg",
    "lscpu",
    "/proc/cpuinfo",
    "/etc/os-release",
    "nvcc",
    "uname",
    "uname-m",
    "hipconfig",
    "python",
    "torch",
    "os_name",
    "os_family",
    "environment",
]


@record(frozen=True, kw_only=True)
class PastedTool(KbEntry):
    """One tool (or family of outputs one reader reads) and the lines that show a text holds its output."""

    tool: str  # for people: "nvidia-smi", "torch collect_env (python -m torch.utils.collect_env)"
    reads: PasteSlot
    signatures: list[str]
    translated_labels: bool = False  # lscpu: the translated labels of lscpu_labels.yaml are signatures too
    covers: list[str] = field(default_factory=list)  # tools whose output this one holds and its reader reads
    # one line anywhere in the text says the fact (nvcc's release, a uname line, pip list's torch): its reader gets
    # that first line alone (or its signature's groups, joined by a space), and the text is not cut around it
    line_fact: bool = False
    # a line fact a later line changes (pip installing a torch over the one it found): its later line wins over an
    # earlier line of any entry with the same `reads`; the signature's named groups are the fact's fields
    later_wins: bool = False

    def _check(self) -> None:
        if not self.signatures:
            raise FieldError("signatures", "a tool needs at least one signature line")
        for pattern in self.signatures:
            try:
                re.compile(pattern, re.M)
            except re.error as exc:
                raise FieldError("signatures", f"not a regular expression: {pattern!r} ({exc})") from exc


@functools.cache
def pasted_tools() -> tuple[PastedTool, ...]:
    return load_entries("pasted_tools.yaml", PastedTool)
