"""Schema of rigfit/kb/ui_installs.yaml: how `rigfit install` gets a UI and installs its requirements."""

from __future__ import annotations

import functools
from typing import Literal

from rigfit.kb.loader import KbEntry, by_id, load_entries, version_ranges
from rigfit.records import field, record


@record(frozen=True, kw_only=True)
class LauncherRepo:
    """A repository the UI's launcher clones itself (into `dest`, at `commit`): rigfit puts it there first."""

    name: str  # the repository's name: `<name>.tar.gz` (or `<name>/`) in a --mirror folder stands in for `url`
    url: str
    commit: str
    dest: str  # relative to the UI's checkout


@record(frozen=True, kw_only=True)
class PinOverride:
    """A UI pin that is only a build-time workaround, installed as `install` instead, with the reason."""

    package: str
    pinned: str  # the UI's specifier ("==69.5.1")
    install: str  # what rigfit installs instead (">=77.0.3,<82")
    reason: str
    source: list[str]

    def __post_init__(self) -> None:
        version_ranges(self, "pinned", "install")


@record(frozen=True, kw_only=True)
class Addition:
    """A package the UI imports that none of its requirements files declares."""

    requirement: str
    reason: str
    source: str | list[str]
    no_deps: bool = False  # installed without its dependencies, as the UI's launcher does (a second step)


@record(frozen=True, kw_only=True)
class RequirementNote:
    """What rigfit does with one of a package UI's own requirements on a protected package (torch...), and why."""

    requirement: str
    reason: str


InstallKind = Literal["git", "package"]


@record(frozen=True, kw_only=True)
class UiInstall(KbEntry):
    """ui_installs.yaml: one UI's source, launcher repositories, requirements and the pins rigfit overrides.

    kind "git": the UI's repository is cloned (at `ref`) into DIR/ui and its requirements files installed.
    kind "package": the UI is a release on the package index (`package`, at version `ref`), installed without extras
    (a UI's extras pin their own torch); DIR/ui is then its data root (settings, databases, models)."""

    kind: InstallKind = "git"
    repo: str
    package: str | None = None  # kind package: the distribution's name on the index
    ref: str | None = None  # git: the known-good commit or tag (None = the default branch); package: the version
    requirements: list[str] = field(default_factory=list)  # kind git: requirements files in the checkout
    python: str | None = None  # the Pythons the UI runs on (">=3.11,<3.13"), checked before anything is written
    root_flag: str | None = None  # the UI's flag naming its data root, given DIR/ui at launch ("--root")
    launch: str
    launch_env: dict[str, str] = field(default_factory=dict)
    repositories: list[LauncherRepo] = field(default_factory=list)
    overrides: list[PinOverride] = field(default_factory=list)
    additions: list[Addition] = field(default_factory=list)
    notes: list[RequirementNote] = field(default_factory=list)

    @property
    def repo_name(self) -> str:
        return repo_name(self.repo)

    def _check(self) -> None:
        if self.kind == "package" and not (self.package and self.ref):
            raise ValueError(f"{self.id}: kind package needs `package` and its known-good version in `ref`")
        if self.kind == "git" and not self.requirements:
            raise ValueError(f"{self.id}: kind git needs `requirements` (files in the UI's checkout)")

    @property
    def release(self) -> str:
        """kind package: the pinned requirement rigfit installs ("invokeai==6.14.2")."""
        return f"{self.package}=={self.ref}"


def repo_name(url: str) -> str:
    """`https://github.com/o/name.git` -> `name`: the file name a --mirror folder holds it under."""
    return url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


@functools.cache
def ui_installs() -> dict[str, UiInstall]:
    return by_id(load_entries("ui_installs.yaml", UiInstall))


InstallPart = Literal["torch", "gpu-libraries", "requirements"]


@record(frozen=True, kw_only=True)
class InstallSize(KbEntry):
    """install_sizes.yaml: the disk one part of an install takes once unpacked, found by part and backend or UI.

    linked: uv hard-links this part's files from its cache, so a warm cache makes it nearly free; the protected torch
    packages are copied (never linked), so their size is new on disk every time."""

    part: InstallPart
    backend: Literal["cpu", "cuda", "rocm"] | None = None  # torch and gpu-libraries: the torch build's kind
    ui: str | None = None  # requirements: the UI (ui_installs.yaml id)
    installed_mb: int
    linked: bool

    def _check(self) -> None:
        if self.part == "requirements" and self.ui is None:
            raise ValueError(f"{self.id}: part requirements needs `ui`")
        if self.part != "requirements" and self.backend is None:
            raise ValueError(f"{self.id}: part {self.part} needs `backend`")


@functools.cache
def install_sizes() -> tuple[InstallSize, ...]:
    return load_entries("install_sizes.yaml", InstallSize)


def install_size(part: InstallPart, *, backend: str | None = None, ui: str | None = None) -> InstallSize | None:
    """The measured size of one part: torch or its GPU libraries for a backend, a UI's requirements."""
    for entry in install_sizes():
        if entry.part == part and entry.backend == backend and entry.ui == ui:
            return entry
    return None
