"""A pasted text as a source: one tool's output (nvidia-smi, rocminfo, lscpu, a collect_env, a UI's start-up...) or
several of them in one text, given to `--from FILE` (or `--from -`, standard input) instead of a capture.

Which tools the text holds is recognised by their signature lines (rigfit/kb/pasted_tools.yaml); the whole text is
served to the reader of each tool it matches (the readers take their own lines out of pasted text and leave the rest,
the way they read pastes in a capture slot). Everything else (files, other commands, facts) is not in the paste:
unknown, never "missing".
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from rigfit.kb.lscpu_labels import translated_lscpu_labels
from rigfit.kb.pasted_tools import PastedTool, pasted_tools
from rigfit.paths import NotRegularFile, open_regular
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.wheel_build import conda_build, wheel_build
from rigfit.probe.source import MAX_COMMAND_BYTES, CaptureError, CommandResult, CommandSpec, Read, Source, decode

# as much as a capture keeps of one command's output: the longest real pastes (a boot's kernel log, lspci -vvv of a
# server) are far less, and recognising a paste costs about 1 s of CPU per MiB at worst
MAX_PASTE_BYTES = MAX_COMMAND_BYTES
NOT_IN_PASTE = "not in the paste"
PASTE_FACTS = (
    "python",
    "torch",
    "os_name",
    "os_family",
    "environment",
)  # line facts that stand for a capture's facts/<name>.json, not a slot
_LABEL = re.compile(r"^\s*([^:\n]{2,40}?)\s*:", re.M)


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _tool_pattern(tool: PastedTool) -> re.Pattern[str]:
    """Any of the tool's signatures (their named groups, which two signatures may share, made plain groups)."""
    return re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(', s)})" for s in tool.signatures), re.M)


def _has_translated_labels(text: str) -> bool:
    """Two different translated lscpu labels ("Архитектура:", "Потоков на ядро:"): one alone may be any
    "CPU: 32 cores" line."""
    labels = translated_lscpu_labels()
    keys = {labels.get(" ".join(m[1].lower().split())) for m in _LABEL.finditer(text)}
    return len(keys - {None}) >= 2


def recognised_tools(text: str) -> list[PastedTool]:
    """The tools whose output the text holds (at least one signature line of each), in the KB's order."""
    cleaned = "\n".join(clean_lines(text))
    shell = "\n".join(clean_lines(text, keep_prompts=True))  # a line fact may be a command (`echo $VAR`)
    found = [
        tool
        for tool in pasted_tools()
        if _tool_pattern(tool).search(shell if tool.line_fact else cleaned)
        or (tool.translated_labels and _has_translated_labels(cleaned))
    ]
    covered = {name for tool in found for name in tool.covers}
    return [tool for tool in found if tool.id not in covered]


def split_by_reader(text: str, tools: list[PastedTool]) -> dict[str, str]:
    """Each reader's part of the text. Tools one reader reads (nvidia-smi and a collect_env) get the whole text, as
    a capture slot holds them; outputs of different readers one after the other (lscpu, then rocminfo) are cut
    before the next one's first signature line, at the blank line, code fence or shell prompt that separates them
    when there is one, so no reader sees another tool's lines (lspci -v's "Flags:" is not lscpu's)."""
    readers = list(dict.fromkeys(tool.reads for tool in tools))
    if len(readers) == 1:
        return {readers[0]: text}
    lines = text.splitlines(keepends=True)
    parts: dict[str, list[str]] = {reader: [] for reader in readers}
    starts = _output_starts(lines, {r: [_tool_pattern(t) for t in tools if t.reads == r] for r in readers})
    for (start, reader), (end, _) in zip(starts, [*starts[1:], (len(lines), "")], strict=True):
        parts[reader] += lines[start:end]
    return {reader: "".join(chunk) for reader, chunk in parts.items() if chunk}


def _output_starts(lines: list[str], patterns: dict[str, list[re.Pattern[str]]]) -> list[tuple[int, str]]:
    """(first line, reader) of each output in the text; the first output starts at its first line."""
    starts: list[tuple[int, str]] = []
    current, last_signature = "", -1
    for index, line in enumerate(lines):
        bare = "\n".join(clean_lines(line))
        matched = [r for r, found in patterns.items() if bare and any(p.search(bare) for p in found)]
        if not matched or current in matched:
            last_signature = index if matched else last_signature
            continue
        start = next((i for i in range(index - 1, last_signature, -1) if _separates(lines[i])), last_signature + 1)
        starts.append((start if starts else 0, matched[0]))
        current, last_signature = matched[0], index
    return starts


def _separates(line: str) -> bool:
    """A blank line, a code fence or a shell prompt: where one pasted output ends and the next begins."""
    kept = clean_lines(line)
    return not kept or not "".join(kept).strip()


def line_fact_matches(text: str, tools: list[PastedTool]) -> dict[str, re.Match[str]]:
    """Each line-fact reader's line in the text: the first one any of its entries matches, unless a later line of an
    entry whose fact a later line changes (`later_wins`: pip installing a torch over the one it found) follows."""
    patterns = [(tool, re.compile(s)) for tool in tools if tool.line_fact for s in tool.signatures]
    found: dict[str, re.Match[str]] = {}
    for line in clean_lines(text, keep_prompts=True):
        matched: set[str] = set()
        for tool, pattern in patterns:
            if tool.reads in matched or (tool.reads in found and not tool.later_wins):
                continue
            match = pattern.search(line)
            if match:
                found[tool.reads] = match
                matched.add(tool.reads)
    return found


def line_facts(text: str, tools: list[PastedTool]) -> dict[str, str]:
    """Each line-fact reader's line in the text (its signature's groups, joined by a space, when it has some)."""
    return {
        reads: " ".join(group for group in match.groups() if group) or match.string.strip()
        for reads, match in line_fact_matches(text, tools).items()
    }


def listed_torch(version: str, location: str | None = None) -> dict[str, Any]:
    """The torch fact of a listed torch (pip list / freeze, pip's install lines): its version and build, and the
    site-packages pip found it in when it says; never imported here."""
    cuda, hip = wheel_build(version)
    where = {"location": location} if location else {}
    unknown = {"build_unknown": True} if not (cuda or hip or version.partition("+")[2] == "cpu") else {}
    return {"found": True, "version": version, "cuda": cuda, "hip": hip, "listed": True} | where | unknown


def pasted_environment(lines: list[str], tools: list[PastedTool]) -> dict[str, str]:
    """The variables the paste's shell sets or shows (pasted_tools.yaml entries that read `environment`: their
    signatures' `name` and `value` groups), a later line winning as in the shell. A signature without a `value`
    group is a command that prints the value (`echo $CUDA_VISIBLE_DEVICES`): its value is the next line, read only
    when it is not empty (echo prints an empty line for a variable that is not set as well)."""
    patterns = [re.compile(s) for tool in tools if tool.reads == "environment" for s in tool.signatures]
    values: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = next((m for p in patterns if (m := p.search(line))), None)
        if match is None or not match.groupdict().get("name"):
            continue
        if "value" in match.groupdict():
            values[match["name"]] = match["value"] or ""
        elif index + 1 < len(lines) and (printed := lines[index + 1].strip()) and not _PRINTED_NOT.search(printed):
            values[match["name"]] = printed
    return values


# a line after `echo $VAR` that is no value: another command, or a shell's prompt
_PRINTED_NOT = re.compile(r"^(?:\S*[$#>]\s|\S*[$#>]$)|\s")


def conda_torch(version: str, build: str) -> dict[str, Any] | None:
    """The torch fact of conda list's pytorch row: its build from the build string (a pip-installed row, "pypi_0",
    from the version's local tag); None when neither says the build (never a guessed CPU-only one)."""
    if "+" in version:
        return listed_torch(version)
    cuda, cpu = conda_build(build)
    if cuda is None and not cpu:
        return None
    return {"found": True, "version": version, "cuda": cuda, "hip": None, "listed": True}


def readable_tools() -> str:
    """What rigfit can read from a paste, for the error that says it read nothing."""
    return "; ".join(tool.tool for tool in pasted_tools())


def is_archive(head: bytes) -> bool:
    """A gzip/bzip2/xz-compressed or plain tar (a capture archive), from its first 512 bytes."""
    return head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) or head[257:262] == b"ustar"


class PasteSource(Source):
    """A pasted text (a file, or standard input for "-"): its tools' readers see it, nothing else is known."""

    whole_files = False  # a paste may stop anywhere
    absent = NOT_IN_PASTE

    def __init__(self, path: str, stdin: BinaryIO | None = None) -> None:
        super().__init__()
        self.path = path
        self.name = "standard input" if path == "-" else f"'{path}'"
        text = self._read(stdin)
        self.tools = recognised_tools(text)
        if not self.tools:
            empty = "" if text.strip() else " (it is empty)"
            raise CaptureError(
                f"{self.name} is not a capture{empty}, and rigfit recognises no tool's output in it. "
                f"rigfit reads a pasted output of: {readable_tools()}; or a capture made with "
                "`rigfit capture -o machine.tar.gz`. Paste the tool's output as it printed it; "
                "the file itself was not changed."
            )
        outputs = [tool for tool in self.tools if not tool.line_fact]
        self.slots = split_by_reader(text, outputs) if outputs else {}
        matches = line_fact_matches(text, self.tools)
        self.facts = line_facts(text, self.tools)
        self.fields = {reads: match.groupdict() for reads, match in matches.items() if match.groupdict()}
        self.environment = pasted_environment(clean_lines(text, keep_prompts=True), self.tools)
        self.slots |= {reads: value for reads, value in self.facts.items() if reads not in PASTE_FACTS}
        shown = ", ".join(dict.fromkeys(tool.id for tool in self.tools))
        self.label = f"paste {'(standard input)' if path == '-' else path} (recognised: {shown})"
        self.warnings.append(
            f"this profile comes from a paste showing only {shown}: everything else (the facts those outputs do "
            "not show) is unknown, not missing; `rigfit capture -o machine.tar.gz` on the machine records it all"
        )

    def _read(self, stdin: BinaryIO | None) -> str:
        """The text, at most MAX_PASTE_BYTES of it (said in a warning); CaptureError for a binary file."""
        try:
            if self.path == "-":
                data = (stdin or sys.stdin.buffer).read(MAX_PASTE_BYTES + 1)
            else:
                with open_regular(Path(self.path)) as fh:
                    data = fh.read(MAX_PASTE_BYTES + 1)
        except (NotRegularFile, OSError) as exc:
            why = "not a regular file" if isinstance(exc, NotRegularFile) else (exc.strerror or str(exc))
            raise CaptureError(f"{self.name} cannot be read ({why}); pass a text file, a capture or - (stdin)") from exc
        if len(data) > MAX_PASTE_BYTES:
            data = data[:MAX_PASTE_BYTES]
            self.warnings.append(
                f"{self.name} is longer than {MAX_PASTE_BYTES // 2**20} MiB: only its first "
                f"{MAX_PASTE_BYTES // 2**20} MiB were read"
            )
        if b"\x00" in data[:8192]:
            raise CaptureError(
                f"{self.name} is not a capture nor a pasted text (it is a binary file): pass the text a tool printed "
                "(e.g. `nvidia-smi > gpu.txt`) or a capture made with `rigfit capture -o machine.tar.gz`"
            )
        return decode(data)

    def _host_path(self, path: str) -> Path:
        raise FileNotFoundError(path)  # a paste has no files but the ones its tools stand for

    def read_text(self, path: str) -> Read:
        text = self.slots.get(path)
        return Read(text) if text is not None else Read(None, NOT_IN_PASTE)

    def exists(self, path: str) -> bool:
        return path in self.slots

    def list_dir(self, path: str) -> list[str]:
        return []

    def glob(self, pattern: str) -> list[str]:
        return []

    def readlink(self, path: str) -> str | None:
        return None

    def _run(self, spec: CommandSpec) -> CommandResult:
        text = self.slots.get(spec.name)
        if text is None:
            return CommandResult(spec.name, None, None, NOT_IN_PASTE)
        return CommandResult(spec.name, text, 0)

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        """The paste's own Python (the version it printed), listed torch, the distribution a report describes and
        the HSA override its shell sets; nothing else is known."""
        value = self.facts.get(name)
        if value is None:
            return None
        if name == "os_name":
            return {"pretty_name": value}
        if name == "os_family":
            return {"system": value}
        if name == "environment":
            return self.environment or None
        fields = self.fields.get(name, {})
        if name == "torch" and fields.get("build"):
            return conda_torch(fields["version"], fields["build"])
        if name == "torch" and fields.get("version"):
            return listed_torch(fields["version"], fields.get("location"))
        return {"version": value} if name == "python" else listed_torch(value)

    def missing_fact(self, name: str) -> str:
        # a fact the paste may show in a form rigfit does not read (SD.Next's 'Torch "2.3.0..."'): not "not in it"
        return "no line of the paste that rigfit reads says it"


def is_paste(path: str) -> bool:
    """`--from` names a pasted text: "-", or a file that is not a capture archive."""
    if path == "-":
        return True
    if not os.path.isfile(path):
        return False
    try:
        with open_regular(Path(path)) as fh:
            return not is_archive(fh.read(512))
    except (NotRegularFile, OSError):
        return False
