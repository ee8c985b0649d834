"""The env record: what `rigfit install` made, read by `launch`, `env check`, `add`, `patch` and `docker`.

An env is a directory holding a virtual environment (bin/python, so `--env DIR` works for verify/doctor/plan too) and
the UI's checkout in `DIR/ui`. The record is `DIR/rigfit-env.json`; its JSON form is public (schema "rigfit.env/1"):
keys may be added, never renamed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from rigfit.kb.typed import dump, load_as
from rigfit.paths import data_dir, write_atomic
from rigfit.records import field, record

RECORD_NAME = "rigfit-env.json"
SCHEMA = "rigfit.env/1"


class EnvRecordError(Exception):
    """The env is missing or its record unreadable; the message names the env and the fix."""


@record(kw_only=True)
class ProtectedPackage:
    """A package nothing may replace (torch...), with the hash of every file it installed (from its RECORD)."""

    name: str
    version: str
    wheel: str | None = None  # the wheel it came from, kept to roll back a step that changed it anyway
    files: dict[str, str] = field(default_factory=dict)  # path relative to site-packages -> "sha256=<urlsafe b64>"


@record(kw_only=True)
class OverriddenPin:
    """A UI requirement rigfit did not install as asked, and why."""

    requirement: str  # "setuptools==69.5.1"
    origin: str  # "requirements_versions.txt:1"
    installed: str  # "setuptools>=77.0.3,<82"
    reason: str


@record(kw_only=True)
class AppliedPatch:
    """A compatibility patch applied to a file of the env (rigfit/env/patching.py), with where its original is."""

    id: str  # patches.yaml id
    file: str  # absolute path of the patched file
    sha256_before: str
    sha256_after: str
    backup: str  # the original bytes
    applied_at: str


@record(kw_only=True)
class EnvRecord:
    """DIR/rigfit-env.json: what `rigfit install` made (JSON keys may be added, never renamed)."""

    schema_: str = field(default=SCHEMA, metadata={"key": "schema"})
    ui: str  # forge | a1111 | comfyui | sdnext | invokeai
    env_dir: str  # the venv root
    ui_dir: str  # the UI's checkout
    ui_ref: str | None = None  # commit or tag of the UI
    python: str  # the env's interpreter
    torch_source: str | None = None  # "index URL", "wheel /path/torch-...whl", "adopted"
    protected: list[ProtectedPackage] = field(default_factory=list)
    overridden: list[OverriddenPin] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)  # the KB's compatibility pins applied as constraints
    complete: bool = False  # False while an install runs or after one was interrupted
    launch_args: list[str] = field(default_factory=list)  # the plan's UI flags (precision, memory, "install nothing")
    launch_env: dict[str, str] = field(default_factory=dict)  # the plan's env vars (HSA_OVERRIDE_GFX_VERSION...)
    created_at: str | None = None
    last_check: str | None = None  # when `rigfit env check` last passed
    patches: list[AppliedPatch] = field(default_factory=list)  # compatibility patches applied (rigfit patch)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def envs_dir() -> Path:
    return data_dir() / "envs"


def default_env_dir(ui: str) -> Path:
    return envs_dir() / ui


def record_path(env_dir: Path) -> Path:
    return env_dir / RECORD_NAME


def load_record(env_dir: Path) -> EnvRecord:
    path = record_path(env_dir)
    if not path.is_file():
        raise EnvRecordError(
            f"'{env_dir}' is not an env rigfit installed (no {RECORD_NAME} in it): "
            f"install one with `rigfit install UI --env {env_dir}`, or list them with `rigfit env list`"
        )
    try:
        # extra keys are skipped: a record written by a newer rigfit still reads
        return load_as(EnvRecord, json.loads(path.read_text(encoding="utf-8")), str(path), extra="ignore")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise EnvRecordError(
            f"{path} is unreadable ({type(exc).__name__}): reinstall with `rigfit install UI --env {env_dir}`"
        ) from exc


def save_record(record: EnvRecord) -> None:
    write_atomic(record_path(Path(record.env_dir)), record_json(record))


def record_json(record: EnvRecord) -> str:
    """The record file's text (the layout pydantic's model_dump_json(indent=2) wrote)."""
    return json.dumps(dump(record), indent=2, ensure_ascii=False) + "\n"


def known_envs_path() -> Path:
    return data_dir() / "envs.txt"


def register_env(env_dir: Path) -> None:
    """Remember an env installed outside rigfit's envs dir (--env DIR), so `rigfit env list` shows it."""
    path = known_envs_path()
    known = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    if str(env_dir) not in known:
        write_atomic(path, "".join(f"{line}\n" for line in [*known, str(env_dir)]))


def list_records() -> list[EnvRecord]:
    """Every env under rigfit's envs dir, or registered by an install elsewhere, whose record reads back."""
    dirs = [path.parent for path in sorted(envs_dir().glob(f"*/{RECORD_NAME}"))]
    if known_envs_path().is_file():
        dirs += [Path(line) for line in known_envs_path().read_text(encoding="utf-8").splitlines() if line.strip()]
    found = []
    for env_dir in dict.fromkeys(d.resolve() for d in dirs):
        try:
            found.append(load_record(env_dir))
        except EnvRecordError:
            continue
    return found
