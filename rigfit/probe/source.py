"""Where probes read from: the live machine, or a capture directory (or its .tar.gz).

Every probe reads through a `Source`, never through `open()`/`subprocess` directly, so the same code runs on the
live machine, on a capture someone shared, and in tests against real outputs (the way python-distro tests against
real os-release files under a root dir). A `Source` never raises for a missing file, a missing tool, a timeout or
garbage: it returns an unknown with the reason, and the reason becomes a warning in the report.

Capture layout (the public format, see docs/capture.md):
    files/<absolute path>       every file read
    links.json                  {path: target} for every symlink read (sysfs driver links)
    commands/<name>.out / .rc   stdout+stderr and exit code of every command run
    facts/<name>.json           facts that are neither a file nor a command (environment, device access, python)
    rigfit-capture.json         rigfit version, date, what was collected, what was redacted
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_READ_BYTES = 4 * 1024 * 1024


class CaptureError(Exception):
    """A capture path that cannot be used at all (does not exist, not a capture). Usage error: exit 2."""


@dataclass(frozen=True)
class Read:
    """Result of reading a file: text, or why there is none (`missing` is normal: that fact is unknown)."""

    text: str | None
    error: str | None = None

    @property
    def missing(self) -> bool:
        return self.text is None and self.error == "missing"


@dataclass(frozen=True)
class CommandResult:
    """Output of a command (stdout and stderr together), or why there is none."""

    name: str
    output: str | None
    rc: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.output is not None and self.rc == 0


@dataclass(frozen=True)
class CommandSpec:
    name: str
    argv: tuple[str, ...]
    timeout: float = 3.0
    fallback: tuple[str, ...] | None = None  # tried when argv's tool is not installed (dmesg -> journalctl -k)


def decode(data: bytes) -> str:
    """Text from bytes that may be UTF-8, Latin-1 or binary garbage; never raises."""
    text = data.decode("utf-8", errors="replace")
    return text.replace("\x00", "")


class Source:
    """Base: a root directory for files, plus commands, links and facts. Subclasses decide where those come from."""

    label: str = "source"

    def __init__(self) -> None:
        self._commands: dict[str, CommandResult] = {}
        self._lock = threading.Lock()

    # files -----------------------------------------------------------------------------------------------
    def _host_path(self, path: str) -> Path:
        raise NotImplementedError

    def read_text(self, path: str) -> Read:
        host = self._host_path(path)
        try:
            with open(host, "rb") as fh:
                data = fh.read(MAX_READ_BYTES)
        except FileNotFoundError:
            return Read(None, "missing")
        except IsADirectoryError:
            return Read(None, "is a directory")
        except PermissionError:
            return Read(None, "permission denied")
        except OSError as exc:  # EIO on some sysfs files, ENODEV, EINVAL...
            return Read(None, f"unreadable ({exc.strerror or exc})")
        return Read(decode(data))

    def exists(self, path: str) -> bool:
        return self._host_path(path).exists() or self.readlink(path) is not None

    def list_dir(self, path: str) -> list[str]:
        """Entry names of a directory, sorted; [] when it does not exist or cannot be read."""
        try:
            return sorted(os.listdir(self._host_path(path)))
        except OSError:
            return []

    def glob(self, pattern: str) -> list[str]:
        """Absolute paths matching a pattern whose wildcards are in single components (`/sys/class/drm/card*`)."""
        parts = [p for p in pattern.split("/") if p]
        found = ["/"]
        for part in parts:
            nxt: list[str] = []
            for base in found:
                if any(ch in part for ch in "*?["):
                    nxt += [os.path.join(base, n) for n in self.list_dir(base) if fnmatch.fnmatch(n, part)]
                else:
                    cand = os.path.join(base, part)
                    if self._host_path(cand).exists() or self.readlink(cand) is not None:
                        nxt.append(cand)
            found = nxt
        return sorted(found)

    def readlink(self, path: str) -> str | None:
        raise NotImplementedError

    # commands --------------------------------------------------------------------------------------------
    def run(self, spec: CommandSpec) -> CommandResult:
        with self._lock:
            cached = self._commands.get(spec.name)
        if cached is not None:
            return cached
        result = self._run(spec)
        with self._lock:
            self._commands[spec.name] = result
        return result

    def prefetch(self, specs: Iterable[CommandSpec], deadline: float) -> None:
        """Run commands in parallel; whatever has not answered by `deadline` seconds is reported as timed out."""
        specs = list(specs)
        if not specs:
            return
        pool = ThreadPoolExecutor(max_workers=len(specs), thread_name_prefix="probe")
        futures = {pool.submit(self.run, s): s for s in specs}
        _, late = wait(futures, timeout=deadline)
        for fut in late:
            spec = futures[fut]
            with self._lock:
                self._commands.setdefault(
                    spec.name, CommandResult(spec.name, None, None, f"no answer within the {deadline:g} s deadline")
                )
        pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, spec: CommandSpec) -> CommandResult:
        raise NotImplementedError

    # facts -----------------------------------------------------------------------------------------------
    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        """A fact that is neither a file nor a command (environment, device access, python). None when unknown."""
        raise NotImplementedError

    def env(self, name: str) -> str | None:
        """An environment variable that matters to the stack (see ENV_VARS); None when unset or not captured."""
        values = self.fact("environment", lambda: {k: os.environ[k] for k in ENV_VARS if k in os.environ})
        return (values or {}).get(name)


# Environment variables doctor reads and captures (nothing else from the environment is ever recorded).
ENV_VARS = (
    "HSA_OVERRIDE_GFX_VERSION",
    "HIP_VISIBLE_DEVICES",
    "ROCR_VISIBLE_DEVICES",
    "CUDA_VISIBLE_DEVICES",
    "ROC_ENABLE_PRE_VEGA",
    "PYTORCH_HIP_ALLOC_CONF",
    "PYTORCH_CUDA_ALLOC_CONF",
    "HSA_ENABLE_SDMA",
    "CUDA_HOME",
    "ROCM_PATH",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)


class LiveSource(Source):
    """The machine rigfit runs on. Files are read from `root` (normally "/")."""

    label = "this machine"

    def __init__(self, root: str = "/") -> None:
        super().__init__()
        self.root = Path(root)
        self._facts: dict[str, Any] = {}

    def _host_path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def readlink(self, path: str) -> str | None:
        try:
            return os.readlink(self._host_path(path))
        except OSError:
            return None

    def _run(self, spec: CommandSpec) -> CommandResult:
        argv = spec.argv
        if shutil.which(argv[0]) is None:
            if spec.fallback and shutil.which(spec.fallback[0]):
                argv = spec.fallback
            else:
                return CommandResult(spec.name, None, None, f"{argv[0]} is not installed")
        try:
            proc = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=spec.timeout,
                start_new_session=True,  # a hung tool's children die with its own process group, nobody else's
                env={**os.environ, "LC_ALL": "C"},
            )
        except subprocess.TimeoutExpired:
            return CommandResult(spec.name, None, None, f"{argv[0]} did not answer within {spec.timeout:g} s")
        except OSError as exc:
            return CommandResult(spec.name, None, None, f"{argv[0]} could not run ({exc.strerror or exc})")
        return CommandResult(spec.name, decode(proc.stdout), proc.returncode)

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._facts:
            try:
                self._facts[name] = compute()
            except Exception:  # a fact is best effort: unknown, never a traceback
                self._facts[name] = None
        return self._facts[name]


class CaptureSource(Source):
    """A capture directory, or a .tar.gz of one, written by `rigfit capture` or assembled by hand."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.label = f"capture {self.path}"
        self.warnings: list[str] = []
        if not self.path.exists():
            raise CaptureError(
                f"capture '{self.path}' does not exist. Make one on the machine with "
                "`rigfit capture -o machine.tar.gz`, "
                "then pass that file to --from."
            )
        self.dir = self._unpack(self.path) if self.path.is_file() else self.path
        self._links = self._load_json("links.json")

    def _unpack(self, archive: Path) -> Path:
        target = Path(tempfile.mkdtemp(prefix="rigfit-capture-"))
        try:
            with tarfile.open(archive) as tar:
                members = [m for m in tar.getmembers() if _safe_member(m)]
                tar.extractall(target, members=members)
        except (tarfile.TarError, EOFError, OSError) as exc:
            self.warnings.append(
                f"capture archive '{archive}' is damaged ({exc}); using whatever could be read. "
                "Re-create it with `rigfit capture -o FILE.tar.gz`."
            )
        entries = [p for p in target.iterdir()]
        # an archive of a folder holds that folder: descend into it
        if len(entries) == 1 and entries[0].is_dir() and not (target / "files").exists():
            return entries[0]
        return target

    def _load_json(self, rel: str) -> dict[str, Any]:
        p = self.dir / rel
        if not p.exists():
            return {}
        try:
            data = json.loads(p.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError) as exc:
            self.warnings.append(f"{rel} in the capture is not valid JSON ({exc}); ignored")
            return {}
        return data if isinstance(data, dict) else {}

    def _host_path(self, path: str) -> Path:
        return self.dir / "files" / path.lstrip("/")

    def readlink(self, path: str) -> str | None:
        target = self._links.get(path)
        return target if isinstance(target, str) else None

    def _run(self, spec: CommandSpec) -> CommandResult:
        out = self.dir / "commands" / f"{spec.name}.out"
        rc_file = self.dir / "commands" / f"{spec.name}.rc"
        if not out.exists():
            return CommandResult(spec.name, None, None, "not in the capture")
        output = decode(out.read_bytes()[:MAX_READ_BYTES])
        rc: int | None = 0
        if rc_file.exists():
            try:
                rc = int(rc_file.read_text().strip())
            except ValueError:
                rc = None
        return CommandResult(spec.name, output, rc)

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        data = self._load_json(f"facts/{name}.json")
        return data or None


def _safe_member(member: tarfile.TarInfo) -> bool:
    name = member.name
    return (member.isfile() or member.isdir()) and not name.startswith("/") and ".." not in Path(name).parts


def open_source(capture: str | None) -> Source:
    """The live machine, or the capture given with --from."""
    return CaptureSource(capture) if capture else LiveSource()
