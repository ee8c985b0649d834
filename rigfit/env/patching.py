"""Compatibility patches on an env's installed files: apply only to a known file, keep the original, revert exactly.

The patch itself is data (rigfit/kb/patches.yaml). A file whose sha256 is neither the patch's "before" nor its
"after" is someone else's (another release, a hand edit): rigfit refuses to touch it. The original bytes are kept
under rigfit's data dir, and the env record lists what was applied, so `revert` restores them byte for byte and an
install that replaced the file gets the patch again (`reapply_patches`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from rigfit.env.record import AppliedPatch, EnvRecord, load_record, now, save_record
from rigfit.kb.loader import by_id, load_entries
from rigfit.kb.patches import PatchEntry
from rigfit.paths import data_dir
from rigfit.records import record

PatchState = Literal["absent", "other-version", "original", "applied", "unknown"]


class PatchError(Exception):
    """A patch cannot be applied or reverted; the message says why and what to do."""


@record(frozen=True)
class PatchStatus:
    entry: PatchEntry
    state: PatchState
    path: Path | None  # the file in this env (None when the package is not installed)
    version: str | None  # installed version of the package


@functools.cache
def patch_entries() -> dict[str, PatchEntry]:
    return by_id(load_entries("patches.yaml", PatchEntry))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site_packages(env_dir: Path) -> Path | None:
    """The env's site-packages (DIR/lib/pythonX.Y/site-packages), or None when there is none."""
    found = sorted(env_dir.glob("lib/python3*/site-packages"))
    return found[-1] if found else None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_version(site: Path, package: str) -> str | None:
    """Version of an installed distribution, from its dist-info folder name (no import, no subprocess)."""
    wanted = _normalized(package)
    for info in site.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        if _normalized(name) == wanted:
            return version
    return None


def in_range(version: str, spec: str) -> bool:
    try:
        return Version(version) in SpecifierSet(spec)
    except InvalidVersion:
        return False


def patch_status(env_dir: Path, entry: PatchEntry) -> PatchStatus:
    site = site_packages(env_dir)
    version = installed_version(site, entry.package) if site else None
    if site is None or version is None or not (site / entry.file).is_file():
        return PatchStatus(entry, "absent", None, version)
    path = site / entry.file
    if not in_range(version, entry.versions):
        return PatchStatus(entry, "other-version", path, version)
    digest = sha256_file(path)
    state: PatchState = (
        "original" if digest == entry.sha256_before else "applied" if digest == entry.sha256_after else "unknown"
    )
    return PatchStatus(entry, state, path, version)


def backup_path(env_dir: Path, entry: PatchEntry) -> Path:
    env_key = hashlib.sha256(str(env_dir.resolve()).encode()).hexdigest()[:12]
    return data_dir() / "patch-backups" / env_key / entry.id / f"{Path(entry.file).name}.{entry.sha256_before[:12]}"


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace a file's bytes in one step, keeping its permission bits."""
    mode = path.stat().st_mode & 0o7777
    tmp = path.with_name(f".{path.name}.rigfit-{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def patched_bytes(original: bytes, entry: PatchEntry) -> bytes:
    text = original.decode("utf-8")
    for number, edit in enumerate(entry.edits, 1):
        if text.count(edit.old) != 1:
            raise PatchError(f"patch {entry.id}: edit {number} does not match the file exactly once")
        text = text.replace(edit.old, edit.new)
    return text.encode("utf-8")


def _refusal(status: PatchStatus) -> str:
    entry = status.entry
    if status.state == "absent":
        return f"{entry.package} is not installed in this env: patch {entry.id} has nothing to change"
    if status.state == "other-version":
        return (
            f"{entry.package} {status.version} is installed; patch {entry.id} is for {entry.package}{entry.versions}: "
            "left untouched"
        )
    return (
        f"{status.path} is not the file patch {entry.id} knows (its sha256 is neither the original's nor the "
        f"patched one's: another build or a hand edit): left untouched. Reinstall it with "
        f"`pip install --force-reinstall --no-deps {entry.package}==<version>` to get the original back"
    )


def apply_patch(env_dir: Path, entry: PatchEntry) -> PatchStatus:
    """Apply one patch; a no-op when it is already applied. Raises PatchError on any file it does not know."""
    record = load_record(env_dir)
    status = patch_status(env_dir, entry)
    if status.state == "applied":
        _remember(record, entry, status.path)
        return status
    if status.state != "original" or status.path is None:
        raise PatchError(_refusal(status))
    original = status.path.read_bytes()
    new = patched_bytes(original, entry)
    if hashlib.sha256(new).hexdigest() != entry.sha256_after:
        raise PatchError(f"patch {entry.id}: the result does not have the expected sha256; nothing was changed")
    backup = backup_path(env_dir, entry)
    backup.parent.mkdir(parents=True, exist_ok=True)
    if not backup.is_file() or sha256_file(backup) != entry.sha256_before:
        shutil.copy2(status.path, backup)
    _write_bytes_atomic(status.path, new)
    after = patch_status(env_dir, entry)
    if after.state != "applied":
        _write_bytes_atomic(status.path, original)
        raise PatchError(f"patch {entry.id}: {status.path} did not verify after writing; the original is back")
    _remember(record, entry, status.path)
    return after


def _remember(record: EnvRecord, entry: PatchEntry, path: Path | None) -> None:
    kept = [p for p in record.patches if p.id != entry.id]
    kept.append(
        AppliedPatch(
            id=entry.id,
            file=str(path),
            sha256_before=entry.sha256_before,
            sha256_after=entry.sha256_after,
            backup=str(backup_path(Path(record.env_dir), entry)),
            applied_at=now(),
        )
    )
    record.patches = kept
    save_record(record)


def revert_patch(env_dir: Path, entry: PatchEntry) -> PatchStatus:
    """Put the original bytes back (verified by hash) and forget the patch in the record."""
    record = load_record(env_dir)
    status = patch_status(env_dir, entry)
    if status.state == "applied" and status.path is not None:
        backup = backup_path(env_dir, entry)
        if not backup.is_file() or sha256_file(backup) != entry.sha256_before:
            raise PatchError(
                f"the original of {status.path} is missing from {backup.parent}: reinstall it with "
                f"`pip install --force-reinstall --no-deps {entry.package}=={status.version}`"
            )
        _write_bytes_atomic(status.path, backup.read_bytes())
        status = patch_status(env_dir, entry)
    elif status.state not in ("original", "absent"):
        raise PatchError(_refusal(status))
    record.patches = [p for p in record.patches if p.id != entry.id]
    save_record(record)
    return status


def reapply_patches(env_dir: Path) -> list[PatchStatus]:
    """After an install: patches the record lists whose file came back original get applied again."""
    record = load_record(env_dir)
    done = []
    for applied in record.patches:
        entry = patch_entries().get(applied.id)
        if entry is not None and patch_status(env_dir, entry).state == "original":
            done.append(apply_patch(env_dir, entry))
    return done
