"""torch_published.yaml: which wheels PyTorch published for each release line (Python range per platform, the
CUDA index variants, the torchvision/torchaudio that belong to it), and look-ups explain needs from it."""

from __future__ import annotations

import functools
import re
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries, version_range
from rigfit.kb.typed import FieldError
from rigfit.kb.versions import Version, contains
from rigfit.records import field, record

Platform = Literal["linux-x86_64", "linux-aarch64", "windows", "macos-arm64", "macos-x86_64"]
PLATFORM_WORDS: dict[str, str] = {
    "linux-x86_64": "Linux x86_64",
    "linux-aarch64": "Linux aarch64",
    "windows": "Windows",
    "macos-arm64": "macOS on Apple Silicon",
    "macos-x86_64": "macOS on Intel (x86_64)",
}
CUDA_VARIANT = re.compile(r"^cu(?P<digits>\d{3})$")
COMPANIONS = ("torchvision", "torchaudio")  # built for one torch release each


def ver(text: str) -> Version:
    return Version(text.split("+")[0])


def in_range(version: str, spec: str) -> bool:
    return bool(spec) and contains(spec, ver(version))


@record(frozen=True, kw_only=True)
class PublishedLine(KbEntry):
    """One torch release line (a minor release and its patch releases) as published on PyPI and
    download.pytorch.org."""

    line: str  # "2.5"
    last: str  # the newest patch release of the line: "2.5.1"
    python: str | None = None  # CPython range with wheels on Linux x86_64: ">=3.9,<3.14"
    # where another platform's wheels cover another range: {"windows": ">=3.9,<3.13"}
    python_by_platform: dict[str, str] = field(default_factory=dict)
    platforms: list[Platform] = field(default_factory=list)  # where wheels of the line exist
    cuda: list[str] = field(default_factory=list)  # CUDA index variants (download.pytorch.org/whl/<variant>)
    torchvision: str | None = None  # the release that belongs to `last`
    torchaudio: str | None = None
    # for a platform whose last line this is: what a machine still on it can do, in words
    platform_ended: dict[str, str] = field(default_factory=dict)
    note: str | None = None

    def _check(self) -> None:
        version_range(self.python, "python")
        for platform, spec in self.python_by_platform.items():
            if platform not in PLATFORM_WORDS:
                raise FieldError("python_by_platform", f"unknown platform {platform!r}")
            version_range(spec, f"python_by_platform.{platform}")
        for platform in self.platform_ended:
            if platform not in self.platforms:
                raise FieldError("platform_ended", f"{platform!r} is not one of the line's platforms")
        if not self.last.startswith(self.line + "."):
            raise FieldError("last", f"{self.last!r} is not a release of line {self.line!r}")
        for variant in self.cuda:
            if not CUDA_VARIANT.match(variant):
                raise FieldError("cuda", f"{variant!r} is not a cuXYZ index name")

    def python_on(self, platform: str | None) -> str | None:
        """The CPython range the line has wheels for on `platform` (Linux x86_64's when None); None when the line has
        no wheels there or the KB does not say."""
        if platform and platform not in self.platforms:
            return None
        return self.python_by_platform.get(platform or "", self.python)


@functools.cache
def published_lines() -> tuple[PublishedLine, ...]:
    return tuple(sorted(load_entries("torch_published.yaml", PublishedLine), key=lambda e: ver(e.line)))


def line_of(torch: str) -> PublishedLine | None:
    """The release line a torch version ("2.5.1", "2.5.1+cu124") belongs to."""
    parts = torch.split("+")[0].split(".")
    return next((e for e in published_lines() if e.line == ".".join(parts[:2])), None)


def newest_python(torch: str, platform: str | None = None) -> str | None:
    """The newest CPython minor ("3.12") the torch release has wheels for on the platform."""
    entry = line_of(torch)
    spec = entry.python_on(platform) if entry else None
    m = re.search(r"<\s*3\.(\d+)", spec or "")
    return f"3.{int(m[1]) - 1}" if m else None


def has_python(torch: str, python: str, platform: str | None = None) -> bool | None:
    """Whether the torch release has wheels for that CPython on the platform; None when the KB does not know."""
    entry = line_of(torch)
    spec = entry.python_on(platform) if entry else None
    return None if spec is None else in_range(python, spec)


def last_release_on(platform: str) -> str | None:
    """The newest torch release with wheels for the platform, when PyTorch stopped publishing for it."""
    lines = published_lines()
    if not lines or platform in lines[-1].platforms:
        return None
    with_it = [e for e in lines if platform in e.platforms]
    return with_it[-1].last if with_it else None


def platforms_ended_at(release: str) -> list[str]:
    """The platforms whose last torch release is `release` (e.g. 2.2.2 -> macOS x86_64)."""
    return [p for p in PLATFORM_WORDS if last_release_on(p) == release]


def pythons_ended_at(release: str, platform: str | None = None) -> list[str]:
    """The CPython minors whose newest torch wheels are `release` (the next line dropped them): 2.4.1 -> 3.8."""
    entry = line_of(release)
    if entry is None or entry.last != release:
        return []
    later = [e for e in published_lines() if ver(e.line) > ver(entry.line) and e.python_on(platform)]
    if not later:
        return []
    ended = []
    for minor in range(6, 16):
        python = f"3.{minor}"
        if has_python(release, python, platform) and not in_range(python, later[0].python_on(platform) or ""):
            ended.append(python)
    return ended


def cuda_variants() -> set[str]:
    """Every CUDA index variant PyTorch published for a line the KB lists."""
    return {v for e in published_lines() for v in e.cuda}


def lowest_listed_cuda() -> int:
    """The newest CUDA variant (as digits) of the oldest line the KB lists: the KB knows every variant published
    after it, and none before (cu110 of torch 1.7 is older than the KB, not unpublished)."""
    lines = [e for e in published_lines() if e.cuda]
    return max(int(v[2:]) for v in lines[0].cuda) if lines else 0


def variant_lines(variant: str) -> list[PublishedLine]:
    """The release lines published on that CUDA index."""
    return [e for e in published_lines() if variant in e.cuda]


def companion_of(torch: str, package: str) -> str | None:
    """The torchvision/torchaudio release built for that torch release (the KB knows the last patch of each line)."""
    entry = line_of(torch)
    if entry is None or entry.last != torch.split("+")[0]:
        return None
    return entry.torchvision if package == "torchvision" else entry.torchaudio if package == "torchaudio" else None


def ended_advice(platform: str) -> str | None:
    """What the KB says a machine on a platform PyTorch stopped publishing for can do."""
    return next((e.platform_ended[platform] for e in published_lines() if platform in e.platform_ended), None)
