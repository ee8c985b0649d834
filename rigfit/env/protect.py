"""Protected packages (torch...): their installed files' hashes, checked after every step, rolled back when changed.

The hashes come from each package's RECORD (the wheel's own list of files and sha256 digests), verified against the
files on disk right after install, so "byte-identical" means identical to the wheel.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import stat
from pathlib import Path

from rigfit.env.record import ProtectedPackage
from rigfit.paths import write_atomic
from rigfit.records import record

DEFAULT_PROTECTED = ("torch", "torchvision", "torchaudio")


class ProtectError(Exception):
    """A protected package is missing or broken right after rigfit installed it."""


@record(frozen=True)
class FileProblem:
    package: str
    path: str  # relative to site-packages
    kind: str  # "changed" | "missing"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def site_packages(env_dir: Path) -> Path:
    found = sorted(env_dir.glob("lib/python3*/site-packages"))
    if not found:
        raise ProtectError(f"{env_dir} has no lib/python3.X/site-packages: it is not a virtual environment.")
    return found[0]


def dist_infos(env_dir: Path) -> dict[str, Path]:
    """normalized name -> its .dist-info folder."""
    found = {}
    for info in site_packages(env_dir).glob("*.dist-info"):
        name = info.name[: -len(".dist-info")].rsplit("-", 1)[0]
        found[normalize(name)] = info
    return found


def installed_versions(env_dir: Path) -> dict[str, str]:
    """normalized name -> version, from the dist-info folder names (no import of anything)."""
    try:
        infos = dist_infos(env_dir)
    except ProtectError:
        return {}
    return {name: info.name[: -len(".dist-info")].rsplit("-", 1)[1] for name, info in infos.items()}


def requires_of(env_dir: Path, name: str) -> list[str]:
    """The Requires-Dist lines of an installed package (its METADATA), markers included."""
    info = dist_infos(env_dir).get(normalize(name))
    if info is None:
        return []
    text = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
    head = text.split("\n\n", 1)[0]
    return [line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("Requires-Dist:")]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256=" + base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def record_hashes(info: Path) -> dict[str, str]:
    """path -> hash from a dist-info RECORD; files without a hash (RECORD itself, .pyc written later) are skipped."""
    text = (info / "RECORD").read_text(encoding="utf-8")
    return {row[0]: row[1] for row in csv.reader(io.StringIO(text)) if len(row) >= 2 and row[1].startswith("sha256=")}


def check_files(site: Path, package: str, files: dict[str, str]) -> list[FileProblem]:
    problems = []
    for rel, expected in files.items():
        path = site / rel
        if not path.is_file():
            problems.append(FileProblem(package, rel, "missing"))
        elif file_hash(path) != expected:
            problems.append(FileProblem(package, rel, "changed"))
    return problems


def protect(env_dir: Path, names: list[str], wheels: dict[str, str]) -> list[ProtectedPackage]:
    """Record the protected packages present in the env, after checking their files match their RECORD."""
    infos = dist_infos(env_dir)
    versions = installed_versions(env_dir)
    site = site_packages(env_dir)
    protected = []
    for name in names:
        key = normalize(name)
        if key not in infos:
            continue
        files = record_hashes(infos[key])
        problems = check_files(site, key, files)
        if problems:
            raise ProtectError(
                f"{key} {versions[key]} does not match its own RECORD right after install "
                f"({len(problems)} files differ, e.g. {problems[0].path}): reinstall it from its wheel."
            )
        protected.append(ProtectedPackage(name=key, version=versions[key], wheel=wheels.get(key), files=files))
    return protected


VERIFIED_NAME = "rigfit-verified.json"  # size, mtime and hash of each protected file when it last hashed right


def verify(env_dir: Path, protected: list[ProtectedPackage], *, trust_unchanged: bool = False) -> list[FileProblem]:
    """Every changed or missing file of every protected package (empty: all byte-identical).

    Each pass that finds nothing records every file's size and mtime beside its hash. With `trust_unchanged` (what
    `rigfit launch` does before each start), a file whose size and mtime are those recorded for its expected hash is
    not read again: an installer that replaces a file changes them, and that file is hashed. `rigfit env check` and
    every install step hash everything."""
    site = str(site_packages(env_dir))
    known = _verified(env_dir) if trust_unchanged else {}
    seen: dict[str, str] = {}
    problems: list[FileProblem] = []
    for package in protected:
        for rel, expected in package.files.items():
            path = os.path.join(site, rel)  # plain strings: pathlib costs more than the stat itself on 12k files
            try:
                info = os.stat(path)
            except OSError:
                info = None
            if info is None or not stat.S_ISREG(info.st_mode):
                problems.append(FileProblem(package.name, rel, "missing"))
                continue
            stamp = f"{info.st_size}:{info.st_mtime_ns}:{expected}"
            if known.get(rel) != stamp and file_hash(Path(path)) != expected:
                problems.append(FileProblem(package.name, rel, "changed"))
            seen[rel] = stamp
    if not problems and seen != known:
        write_atomic(env_dir / VERIFIED_NAME, json.dumps(seen))
    return problems


def _verified(env_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((env_dir / VERIFIED_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def requirement_for(package: ProtectedPackage) -> str:
    """How a later step must name the protected package: its wheel itself when rigfit has it (a local version
    such as 2.5.1+rocm6.2 is another version to a resolver), else its exact version."""
    if package.wheel and Path(package.wheel).is_file():
        return f"{package.name} @ {Path(package.wheel).resolve().as_uri()}"
    return f"{package.name}=={package.version}"
