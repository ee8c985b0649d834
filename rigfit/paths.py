"""Where rigfit keeps its own files (and nothing else): envs, verified results, backups."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


def data_dir() -> Path:
    """$RIGFIT_HOME, else $XDG_DATA_HOME/rigfit, else ~/.local/share/rigfit."""
    if os.environ.get("RIGFIT_HOME"):
        return Path(os.environ["RIGFIT_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rigfit"


def cache_dir() -> Path:
    """$RIGFIT_HOME/cache, else $XDG_CACHE_HOME/rigfit, else ~/.cache/rigfit: files rigfit can rebuild at any time."""
    if os.environ.get("RIGFIT_HOME"):
        return Path(os.environ["RIGFIT_HOME"]) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rigfit"


def which(command: str) -> str | None:
    """The path of an executable `command` found on PATH (or `command` itself when it holds a /), as shutil.which
    finds it, without importing shutil (and the compression modules it loads: a twentieth of `rigfit doctor`)."""
    candidates = [command] if os.sep in command else [os.path.join(d, command) for d in os.get_exec_path() if d]
    for path in candidates:
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that a reader never sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class NotRegularFile(OSError):
    """A path that is a device, FIFO or socket: reading it could block forever or never end (/dev/zero)."""


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading in binary; raise NotRegularFile for anything else, without blocking on it
    (a FIFO is opened non-blocking, so there is no wait for a writer)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, "is not a regular file (a device, FIFO or socket)", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
