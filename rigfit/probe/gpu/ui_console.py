"""What a UI's pasted start-up says beyond its GPU and torch: a memory state forced far below what the card's VRAM
needs (ComfyUI's "Set vram state to: NO_VRAM" on an 80 GB card: rigfit/kb/ui_memory_states.yaml), bitsandbytes
without a GPU library for the torch's runtime (8-bit/4-bit models unavailable, the rest runs), and an app whose
setup updates by git started from a folder that is not a git checkout (a ZIP download without its submodule:
rigfit/kb/app_parts.yaml). Pure functions of the text."""

from __future__ import annotations

import functools
import re

from rigfit.kb.app_parts import AppPart
from rigfit.kb.diagnosis import UiMemoryState
from rigfit.kb.loader import load_entries
from rigfit.kb.memory_modes import MEMORY_MODES, memory_mode_for  # the plan's thresholds, one copy
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


@functools.cache
def memory_states() -> tuple[UiMemoryState, ...]:
    return load_entries("ui_memory_states.yaml", UiMemoryState)


@functools.cache
def _app_parts() -> tuple[AppPart, ...]:
    return load_entries("app_parts.yaml", AppPart)


def ui_console_faults(text: str | None) -> list[GpuFault]:
    lines = clean_lines(text)
    return [*_memory_state(lines), *_bitsandbytes(lines), *_not_a_checkout(lines)]


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
