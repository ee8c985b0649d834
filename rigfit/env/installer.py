"""Run one install step with uv (first choice) or pip (fallback), dry run first, and read what it would change.

Both installers get the same inputs: requirement lines and files, a constraints file (the protected packages at their
installed versions and the knowledge base's compatibility pins) and the index settings from pip's own configuration,
which uv does not read by itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from rigfit.proc.bounded import run_bounded
from rigfit.records import field, record

InstallerKind = Literal["uv", "pip"]
STEP_TIMEOUT = 3600.0  # seconds; a step that downloads GBs on a slow line still ends


class InstallerError(Exception):
    """The installer cannot run at all (missing binary, no network); the message says what to do."""


@record(frozen=True)
class IndexConfig:
    """Where packages come from: pip's settings (`pip config list` and PIP_* variables), passed to uv explicitly."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()

    def uv_args(self) -> list[str]:
        args = ["--index-strategy", "unsafe-best-match"]  # pip's behaviour: the best version across all indexes
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args


def read_pip_config(python: str) -> IndexConfig:
    """Index settings from `python -m pip config list` (files and PIP_* variables, as pip itself sees them)."""
    try:
        proc = subprocess.run(
            [python, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return IndexConfig()
    values: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^[^.]*\.([a-z-]+)='(.*)'$", line.strip())
        if match and match.group(1) in ("index-url", "extra-index-url", "find-links"):
            for item in match.group(2).split():
                if item not in values.setdefault(match.group(1), []):
                    values[match.group(1)].append(item)
    return IndexConfig(
        index_url=next(iter(values.get("index-url", [])), None),
        extra_index_urls=tuple(values.get("extra-index-url", [])),
        find_links=tuple(values.get("find-links", [])),
    )


@record
class Change:
    """What a step does to one package: install (old None), remove (new None) or replace."""

    name: str
    old: str | None = None
    new: str | None = None


@record
class Step:
    """One install step's inputs."""

    requirements: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # requirement files (-r)
    constraints: list[str] = field(default_factory=list)
    no_deps: bool = False
    upgrade: list[str] = field(default_factory=list)  # package names to upgrade (only these, as pip does)
    reinstall: list[str] = field(default_factory=list)  # package names to reinstall (never a protected one)
    link_copy: bool = False  # copy files instead of hard-linking from uv's cache (protected packages)
    extra_index_urls: list[str] = field(default_factory=list)  # the plan's torch index


@record
class Outcome:
    ok: bool
    changes: list[Change] = field(default_factory=list)
    output: str = ""  # the installer's own words (its error when not ok)
    seconds: float = 0.0

    @property
    def nothing_to_do(self) -> bool:
        """The dry run found everything in place (uv says so in words; pip's report lists nothing to install)."""
        return not self.changes and ("Would make no changes" in self.output or "Would install" not in self.output)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class Installer:
    """uv or pip, driven the same way against one env's interpreter."""

    def __init__(self, kind: InstallerKind, python: str, index: IndexConfig, uv_bin: str | None = None) -> None:
        self.kind = kind
        self.python = python
        self.index = index
        self.uv_bin = uv_bin

    def run(self, step: Step, *, dry_run: bool, on_line: Callable[[str], None] | None = None) -> Outcome:
        with tempfile.TemporaryDirectory(prefix="rigfit-step-") as tmp:
            argv, report = self._argv(step, dry_run, Path(tmp))
            outcome = _execute(argv, on_line)
            if outcome.ok and dry_run:
                outcome.changes = (
                    _pip_report_changes(report, self.python) if self.kind == "pip" else _uv_changes(outcome.output)
                )
            elif outcome.ok:
                outcome.changes = _uv_changes(outcome.output) if self.kind == "uv" else []
        return outcome

    def _argv(self, step: Step, dry_run: bool, tmp: Path) -> tuple[list[str], Path]:
        constraints = tmp / "constraints.txt"
        constraints.write_text("".join(f"{c}\n" for c in step.constraints), encoding="utf-8")
        report = tmp / "report.json"
        argv = self._uv_argv(step, dry_run, constraints) if self.kind == "uv" else self._pip_argv(step, dry_run, report)
        argv += [arg for url in step.extra_index_urls for arg in ("--extra-index-url", url)]
        argv += ["--no-deps"] if step.no_deps else []
        files = [arg for f in step.files for arg in ("-r", str(f))]
        return [*argv, *files, *step.requirements], report

    def _uv_argv(self, step: Step, dry_run: bool, constraints: Path) -> list[str]:
        assert self.uv_bin is not None
        argv = [self.uv_bin, "pip", "install", "--python", self.python, *self.index.uv_args()]
        argv += ["-c", str(constraints), "--build-constraints", str(constraints)]
        argv += ["--dry-run"] if dry_run else []
        argv += ["--link-mode", "copy"] if step.link_copy else []
        argv += [arg for name in step.reinstall for arg in ("--reinstall-package", name)]
        return argv + [arg for name in step.upgrade for arg in ("--upgrade-package", name)]

    def _pip_argv(self, step: Step, dry_run: bool, report: Path) -> list[str]:
        argv = [
            self.python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-c",
            str(report.with_name("constraints.txt")),
        ]
        argv += ["--dry-run", "--report", str(report)] if dry_run else []
        argv += ["--force-reinstall"] if step.reinstall else []  # pip reinstalls everything named: see add
        return argv + (["--upgrade"] if step.upgrade else [])


def _execute(argv: list[str], on_line: Callable[[str], None] | None) -> Outcome:
    """Run the installer bounded (its own process group, killed on Ctrl-C, on timeout and when rigfit dies)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "UV_NO_PROGRESS": "0"}
    try:
        done = run_bounded(argv, timeout=STEP_TIMEOUT, env=env, merge_stderr=True, keep="tail", on_line=on_line)
    except OSError as exc:
        raise InstallerError(f"cannot run {argv[0]}: {exc}") from exc
    output = done.stdout.decode("utf-8", errors="replace").rstrip("\n")
    if done.timed_out:
        output += f"\nerror: the step was stopped after {STEP_TIMEOUT:.0f} s"
    return Outcome(done.returncode == 0, output=output, seconds=done.seconds)


_UV_LINE = re.compile(r"^ ([-+~]) ([A-Za-z0-9_.\-]+)(?:==| @ )(\S+)")


def _uv_changes(output: str) -> list[Change]:
    """uv's summary lines: ` - torch==2.14.1`, ` + torch==2.12.1` (a replacement prints both)."""
    changes: dict[str, Change] = {}
    for line in output.splitlines():
        match = _UV_LINE.match(line)
        if not match:
            continue
        sign, name, ver = match.groups()
        change = changes.setdefault(normalize(name), Change(normalize(name)))
        if sign == "-":
            change.old = ver
        else:
            change.new = ver
            change.old = change.old or (ver if sign == "~" else None)
    return list(changes.values())


def _pip_report_changes(report: Path, python: str) -> list[Change]:
    """pip's --report lists what it would install; a package already there at another version is a replacement."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    from rigfit.env.protect import installed_versions

    have = installed_versions(Path(python).parent.parent)
    changes = []
    for item in data.get("install", []):
        meta = item.get("metadata", {})
        name = normalize(meta.get("name", ""))
        changes.append(Change(name, have.get(name), meta.get("version")))
    return changes


NETWORK_WORDS = (
    "Failed to fetch",
    "dns error",
    "Connection refused",
    "Could not connect",
    "Network is unreachable",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "timed out",
)


def network_hint(output: str) -> str | None:
    """When the installer could not reach an index: what to do instead."""
    if not any(word in output for word in NETWORK_WORDS):
        return None
    # uv names the URL twice ("Failed to fetch: URL", "(URL)"): each once, without the punctuation around it
    urls = sorted({url.rstrip(".,;:") for url in re.findall(r"(?:https?|file)://[^\s`'\"()<>]+", output)})[:2]
    where = f" ({', '.join(urls)})" if urls else ""
    return (
        f"a package index cannot be reached{where}: check the network (or the index set in `pip config list`), "
        "or install offline: --mirror DIR / --source PATH for the UI and --torch-wheel FILE for torch, with a "
        "reachable index or find-links folder for the rest."
    )


DISK_FULL = re.compile(r"No space left on device|os error 28|\[Errno 28\]")
WRITING = re.compile(r"failed to write to file `([^`]+)`")


def disk_full_hint(output: str) -> str | None:
    """When the disk filled up mid-install: where (uv names the file it was writing) and what to do."""
    if not DISK_FULL.search(output):
        return None
    path = WRITING.search(output)
    where = f" while writing {path.group(1)}" if path else ""
    return (
        f"the disk filled up during the install{where} (No space left on device): `df -h` shows which disk; free "
        "space there (`du -sh ~/.cache/*` shows caches worth clearing, `uv cache clean` or `pip cache purge` empties "
        "the installer's), then rerun the same command: it continues where it stopped."
    )


def installer_hint(output: str) -> str | None:
    """The installer failed for a reason outside the packages: the network, or a full disk."""
    return network_hint(output) or disk_full_hint(output)


def uv_binary() -> str | None:
    """The uv shipped by the `uv` package rigfit depends on."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def choose_installer(python: str, prefer: InstallerKind | None = None) -> Installer:
    """uv when available (or asked for), else pip; the index settings read from pip's configuration."""
    index = read_pip_config(python)
    if index == IndexConfig():  # an env without pip: the user's pip settings, as rigfit's own pip reads them
        index = read_pip_config(sys.executable)
    uv_bin = uv_binary()
    if prefer == "pip" or uv_bin is None:
        if prefer == "uv":
            raise InstallerError("uv is not installed beside rigfit: `pip install uv`, or use --installer pip.")
        return Installer("pip", python, index)
    return Installer("uv", python, index, uv_bin)
