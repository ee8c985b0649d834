"""Where rigfit keeps its own files (and nothing else): envs, verified results, backups."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """$RIGFIT_HOME, else $XDG_DATA_HOME/rigfit, else ~/.local/share/rigfit."""
    if os.environ.get("RIGFIT_HOME"):
        return Path(os.environ["RIGFIT_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rigfit"


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that a reader never sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
