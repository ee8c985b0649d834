"""The env's lock file (DIR/rigfit-lock.json): exact versions, the protected wheels' hashes, the UI's ref and where
torch came from, so `rigfit install --locked` rebuilds the same env."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit.env.protect import installed_versions
from rigfit.env.record import EnvRecord, now
from rigfit.kb.installs import UiInstall
from rigfit.kb.typed import dump
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
        "overridden": dump(record.overridden),
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
    """Rebuild what the lock recorded: its UI commit, its wheels (same sha256) and its exact versions. What the user
    gives beside --locked (--ref, --torch-wheel) must be what the lock holds; anything else would build another env."""
    if not path.is_file():
        raise LockError(
            f"no lock file at {path}: `rigfit install {opts.ui} --env DIR` writes DIR/{LOCK_NAME} when it completes; "
            "give that file to --locked."
        )
    data = read_lock(path)
    if data["ui"] != opts.ui:
        raise LockError(f"{path} locks {data['ui']}, not {opts.ui}: `rigfit install {data['ui']} --locked {path}`.")
    locked_ref = data["ui_ref"] or ""
    if opts.ref and not locked_ref.startswith(opts.ref):
        raise LockError(
            f"--ref {opts.ref} is not the commit {path} locks ({locked_ref}): drop --ref (the lock sets it), "
            "or install without --locked."
        )
    opts.ref = opts.locked_ref = locked_ref
    opts.locked_torch_source = data["torch_source"]
    protected = data["protected"]
    if opts.torch_wheels:
        _check_given_wheels(opts.torch_wheels, protected, data["torch_source"], path)
    else:
        opts.torch_wheels = _locked_wheels(protected)
    opts.locked_versions = [*data["packages"], *(f"{p['name']}=={p['version']}" for p in protected if not p["wheel"])]
    say(f"locked: {opts.ui} at {opts.ref}, {len(opts.torch_wheels)} wheels checked by sha256 ({path})")


def _locked_wheels(protected: list[dict[str, Any]]) -> list[str]:
    wheels = []
    for package in protected:
        if not package["wheel"]:
            continue
        if wheel_sha256(package["wheel"]) != package["sha256"]:
            raise LockError(
                f"{package['wheel']} is missing or not the wheel the lock recorded (sha256 {package['sha256']}): "
                "put that wheel back, or give the same wheel from elsewhere with --torch-wheel."
            )
        wheels.append(package["wheel"])
    return wheels


def _check_given_wheels(given: list[str], protected: list[dict[str, Any]], torch_source: str, path: Path) -> None:
    """--torch-wheel beside --locked: the same wheels (by sha256), or, for a lock whose torch came from an index or
    the env, wheels of exactly the locked versions."""
    from rigfit.env.wheels import parse_wheel

    wheels = [parse_wheel(w) for w in given]
    if any(p["wheel"] for p in protected):
        same = {wheel_sha256(str(w.path)) for w in wheels} == {p["sha256"] for p in protected if p["wheel"]}
    else:
        same = {f"{w.name}=={w.version}" for w in wheels} <= {f"{p['name']}=={p['version']}" for p in protected}
    if not same:
        held = ", ".join(f"{p['name']} {p['version']}" for p in protected)
        raise LockError(
            f"the --torch-wheel files are not the torch {path} locks ({held}, from {torch_source}): give the locked "
            "wheels (or none, to use the recorded ones), or install without --locked to build a new env."
        )
