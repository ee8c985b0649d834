"""Knowledge of torch source builds (rigfit/kb/torch_build/*.yaml): releases, frontends, target CPUs, build switches.

One place for the facts `rigfit build-torch` turns into a script and that `rigfit plan` and `rigfit explain` name in
their advice (`build_torch_command`), so the three never print different recipes.
"""

from __future__ import annotations

import functools
from typing import Literal

from rigfit.kb.loader import KbEntry, KbError, by_id, load_entries, version_ranges
from rigfit.kb.versions import InvalidVersion, Version
from rigfit.records import field, record

Backend = Literal["rocm", "cuda", "cpu"]


@record(frozen=True, kw_only=True)
class TorchRelease(KbEntry):
    """releases.yaml: a torch release with the torchvision release that belongs to it."""

    torch: str
    torchvision: str
    frontend: Literal["setuptools", "scikit-build-core"]
    python: str | None = None
    rocm: list[str] = field(default_factory=list)  # host ROCm versions its official ROCm wheels were built with
    cmake: str | None = None  # cmake version range the release asks for
    note: str | None = None

    def _check(self) -> None:
        version_ranges(self, "python", "cmake")

    @property
    def tag(self) -> str:
        return f"v{self.torch}"

    @property
    def vision_tag(self) -> str:
        return f"v{self.torchvision}"


@record(frozen=True, kw_only=True)
class BuildFrontend(KbEntry):
    """frontends.yaml: how a release's build frontend makes a wheel and takes CMake cache settings."""

    frontend: Literal["setuptools", "scikit-build-core"]
    package: Literal["torch", "torchvision"] = "torch"
    wheel: str  # command with {dist} (and {defines} where defines go on the command line)
    configure: str | None = None  # configure-only command (setuptools: cache entries are then set in build/)
    set_cache: str | None = None  # command with {defines} that sets cache entries in the configured tree
    define: str | None = None  # how one define is spelled on the wheel command line: {name}, {value}
    build_requirements: list[str] = field(default_factory=list)  # requirement files of the checkout
    extra_packages: list[str] = field(default_factory=list)


@record(frozen=True, kw_only=True)
class IsaTarget(KbEntry):
    """isa_targets.yaml: a CPU a build can target, its -march, its qemu-user model, its extensions."""

    march: str
    qemu: str
    flags: list[str]
    description: str


@record(frozen=True, kw_only=True)
class _Conditional(KbEntry):
    """An entry that applies to some backends, or to targets lacking some extensions."""

    backend: list[Backend] = field(default_factory=list)  # empty: every backend
    when_missing: list[str] = field(default_factory=list)  # target lacks any of these; empty: always

    def applies(self, target: IsaTarget, backend: Backend) -> bool:
        if self.backend and backend not in self.backend:
            return False
        return not self.when_missing or any(flag not in target.flags for flag in self.when_missing)


@record(frozen=True, kw_only=True)
class BuildSwitch(_Conditional):
    """switches.yaml: one environment variable or CMake cache entry of the build."""

    kind: Literal["env", "cmake", "unset"]
    name: str
    value: str | None = None
    also: list[str] = field(default_factory=list)  # further names that get the same value (C_AVX2_FOUND)
    package: Literal["torch", "torchvision", "both"] = "both"
    capability: str | None = None  # ATen kernel copy this cmake switch leaves out ("AVX2")
    capability_flags: str | None = None  # the flags Codegen.cmake compiles that copy with
    why: str


@record(frozen=True, kw_only=True)
class BuildCaveat(_Conditional):
    """caveats.yaml: where a source build is not enough, with the check or fix."""

    message: str
    fix: str


@record(frozen=True, kw_only=True)
class BuildResources(KbEntry):
    """resources.yaml: memory per compile job, disk, and the reference build time."""

    backend: list[Backend]
    per_job_gb: float
    disk_gb: int
    reference_minutes: int
    reference_cores: int
    reference: str


def releases() -> tuple[TorchRelease, ...]:
    return load_entries("torch_build/releases.yaml", TorchRelease)


def frontends() -> tuple[BuildFrontend, ...]:
    return load_entries("torch_build/frontends.yaml", BuildFrontend)


def isa_targets() -> tuple[IsaTarget, ...]:
    return load_entries("torch_build/isa_targets.yaml", IsaTarget)


def switches() -> tuple[BuildSwitch, ...]:
    return load_entries("torch_build/switches.yaml", BuildSwitch)


def caveats() -> tuple[BuildCaveat, ...]:
    return load_entries("torch_build/caveats.yaml", BuildCaveat)


def resources(backend: Backend) -> BuildResources:
    for entry in load_entries("torch_build/resources.yaml", BuildResources):
        if backend in entry.backend:
            return entry
    raise KbError(f"torch_build/resources.yaml: no entry for backend {backend}")


def frontend_for(release: TorchRelease, package: str = "torch") -> BuildFrontend:
    for entry in frontends():
        if entry.package == package and entry.frontend == (release.frontend if package == "torch" else "setuptools"):
            return entry
    raise KbError(f"torch_build/frontends.yaml: no {package} entry for {release.frontend}")


def find_isa_target(name: str) -> IsaTarget | None:
    """The target named by its id, its -march or its qemu model ("westmere", "Westmere", "skylake-avx512")."""
    wanted = name.strip().lower()
    for target in isa_targets():
        if wanted in {target.id, target.march.lower(), target.qemu.lower()}:
            return target
    return None


def isa_target_for(flags: list[str] | frozenset[str] | None) -> IsaTarget | None:
    """The newest target whose extensions this CPU all has (isa_targets.yaml is ordered oldest first)."""
    if not flags:
        return None
    have = set(flags)
    fitting = [t for t in isa_targets() if set(t.flags) <= have]
    return fitting[-1] if fitting else None


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def release_for(backend: Backend, rocm_version: str | None = None, torch: str | None = None) -> TorchRelease:
    """The release to build: the one asked for, else for ROCm the newest whose ROCm line is not newer than the host's
    (the newest with a ROCm line when the host's is unknown), else the newest release."""
    ordered = sorted(releases(), key=lambda r: Version(r.torch), reverse=True)
    if torch:
        for release in ordered:
            if release.torch == torch or release.torch.startswith(torch + "."):
                return release
        known = ", ".join(r.torch for r in ordered)
        raise KbError(f"no torch release {torch} in torch_build/releases.yaml (known: {known})")
    if backend == "rocm":
        with_rocm = [r for r in ordered if r.rocm]
        host = _version(rocm_version)
        if host is None:
            return with_rocm[0]
        for release in with_rocm:
            if min(Version(v) for v in release.rocm) <= host:
                return release
        return with_rocm[-1]
    return ordered[0]


@functools.cache
def _gfx_overrides() -> dict[str, str]:
    from rigfit.kb.schemas import GfxTarget

    return {gfx: e.override for gfx, e in by_id(load_entries("rocm.yaml", GfxTarget)).items() if e.override}


def kernel_gfx(gfx: str) -> str:
    """The gfx a build should target for this card: the ISA it borrows through HSA_OVERRIDE_GFX_VERSION ("10.3.0" ->
    gfx1030), else its own."""
    override = _gfx_overrides().get(gfx.lower())
    if not override:
        return gfx.lower()
    major, minor, step = (int(part) for part in override.split("."))
    return f"gfx{major}{minor:x}{step:x}"


def build_torch_command(target: str | None, backend: Backend, arch: str | None = None, torch: str | None = None) -> str:
    """The one-line recipe plan and explain print: `rigfit build-torch --for westmere --rocm gfx1030 --torch 2.3.1`."""
    parts = ["rigfit build-torch"]
    if target:
        parts.append(f"--for {target}")
    if backend == "cpu":
        parts.append("--cpu")
    else:
        parts.append(f"--{backend} {arch}" if arch else f"--{backend}")
    if torch:
        parts.append(f"--torch {torch}")
    return " ".join(parts)


def rocm_source_build(isa: str | None, gfx: str, rocm_version: str | None) -> str:
    """The no-AVX ROCm recipe `rigfit plan` and `rigfit explain` both print: the build-torch command for this CPU
    target, the card's kernel ISA and the release that matches the host ROCm."""
    release = release_for("rocm", rocm_version)
    return build_torch_command(isa, "rocm", kernel_gfx(gfx), release.torch)


__all__ = [
    "Backend",
    "BuildCaveat",
    "BuildFrontend",
    "BuildResources",
    "BuildSwitch",
    "IsaTarget",
    "TorchRelease",
    "build_torch_command",
    "caveats",
    "find_isa_target",
    "frontend_for",
    "isa_target_for",
    "kernel_gfx",
    "release_for",
    "releases",
    "resources",
    "rocm_source_build",
    "switches",
]
