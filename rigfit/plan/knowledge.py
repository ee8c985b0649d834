"""The planner's view of the knowledge base: typed, loaded once, looked up by what the profile says."""

from __future__ import annotations

import functools

from rigfit.kb.cuda_support import newest_first
from rigfit.kb.loader import by_id, load_entries
from rigfit.kb.schemas import GfxTarget, ModelEntry, Pin, PrecisionRule, UiEntry, WheelLine
from rigfit.kb.versions import InvalidVersion, Version, contains


@functools.cache
def gfx_targets() -> dict[str, GfxTarget]:
    return by_id(load_entries("rocm.yaml", GfxTarget))


@functools.cache
def wheel_lines() -> tuple[WheelLine, ...]:
    return load_entries("torch_wheels.yaml", WheelLine)


@functools.cache
def wheel(line_id: str) -> WheelLine:
    return by_id(wheel_lines())[line_id]


def newest_wheel(kind: str, *, needs_avx: bool | None = None) -> WheelLine:
    """The newest wheel line of a kind ("cpu", "rocm", "source"...), optionally by whether it executes AVX.
    A KeyError here is a bug in rigfit's data: torch_wheels.yaml has no such line."""
    lines = [w for w in wheel_lines() if w.kind == kind and (needs_avx is None or w.needs_avx is needs_avx)]
    if not lines:
        raise KeyError(
            f"torch_wheels.yaml has no {kind} line" + ("" if needs_avx is None else f" (needs_avx={needs_avx})")
        )
    return newest_first(lines)[0]


def source_build(backend: str) -> WheelLine:
    """The source-build route for a torch backend ("rocm")."""
    lines = [w for w in wheel_lines() if w.kind == "source" and w.backend == backend]
    if not lines:
        raise KeyError(f"torch_wheels.yaml has no source-build line for {backend}")
    return lines[0]


@functools.cache
def pins() -> tuple[Pin, ...]:
    return load_entries("pins.yaml", Pin)


@functools.cache
def ui_entries() -> dict[str, UiEntry]:
    return by_id(load_entries("uis.yaml", UiEntry))


def ui_entry(ui: str) -> UiEntry:
    return ui_entries()[ui]


OOM_LOW_MAX_GIB = 4.5  # "4 GB" cards report 3.9-4.3 GiB: up to here a UI's low flag, above it its medium one


def oom_flag(ui: str, vram_gib: float) -> str | None:
    """The flag to relaunch `ui` with after an out-of-memory error on a card of `vram_gib` GiB (uis.yaml
    oom_flags); None when the UI has no such flag or is not in uis.yaml. Shared by plan advice and `rigfit explain`."""
    entry = ui_entries().get(ui)
    if entry is None or entry.oom_flags is None:
        return None
    return entry.oom_flags.low if vram_gib <= OOM_LOW_MAX_GIB else entry.oom_flags.medium


@functools.cache
def models() -> tuple[ModelEntry, ...]:
    return load_entries("models.yaml", ModelEntry)


@functools.cache
def precision_rules() -> tuple[PrecisionRule, ...]:
    return load_entries("precision.yaml", PrecisionRule)


def version(text: str | None) -> Version | None:
    """A comparable version from "2.1.0", "12.1", "530.30.02", "3.12.3+"; None when unparseable."""
    if not text:
        return None
    try:
        return Version(text.strip().split("+")[0].rstrip("+"))
    except InvalidVersion:
        return None


def in_range(value: str | None, spec: str | None) -> bool | None:
    """Whether a version lies in a range; None when either is unknown."""
    v = version(value)
    if v is None or spec is None:
        return None
    return contains(spec, v)


def override_target(override: str) -> str:
    """The gfx name an HSA_OVERRIDE_GFX_VERSION value stands for: "10.3.0" -> "gfx1030", "9.0.0" -> "gfx900"."""
    major, minor, step = (int(p) for p in override.split("."))
    return f"gfx{major}{minor:x}{step:x}"
