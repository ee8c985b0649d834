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

import errno
import fnmatch
import json
import os
import sys
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigfit.paths import NotRegularFile, open_regular, which
from rigfit.proc.background import Background, wait_all
from rigfit.proc.bounded import run_bounded
from rigfit.records import record

if TYPE_CHECKING:
    import tarfile

MAX_READ_BYTES = 4 * 1024 * 1024  # of one file
# of one command's output: the largest real ones (lspci -vvv of a big server, a boot's kernel log) are far less, and
# what probes look for in a kernel log is at its head (boot)
MAX_COMMAND_BYTES = 1024 * 1024
# a capture is a few MB; these bound what a hostile or broken archive can make rigfit write and decompress
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_ARCHIVE_BYTES = 128 * 1024 * 1024
MAX_MEMBERS = 20_000
WHAT_A_CAPTURE_IS = (
    "a capture is the .tar.gz written by `rigfit capture -o machine.tar.gz` (or its unpacked folder, holding files/, "
    "commands/ and rigfit-capture.json)"
)


class CaptureError(Exception):
    """A capture path that cannot be used at all (does not exist, not a capture). Usage error: exit 2."""


@record(frozen=True)
class Read:
    """Result of reading a file: text, or why there is none (`missing` is normal: that fact is unknown)."""

    text: str | None
    error: str | None = None

    @property
    def missing(self) -> bool:
        return self.text is None and self.error == "missing"


@record(frozen=True)
class CommandResult:
    """Output of a command (stdout and stderr together), or why there is none."""

    name: str
    output: str | None
    rc: int | None
    error: str | None = None
    timed_out: bool = False  # it hung: a fallback tool would most likely hang too

    @property
    def ok(self) -> bool:
        return self.output is not None and self.rc == 0


@record(frozen=True)
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
    # how a fact this source does not hold is said ("not in this capture"); None where everything is asked live
    absent: str | None = None
    # files are the machine's own, read whole: not pastes that may stop anywhere (a capture assembled by hand)
    whole_files: bool = True

    def __init__(self) -> None:
        self._commands: dict[str, CommandResult] = {}
        self._lock = threading.Lock()
        self.warnings: list[str] = []  # what reading the source itself met (a damaged archive, a cut paste)

    # files -----------------------------------------------------------------------------------------------
    def _host_path(self, path: str) -> Path:
        raise NotImplementedError

    def read_text(self, path: str) -> Read:
        try:
            host = self._host_path(path)
            with open_regular(host) as fh:  # never a FIFO or a device: it could block or never end
                data = fh.read(MAX_READ_BYTES)
        except FileNotFoundError:
            return Read(None, "missing")
        except IsADirectoryError:
            return Read(None, "is a directory")
        except PermissionError:
            return Read(None, "permission denied")
        except NotRegularFile:
            return Read(None, "not a regular file (a device, FIFO or socket)")
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
        calls = [Background(f"probe-{spec.name}", self.run, spec) for spec in specs]
        for spec, done in zip(specs, wait_all(calls, deadline), strict=True):
            if done:
                continue
            with self._lock:
                self._commands.setdefault(
                    spec.name,
                    CommandResult(spec.name, None, None, f"no answer within the {deadline:g} s deadline", True),
                )

    def _run(self, spec: CommandSpec) -> CommandResult:
        raise NotImplementedError

    # facts -----------------------------------------------------------------------------------------------
    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        """A fact that is neither a file nor a command (environment, device access, python). None when unknown."""
        raise NotImplementedError

    def missing_fact(self, name: str) -> str:
        """Why a fact is unknown when `fact` gave None, for the report's "Not known"."""
        return "it could not be read"

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
        if which(argv[0]) is None:
            if spec.fallback and which(spec.fallback[0]):
                argv = spec.fallback
            else:
                return CommandResult(spec.name, None, None, f"{argv[0]} is not installed")
        try:
            # its own process group, killed when it ends, hangs or prints more than MAX_READ_BYTES (read: the head)
            run = run_bounded(
                argv,
                timeout=spec.timeout,
                env={**os.environ, "LC_ALL": "C"},
                merge_stderr=True,
                max_bytes=MAX_COMMAND_BYTES,
                stop_when_cut=True,
                die_with_rigfit=False,  # a tool's own timeout ends it; the probe's threads start many
            )
        except OSError as exc:
            return CommandResult(spec.name, None, None, f"{argv[0]} could not run ({exc.strerror or exc})")
        if run.timed_out:
            return CommandResult(spec.name, None, None, f"{argv[0]} did not answer within {spec.timeout:g} s", True)
        if run.cut:
            limit = f"{MAX_COMMAND_BYTES // 2**20} MiB"
            return CommandResult(spec.name, decode(run.stdout), None, f"{argv[0]} printed more than {limit}; cut there")
        return CommandResult(spec.name, decode(run.stdout), run.returncode)

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._facts:
            try:
                self._facts[name] = compute()
            except Exception:  # a fact is best effort: unknown, never a traceback
                self._facts[name] = None
        return self._facts[name]


class OutsideCapture(OSError):
    """A capture path that leads out of the capture (a symlink to /etc/shadow, say): never read."""


class CaptureSource(Source):
    """A capture directory, or a .tar.gz of one, written by `rigfit capture` or assembled by hand.

    Every path is resolved and must stay inside the capture; only regular files are read, each up to MAX_READ_BYTES.
    An archive is unpacked (bounded per member and in total) into a temporary folder removed when the source is
    closed or garbage-collected, or at exit.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.label = f"capture {self.path}"
        self.absent = "not in this capture"
        if not self.path.exists():
            raise CaptureError(
                f"capture '{self.path}' does not exist. Make one on the machine with "
                "`rigfit capture -o machine.tar.gz`, "
                "then pass that file to --from."
            )
        if self.path.is_dir():
            self.dir = self.path.resolve()
        elif self.path.is_file():
            import tempfile  # a replayed archive only: doctor on the live machine never pays for it

            tmp = Path(tempfile.mkdtemp(prefix="rigfit-capture-"))
            import shutil

            self._cleanup = weakref.finalize(self, shutil.rmtree, tmp, True)
            try:
                self.dir = self._unpack(self.path, tmp).resolve()
            except BaseException:
                self.close()
                raise
        else:
            raise CaptureError(
                f"'{self.path}' is not a file or a folder (a device, FIFO or socket): {WHAT_A_CAPTURE_IS}"
            )
        if not any((self.dir / name).exists() for name in ("files", "commands", "facts", "rigfit-capture.json")):
            self.close()
            raise CaptureError(
                f"'{self.path}' is not a capture: it holds no files/, commands/, facts/ or rigfit-capture.json; "
                f"{WHAT_A_CAPTURE_IS}"
            )
        self._links = self._load_json("links.json")
        meta = self._load_json("rigfit-capture.json")
        self.whole_files = "collected" in meta and not meta.get("assembled")

    def close(self) -> None:
        """Remove the folder an archive was unpacked into (nothing for a capture folder)."""
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup()

    def _unpack(self, archive: Path, target: Path) -> Path:
        import tarfile

        try:
            tar = tarfile.open(archive)  # noqa: SIM115 - closed below; opening apart tells 'not an archive'
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise CaptureError(
                f"'{archive}' is not a capture: it is neither a folder nor a .tar.gz archive; {WHAT_A_CAPTURE_IS}"
            ) from exc
        try:
            with tar:
                _extract_bounded(tar, archive, target)
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            self.warnings.append(
                f"capture archive '{archive}' is damaged ({exc}); using whatever could be read. "
                "Re-create it with `rigfit capture -o FILE.tar.gz`."
            )
        entries = list(target.iterdir())
        # an archive of a folder holds that folder: descend into it
        if len(entries) == 1 and entries[0].is_dir() and not (target / "files").exists():
            return entries[0]
        return target

    def _inside(self, rel: str) -> Path:
        """`rel` under the capture folder, symlinks resolved; OutsideCapture when it leads out of it."""
        path = (self.dir / rel).resolve()
        if path != self.dir and self.dir not in path.parents:
            raise OutsideCapture(errno.EACCES, "leads outside the capture (a symlink); not read", rel)
        return path

    def _read_bytes(self, rel: str, limit: int = MAX_READ_BYTES) -> bytes | None:
        """A capture file's first `limit` bytes; None when it is missing, outside, or not a regular file."""
        try:
            with open_regular(self._inside(rel)) as fh:
                return fh.read(limit)
        except OSError:
            return None

    def _load_json(self, rel: str) -> dict[str, Any]:
        data_bytes = self._read_bytes(rel)
        if data_bytes is None:
            return {}
        try:
            data = json.loads(decode(data_bytes))
        except ValueError as exc:
            self.warnings.append(f"{rel} in the capture is not valid JSON ({exc}); ignored")
            return {}
        return data if isinstance(data, dict) else {}

    def _host_path(self, path: str) -> Path:
        return self._inside("files/" + path.lstrip("/"))

    def read_text(self, path: str) -> Read:
        try:
            self._host_path(path)
        except OutsideCapture:
            return Read(None, "leads outside the capture (a symlink); not read")
        return super().read_text(path)

    def readlink(self, path: str) -> str | None:
        target = self._links.get(path)
        return target if isinstance(target, str) else None

    def _run(self, spec: CommandSpec) -> CommandResult:
        output = self._read_bytes(f"commands/{spec.name}.out", MAX_COMMAND_BYTES)
        if output is None:
            return CommandResult(spec.name, None, None, "not in the capture")
        rc: int | None = 0
        rc_text = self._read_bytes(f"commands/{spec.name}.rc")
        if rc_text is not None:
            try:
                rc = int(decode(rc_text[:32]).strip())
            except ValueError:
                rc = None
        return CommandResult(spec.name, decode(output), rc)

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        data = self._load_json(f"facts/{name}.json")
        return data or None

    def missing_fact(self, name: str) -> str:
        return f"this capture has no facts/{name}.json (made by an older rigfit?)"


def _extract_bounded(tar: tarfile.TarFile, archive: Path, target: Path) -> None:
    """Extract regular files and folders, member by member, refusing at once any member or total too big."""
    total = 0
    for count, member in enumerate(tar, start=1):
        if count > MAX_MEMBERS:
            raise CaptureError(
                f"'{archive}' holds more than {MAX_MEMBERS} entries: it is not a capture; {WHAT_A_CAPTURE_IS}"
            )
        if not _safe_member(member):
            continue
        total += member.size
        if member.size > MAX_MEMBER_BYTES or total > MAX_ARCHIVE_BYTES:
            what = (
                f"'{member.name}' of {member.size / 2**20:.0f} MiB "
                f"(a capture file is at most {MAX_MEMBER_BYTES // 2**20} MiB)"
                if member.size > MAX_MEMBER_BYTES
                else f"more than {MAX_ARCHIVE_BYTES // 2**20} MiB in all"
            )
            raise CaptureError(f"'{archive}' holds {what}: it is not a capture, nothing was read; {WHAT_A_CAPTURE_IS}")
        if hasattr(sys.modules["tarfile"], "data_filter"):  # Python 3.12, and 3.8.17+/3.9.17+/3.10.12+/3.11.4+
            tar.extract(member, target, filter="data")  # type: ignore[call-arg,unused-ignore]
        else:
            tar.extract(member, target)


def _safe_member(member: tarfile.TarInfo) -> bool:
    name = member.name
    return (member.isfile() or member.isdir()) and not name.startswith("/") and ".." not in Path(name).parts


def open_source(capture: str | None) -> Source:
    """The live machine, or what --from names: a capture (folder or archive), or a pasted text (a file, or "-" for
    standard input: rigfit/probe/paste_source.py)."""
    if not capture:
        return LiveSource()
    from rigfit.probe.paste_source import PasteSource, is_paste  # a paste imports its recogniser only then

    return PasteSource(capture) if is_paste(capture) else CaptureSource(capture)
