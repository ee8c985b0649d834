"""The state file of a running UI: what `rigfit launch` started, read by `stop`, `status` and `logs`.

One file per env under rigfit's data dir (run/), written 0600 (the command may hold the UI's password). Its JSON
form is public (schema "rigfit.run/1"): keys may be added, never renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rigfit.kb.typed import dump, load_as
from rigfit.paths import data_dir
from rigfit.records import field, record

SCHEMA = "rigfit.run/1"


@record(kw_only=True)
class RunState:
    """What `rigfit launch` started: process group, port, command, log."""

    schema_: str = field(default=SCHEMA, metadata={"key": "schema"})
    ui: str
    env_dir: str
    pid: int  # the leader; the process group has the same number
    start_ticks: int  # /proc/PID/stat field 22 of the leader, to recognise it
    port: int
    urls: list[str]  # localhost first, then LAN addresses with --listen
    command: list[str]  # argv, with any password replaced by ***
    env: dict[str, str] = field(default_factory=dict)  # variables rigfit set for it
    cwd: str
    log: str
    started_at: str
    listen: bool = False
    auth_user: str | None = None


def env_key(env_dir: Path) -> str:
    """A file name for an env: its folder name plus a short hash of its full path."""
    digest = hashlib.sha256(str(env_dir.resolve()).encode()).hexdigest()[:8]
    return f"{env_dir.name}-{digest}"


def run_dir() -> Path:
    return data_dir() / "run"


def state_path(env_dir: Path) -> Path:
    return run_dir() / f"{env_key(env_dir)}.json"


def log_path(env_dir: Path) -> Path:
    return data_dir() / "logs" / f"{env_key(env_dir)}.log"


def write_private(path: Path, text: str) -> None:
    """Write atomically a file only its owner can read (created 0600, never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def save_state(state: RunState) -> Path:
    path = state_path(Path(state.env_dir))
    write_private(path, json.dumps(dump(state), indent=2, ensure_ascii=False) + "\n")
    return path


def load_state(path: Path) -> RunState | None:
    """The state in a file, or None when it is missing or unreadable (a broken file is as good as none)."""
    try:
        return load_as(RunState, json.loads(path.read_text(encoding="utf-8")), str(path), extra="ignore")
    except (OSError, ValueError):
        return None


def all_states() -> list[tuple[Path, RunState | None]]:
    return [(path, load_state(path)) for path in sorted(run_dir().glob("*.json"))]


def remove_state(path: Path) -> None:
    path.unlink(missing_ok=True)
