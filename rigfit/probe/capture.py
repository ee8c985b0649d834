"""`rigfit capture`: record everything doctor reads into the public capture format, redacted.

A RecordingSource is the live machine plus a tape: each file, link, command and fact a probe reads is written to
the capture directory, after redaction of what identifies a person (host name, user name, serial numbers, unique
ids). Replaying that directory with `--from` gives the same profile, minus the redacted strings.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import socket
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit import __version__
from rigfit.probe.source import CommandResult, CommandSpec, LiveSource, Read

REDACTED = "REDACTED"

# (pattern, replacement): unique ids and serial numbers as real tools print them (lspci BDFs, PCI ids and version
# numbers never match these)
_ID_PATTERNS = (
    (re.compile(r"(unique_id\s+)\d+"), r"\g<1>0"),
    (re.compile(r"(Uuid:\s+)(GPU|CPU)-[0-9A-Za-z-]+"), r"\g<1>\g<2>-REDACTED"),
    (re.compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "REDACTED-UUID"),
    (re.compile(r"(?i)\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b"), "REDACTED-MAC"),
    (
        re.compile(r"(?im)^(\s*(?:(?:Board |Device )?Serial(?: Number)?)\s*[:=])(?!\s*N/A\s*$)(\s*).+$"),
        r"\g<1>\g<2>REDACTED",
    ),
    (re.compile(r"(?i)(SerialNumber:\s*)\S+"), r"\g<1>REDACTED"),
    (re.compile(r"(?i)(Capabilities: \[[0-9a-f]+\] Device Serial Number ).+"), r"\g<1>REDACTED"),
)


# the kernel command line, as the kernel log prints it ("Command line: ...", "Kernel command line: ..."): it can hold
# IP addresses, host names, NFS roots and tokens; nothing rigfit probes reads it
_CMDLINE = re.compile(r"(?im)\b((?:kernel )?command line:|command line parameters)[^\n]*")
# ... and again as init's arguments and environment, one per line below "  with arguments:" / "  with environment:"
_INIT_HEADS = ("  with arguments:", "  with environment:")
_INIT_ARG = re.compile(r"(\[[ \d.]+\]|\S[^\[\n]{0,80}?kernel:)( {4,})\S")


class Redactor:
    def __init__(self, hostname: str | None, user: str | None) -> None:
        self.words = [w for w in (hostname, user) if w and len(w) >= 2 and w not in ("root",)]
        self.applied: set[str] = set()

    def __call__(self, text: str) -> str:
        for word in self.words:
            if word in text:
                text = re.sub(rf"\b{re.escape(word)}\b", REDACTED, text)
                self.applied.add("hostname/user name")
        text, n = _CMDLINE.subn(rf"\g<1> {REDACTED}", text)
        text, m = _redact_init_args(text)
        if n or m:
            self.applied.add("kernel command line")
        for pattern, repl in _ID_PATTERNS:
            text, n = pattern.subn(repl, text)
            if n:
                self.applied.add("serial numbers and unique ids")
        return text

    def value(self, data: Any) -> Any:
        if isinstance(data, str):
            return self(data)
        if isinstance(data, dict):
            return {k: self.value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        return data


def _redact_init_args(text: str) -> tuple[str, int]:
    """Replace the kernel's echo of init's arguments and environment (taken from the command line); keep the lines."""
    if not any(head in text for head in _INIT_HEADS):
        return text, 0
    out: list[str] = []
    inside, count = False, 0
    for line in text.split("\n"):
        arg = _INIT_ARG.match(line) if inside else None
        if arg:
            out.append(f"{arg[1]}{arg[2]}{REDACTED}")
            count += 1
            continue
        inside = line.rstrip().endswith(_INIT_HEADS)
        out.append(line)
    return "\n".join(out), count


class RecordingSource(LiveSource):
    """The live machine, recording every read into `out_dir` (redacted)."""

    def __init__(self, out_dir: Path, root: str = "/") -> None:
        super().__init__(root)
        self.out = out_dir
        self.label = "this machine (capturing)"
        user = os.environ.get("USER") or os.environ.get("LOGNAME")
        self.redact = Redactor(socket.gethostname(), user)
        self.links: dict[str, str] = {}
        self.collected: dict[str, list[str]] = {"files": [], "commands": [], "facts": []}

    def _write(self, rel: str, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.redact(text), encoding="utf-8")

    def read_text(self, path: str) -> Read:
        result = super().read_text(path)
        if result.text is not None:
            self._write("files/" + path.lstrip("/"), result.text)
            self.collected["files"].append(path)
        return result

    def readlink(self, path: str) -> str | None:
        target = super().readlink(path)
        if target is not None:
            self.links[path] = target
        return target

    def _run(self, spec: CommandSpec) -> CommandResult:
        result = super()._run(spec)
        if result.output is not None:
            self._write(f"commands/{spec.name}.out", result.output)
            self._write(f"commands/{spec.name}.rc", f"{result.rc}\n")
            self.collected["commands"].append(spec.name)
        return result

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        value = super().fact(name, compute)
        if value is not None and name not in self.collected["facts"]:
            self._write(f"facts/{name}.json", json.dumps(self.redact.value(value), indent=2, sort_keys=True))
            self.collected["facts"].append(name)
        return value

    def finish(self, commands: tuple[CommandSpec, ...]) -> None:
        (self.out / "links.json").write_text(json.dumps(self.links, indent=2, sort_keys=True))
        meta = {
            "rigfit_version": __version__,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "collected": self.collected,
            "commands": {s.name: list(s.argv) for s in commands},
            "redacted": sorted(self.redact.applied) or ["nothing identifying was found"],
        }
        (self.out / "rigfit-capture.json").write_text(json.dumps(meta, indent=2))


def write_archive(directory: Path, archive: Path) -> None:
    """Write `directory` as a .tar.gz atomically (temp file, then rename)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rigfit-capture-", suffix=".tar.gz", dir=archive.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(directory, arcname="rigfit-capture")
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
