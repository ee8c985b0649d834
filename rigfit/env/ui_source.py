"""Get a UI's code and the repositories its launcher would clone: from git (the default), a local folder, a .tar.gz
(`git archive` output keeps its commit), or a --mirror folder of `<repository-name>.tar.gz` archives or git repos.

Everything lands in a temporary folder beside its destination and is moved into place whole, so an interrupted
run never leaves a half-extracted UI behind.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from rigfit.kb.installs import repo_name
from rigfit.proc.bounded import run_bounded
from rigfit.records import record

GIT_TIMEOUT = 1800.0


class SourceError(Exception):
    """The UI's code cannot be had from where it was asked for; the message says where else to get it."""


def is_git_url(text: str) -> bool:
    return text.startswith(("https://", "http://", "git@", "ssh://", "git://", "file://")) or text.endswith(".git")


def resolve_source(name: str, url: str, source: str | None, mirror: Path | None) -> str:
    """Where to get repository `name`: --source, else the mirror's `<name>.tar.gz` or `<name>/`, else its URL."""
    if source:
        return source
    if mirror is not None:
        for candidate in (mirror / f"{name}.tar.gz", mirror / f"{name}.git", mirror / name):
            if candidate.exists():
                return str(candidate)
        raise SourceError(
            f"the mirror {mirror} has no {name}.tar.gz (nor a git repository {name}/): add it "
            f"(`git archive --format=tar.gz -o {mirror}/{name}.tar.gz <commit>` in a clone of {url}), "
            "or drop --mirror to clone from GitHub."
        )
    return url


def fetch(
    where: str, dest: Path, ref: str | None, say: Callable[[str], None], mirror: Path | None = None
) -> str | None:
    """Put the code from `where` at `dest` (which must not exist yet); the commit it is at, when known. A git
    repository's submodules come along at the commits its tree records (from `mirror` when given)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        path = Path(where)
        if where.endswith((".tar.gz", ".tgz")) and not is_git_url(where):
            if not path.is_file():
                raise SourceError(f"{where} does not exist: give an existing .tar.gz, folder or git URL to --source.")
            say(f"extracting {path.name}")
            commit = _extract(path, tmp / "x")
        elif path.is_dir() and not (path / ".git").exists() and not where.endswith(".git"):
            say(f"copying {path}")
            shutil.copytree(path, tmp / "x", symlinks=True)
            commit = None
        elif path.exists() or is_git_url(where):
            say(f"git clone {where}" + (f" at {ref}" if ref else ""))
            commit = _clone(where, tmp / "x", ref)
            _submodules(where, tmp / "x", mirror, say)
        else:
            raise SourceError(
                f"{where} is neither a folder, a .tar.gz nor a git URL: check the path given to --source."
            )
        _note_empty_submodules(tmp / "x", path.name, say)
        (tmp / "x").rename(dest)
        return commit
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract(archive: Path, out: Path) -> str | None:
    """Extract a `git archive` tarball (its one top folder, if any, stripped); its commit from the pax header."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            commit = tar.pax_headers.get("comment")
            members = tar.getmembers()
            tops = {m.name.split("/", 1)[0] for m in members}
            _extract_all(tar, members, out / "t")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SourceError(f"{archive} is not a readable .tar.gz ({exc}): download it again.") from exc
    root = out / "t"
    if len(tops) == 1 and (root / next(iter(tops))).is_dir():
        root = root / next(iter(tops))
    root.rename(out.with_name(out.name + ".r"))
    shutil.rmtree(out, ignore_errors=True)
    out.with_name(out.name + ".r").rename(out)
    return commit if commit and len(commit) == 40 else None


def _extract_all(tar: tarfile.TarFile, members: list[tarfile.TarInfo], dest: Path) -> None:
    """Extract with the "data" filter (no absolute paths, no escapes); Pythons older than 3.10.12 lack the filter, so
    the same refusal is made by hand there."""
    try:
        tar.extractall(dest, filter="data")
    except TypeError:
        unsafe = [m.name for m in members if _escapes(m.name) or ((m.issym() or m.islnk()) and _escapes(m.linkname))]
        if unsafe:
            raise SourceError(f"{tar.name!r}: refusing {unsafe[0]} (outside the archive's folder)") from None
        tar.extractall(dest)


def _escapes(name: str) -> bool:
    return name.startswith("/") or ".." in Path(name).parts


@record
class _GitRun:
    returncode: int | None
    stdout: str
    stderr: str


def _git(args: list[str], where: str) -> _GitRun:
    try:
        done = run_bounded(["git", *args], timeout=GIT_TIMEOUT)
    except FileNotFoundError as exc:
        raise SourceError("git is not installed: `sudo apt install git`, or give a .tar.gz to --source.") from exc
    if done.timed_out:
        raise SourceError(f"git timed out fetching {where}: check the network, or use --source/--mirror.")
    return _GitRun(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def _clone(where: str, out: Path, ref: str | None) -> str | None:
    proc = _git(["clone", "--config", "core.filemode=false", where, str(out)], where)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SourceError(
            f"cannot clone {where}: {last}. Without network, install from a local copy: "
            "--source PATH (a folder or .tar.gz) or --mirror DIR (a folder of REPOSITORY.tar.gz)."
        )
    if ref:
        proc = _git(["-C", str(out), "checkout", "-q", ref], where)
        if proc.returncode != 0:
            raise SourceError(f"{where} has no commit or tag {ref}: give an existing one with --ref.")
    head = _git(["-C", str(out), "rev-parse", "HEAD"], where)
    return head.stdout.strip() or None if head.returncode == 0 else None


def _submodules(where: str, out: Path, mirror: Path | None, say: Callable[[str], None]) -> None:
    """`git submodule update --init --recursive`, as a launcher that inits them would (SD.Next: wiki,
    extensions-builtin/*); with a mirror, each submodule's repository is its `<name>.git` or `<name>/` there."""
    if not (out / ".gitmodules").is_file():
        return
    found = _git(["config", "-f", str(out / ".gitmodules"), "--get-regexp", r"^submodule\..*\.url$"], where)
    urls = dict(line.split(" ", 1) for line in found.stdout.splitlines() if " " in line)
    _git(["-C", str(out), "submodule", "init"], where)
    for key, url in urls.items() if mirror is not None else []:
        local = _mirrored(mirror, url)  # type: ignore[arg-type]
        _git(["-C", str(out), "config", key, str(local)], where)
    say(f"git submodule update ({len(urls)}: {', '.join(repo_name(u) for u in urls.values())})")
    proc = _git(["-C", str(out), "-c", "protocol.file.allow=always", "submodule", "update", "--recursive"], where)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SourceError(
            f"cannot get the submodules of {where}: {last}. Without network, put each in the mirror as <name>.git "
            "(`git clone --mirror URL`) and give --mirror DIR."
        )


def _note_empty_submodules(root: Path, name: str, say: Callable[[str], None]) -> None:
    """A `git archive` (or a copied folder) leaves the submodule folders (.gitmodules `path`) empty: say so."""
    gitmodules = root / ".gitmodules"
    if not gitmodules.is_file():
        return
    paths = re.findall(r"^\s*path\s*=\s*(\S+)\s*$", gitmodules.read_text(errors="replace"), re.MULTILINE)
    empty = [p for p in paths if not (root / p).is_dir() or not any((root / p).iterdir())]
    if empty:
        say(
            f"note: {name} has no files in its submodules {', '.join(empty)} (a git archive or copy leaves them "
            "out): install from a git clone or URL to get them (with --mirror, each as <name>.git)."
        )


def _mirrored(mirror: Path, url: str) -> Path:
    name = repo_name(url)
    for candidate in (mirror / f"{name}.git", mirror / name):
        if candidate.is_dir():
            return candidate.resolve()
    raise SourceError(
        f"the mirror {mirror} has no git repository {name}.git (a submodule, from {url}): add it with "
        f"`git clone --mirror {url} {mirror}/{name}.git`, or drop --mirror to clone from GitHub."
    )
