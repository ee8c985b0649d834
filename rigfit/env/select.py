"""Which env a command works on: `--env DIR`, else the UI's default env, else the only env rigfit installed."""

from __future__ import annotations

from pathlib import Path

from rigfit.env.record import EnvRecordError, default_env_dir, list_records, record_path


def chosen_env(env: str | None, ui: str | None = None) -> Path:
    """The env DIR to use; EnvRecordError names the fix when there is none or the choice is ambiguous."""
    if env:
        return Path(env).expanduser().resolve()
    if ui:
        path = default_env_dir(ui)
        if record_path(path).is_file():
            return path
        raise EnvRecordError(f"no {ui} env installed at {path}: run `rigfit install {ui}` (or pass --env DIR)")
    records = list_records()
    if len(records) == 1:
        return Path(records[0].env_dir)
    if not records:
        raise EnvRecordError("no env installed yet: run `rigfit install forge` (or pass --env DIR)")
    names = ", ".join(r.env_dir for r in records)
    raise EnvRecordError(f"several envs are installed ({names}): say which with --env DIR")
