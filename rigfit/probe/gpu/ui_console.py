"""What a UI's pasted start-up says beyond its GPU and torch: a memory state forced far below what the card's VRAM
needs (ComfyUI's "Set vram state to: NO_VRAM" on an 80 GB card: rigfit/kb/ui_memory_states.yaml), bitsandbytes
without a GPU library for the torch's runtime (8-bit/4-bit models unavailable, the rest runs), and an app whose
setup updates by git started from a folder that is not a git checkout (a ZIP download without its submodule:
rigfit/kb/app_parts.yaml), and launch arguments the UI its version line names does not read (AUTOMATIC1111's
--medvram in Forge: rigfit/kb/uis.yaml `ignores`). Pure functions of the text."""

from __future__ import annotations

import functools
import re

from rigfit.kb.app_parts import AppPart
from rigfit.kb.diagnosis import UiMemoryState
from rigfit.kb.loader import load_entries
from rigfit.kb.memory_modes import MEMORY_MODES, memory_mode_for  # the plan's thresholds, one copy
from rigfit.kb.schemas import UiEntry
from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.profile import GpuFault

# comfy/model_management.py and the UIs built on it print the state ("Set VRAM state to:" in 2026's ComfyUI) and
# the card's total ("Total VRAM 81156 MB, total RAM ..."); ComfyUI's main.py prints --cuda-device's index
_VRAM_STATE = later(r"\bSet vram state to: (?P<state>[A-Z_]+)\b", re.I)
_TOTAL_VRAM = later(r"\bTotal VRAM (?P<mb>\d+) MB\b")
_CUDA_DEVICE = later(r"\bSet cuda device to: (?P<index>\d+)\b")
# the plan's memory modes a forced state must be below the card's own by to be a finding: NO_VRAM (low) on a card
# of 11 GiB or more, LOW_VRAM (medium) on one of 20 GiB or more; a small card's state (Fooocus' LOW_VRAM on a 4 GB
# card, --lowvram on an 11 GB K80) is none
FAR_BELOW = 3
# bitsandbytes' multi-backend loader (0.44+: "Could not find the bitsandbytes ROCm binary at PosixPath(...)") and
# its older wording ("Configured ROCm binary not found at ...")
_BNB_NO_BINARY = later(
    r"(?:Could not find the bitsandbytes (?:CUDA|ROCm) binary|Configured (?:CUDA|ROCm|HIP) binary not found) at "
    r"\S*?(?P<lib>libbitsandbytes_\w+\.(?:so|dll|dylib))"
)
_NOT_GIT = later(r"\bfatal: not a git repository\b")
# A1111's and Forge's modules/launch_utils.py: "Launching Web UI with arguments: --medvram-sdxl --medvram"
_LAUNCH_ARGS = later(r"^\s*Launching Web UI with arguments:(?P<args>.*)$")
# a line the UI prints only after its argument parser accepted the arguments (an unknown flag stops A1111's parser
# with "error: unrecognized arguments"): the flags were read and ignored, not refused
_STARTED = later(r"^\s*(?:Total VRAM \d+ MB|Device: |Running on local URL|Startup time: )")


@functools.cache
def memory_states() -> tuple[UiMemoryState, ...]:
    return load_entries("ui_memory_states.yaml", UiMemoryState)


@functools.cache
def _uis() -> tuple[UiEntry, ...]:
    return load_entries("uis.yaml", UiEntry)


@functools.cache
def _app_parts() -> tuple[AppPart, ...]:
    return load_entries("app_parts.yaml", AppPart)


def ui_console_faults(text: str | None) -> list[GpuFault]:
    lines = clean_lines(text)
    return [*_memory_state(lines), *_bitsandbytes(lines), *_not_a_checkout(lines), *_ignored_flags(lines)]


def _memory_state(lines: list[str]) -> list[GpuFault]:
    state = _first(lines, _VRAM_STATE)
    total = _first(lines, _TOTAL_VRAM)
    if state is None or total is None:
        return []
    printed = state["state"].upper()
    named = _printed_by(printed, lines)
    if not named:
        return []
    gib = int(total["mb"]) / 1024
    card_mode, why = memory_mode_for(gib)
    if MEMORY_MODES.index(card_mode) - MEMORY_MODES.index(named[0].mode) < FAR_BELOW:
        return []
    facts = {
        "ui": " or ".join(dict.fromkeys(e.ui for e in named)),
        "flags": " / ".join(dict.fromkeys(flag for e in named for flag in e.flags)),
        "means": named[0].means,
        "vram_gib": f"{gib:.1f}",
        "card_mode": card_mode,
        "card_mode_why": why,
    }
    if device := _first(lines, _CUDA_DEVICE):
        facts["cuda_device"] = device["index"]
    return [GpuFault(kind="ui_memory_state_forced", evidence=state.string.strip(), detail=printed, facts=facts)]


def _first(lines: list[str], pattern: re.Pattern[str]) -> re.Match[str] | None:
    return next((m for line in lines if (m := pattern.search(line))), None)


def _printed_by(printed: str, lines: list[str]) -> list[UiMemoryState]:
    """The UIs whose state `printed` is, those whose start-up line is in the paste first (all of them when none is:
    the fix then names each UI's flag)."""
    entries = [e for e in memory_states() if e.printed == printed]
    return [e for e in entries if any(re.search(e.ui_line, line) for line in lines)] or entries


def _bitsandbytes(lines: list[str]) -> list[GpuFault]:
    for line in lines:
        if found := _BNB_NO_BINARY.search(line):
            return [GpuFault(kind="bnb_no_gpu_library", evidence=line.strip(), detail=found["lib"])]
    return []


def _not_a_checkout(lines: list[str]) -> list[GpuFault]:
    """git's "not a git repository" in the start-up of an app whose setup updates itself and its submodule by git
    (kohya_ss: `git submodule update --init --recursive`): the folder came from a ZIP, without the submodule."""
    refused = next((line for line in lines if _NOT_GIT.search(line)), None)
    if refused is None:
        return []
    for part in _app_parts():
        if part.banner and part.provided_by == "submodule" and any(re.search(part.banner, ln) for ln in lines):
            facts = {"app": part.app, "repo": part.repo, "folder": part.folder, "part_repo": part.part_repo}
            return [GpuFault(kind="app_not_a_checkout", evidence=refused.strip(), detail=part.app, facts=facts)]
    return []


def _ignored_flags(lines: list[str]) -> list[GpuFault]:
    """The launch arguments of a UI named by its version line that it does not read (uis.yaml `ignores`: the other
    UI's flags), with what it reads for the same setting instead."""
    args = _first(lines, _LAUNCH_ARGS)
    ui = next((u for u in _uis() if u.version_banner and _first(lines, re.compile(u.version_banner))), None)
    if args is None or ui is None or _first(lines[lines.index(args.string) :], _STARTED) is None:
        return []
    ignored = [flag for flag in dict.fromkeys(args["args"].split()) if flag in ui.ignores]
    if not ignored:
        return []
    instead = [f"{flag} -> {own}" for flag in ignored if (own := _own_flag(ui, flag))]
    facts = {"ui": ui.name, "ui_id": ui.id, "flags": ", ".join(ignored), "instead": "; ".join(instead) or "it has none"}
    return [GpuFault(kind="ui_flags_ignored", evidence=args.string.strip(), detail=ui.name, facts=facts)]


def _own_flag(ui: UiEntry, flag: str) -> str | None:
    """The flag `ui` reads for the setting another UI's `flag` sets (uis.yaml `flags`; memory: its out-of-memory
    flags, one step further than its automatic mode), None when it has none."""
    setting = next((k for other in _uis() if other.id != ui.id for k, fl in other.flags.items() if flag in fl), None)
    if setting is None:
        return None
    if setting.startswith("memory.") and ui.oom_flags:
        return ui.oom_flags.low if setting == "memory.low" else ui.oom_flags.medium
    return " ".join(ui.flags.get(setting, [])) or None
