"""The plan's memory modes and the VRAM each is for (fp16-equivalent GiB): rigfit/plan/precision.py picks the mode
for a card from them, doctor compares a UI's printed memory state with them (rigfit/probe/gpu/ui_console.py)."""

from __future__ import annotations

MEMORY_MODES = ("low", "medium", "medium_sdxl", "normal", "high")  # least VRAM first


def memory_mode_for(effective_gib: float, sdpa: bool = True) -> tuple[str, str]:
    """The memory mode a card of `effective_gib` GiB (fp16-equivalent) runs Stable Diffusion in, and why; doctor
    compares a UI's printed memory state with it."""
    if effective_gib < 3.5:
        return "low", "under 3.5 GiB (fp16-equivalent): only the active part of the model stays in VRAM"
    if effective_gib < 7:
        return "medium", "under 7 GiB: model stages are swapped in and out of VRAM"
    if effective_gib < 11:
        if not sdpa:
            return "medium", "8-10 GiB without memory-efficient SDPA attention (torch < 2): stage swapping"
        return "medium_sdxl", "8-10 GiB: SD1.5 fits whole; SDXL needs stage swapping"
    if effective_gib < 20:
        return "normal", "11-20 GiB: SD1.5 and SDXL fit"
    return "high", "20 GiB or more: keep every model in VRAM"
