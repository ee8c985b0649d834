"""The env's lock file (DIR/rigfit-lock.json): exact versions, the protected wheels' hashes, the UI's ref and where
torch came from, so `rigfit install --locked` rebuilds the same env."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

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


def read_lock(env_dir: Path) -> dict[str, object]:
    return json.loads(lock_path(env_dir).read_text(encoding="utf-8"))
