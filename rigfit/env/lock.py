"""The env's lock file (DIR/rigfit-lock.json): exact versions, the protected wheels' hashes, the UI's ref and where
torch came from, so `rigfit install --locked` rebuilds the same env."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit.env.kb_schemas import UiInstall
from rigfit.env.protect import installed_versions
from rigfit.env.record import EnvRecord, now
from rigfit.paths import write_atomic

LOCK_NAME = "rigfit-lock.json"
SCHEMA = "rigfit.lock/1"


def lock_path(env_dir: Path) -> Path:
    return env_dir / LOCK_NAME


def wheel_sha256(path: str | None) -> str | None:
    if not path or not Path(path).is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_lock(record: EnvRecord, spec: UiInstall, installer: str, pins: list[str]) -> Path:
    env_dir = Path(record.env_dir)
    protected = {p.name for p in record.protected}
    data = {
        "schema": SCHEMA,
        "written_at": now(),
        "ui": record.ui,
        "ui_ref": record.ui_ref,
        "repositories": [{"dest": r.dest, "url": r.url, "commit": r.commit} for r in spec.repositories],
        "torch_source": record.torch_source,
        "installer": installer,
        "protected": [
            {"name": p.name, "version": p.version, "wheel": p.wheel, "sha256": wheel_sha256(p.wheel)}
            for p in record.protected
        ],
        "overridden": [o.model_dump() for o in record.overridden],
        "pins": pins,
        "packages": [
            f"{name}=={version}"
            for name, version in sorted(installed_versions(env_dir).items())
            if name not in protected
        ],
    }
    path = lock_path(env_dir)
    write_atomic(path, json.dumps(data, indent=2) + "\n")
    return path


class LockError(Exception):
    """The lock file is unreadable or no longer matches what it locked; the message says what differs."""


def read_lock(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LockError(f"{path} is not a readable lock file ({exc}): give the rigfit-lock.json of an env.") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise LockError(f"{path} is not a rigfit lock file (schema {SCHEMA}): give the rigfit-lock.json of an env.")
    return data


def apply_lock(opts: Any, path: Path, say: Callable[[str], None]) -> None:
    """Rebuild what the lock recorded: its UI commit, its wheels (same sha256) and its exact versions."""
    data = read_lock(path)
    if data["ui"] != opts.ui:
        raise LockError(f"{path} locks {data['ui']}, not {opts.ui}: `rigfit install {data['ui']} --locked {path}`.")
    opts.ref = opts.ref or data["ui_ref"]
    if not opts.torch_wheels:
        for package in data["protected"]:
            if not package["wheel"]:
                continue
            if wheel_sha256(package["wheel"]) != package["sha256"]:
                raise LockError(
                    f"{package['wheel']} is missing or not the wheel the lock recorded (sha256 {package['sha256']}): "
                    "put that wheel back, or give another with --torch-wheel (the env will then differ)."
                )
            opts.torch_wheels.append(package["wheel"])
    opts.locked_versions = list(data["packages"])
    say(f"locked: {opts.ui} at {opts.ref}, {len(opts.torch_wheels)} wheels checked by sha256 ({path})")
