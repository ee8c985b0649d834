"""Which ROCm route an AMD gfx target has today: one answer, read by doctor's findings and by the plan.

"native": an official PyTorch ROCm wheel (torch_wheels.yaml kind "rocm") ships its kernels; "override": it can borrow
another ISA's kernels (HSA_OVERRIDE_GFX_VERSION); "community": only an older community build runs it; "none": no
torch build runs it; "unknown": rocm.yaml does not know the gfx (never guessed).
"""

from __future__ import annotations

from typing import Literal

from rigfit.kb.loader import by_id, load_entries
from rigfit.kb.schemas import GfxTarget, WheelLine
from rigfit.records import record

RocmRoute = Literal["native", "override", "community", "none", "unknown"]


@record(frozen=True)
class RocmSupport:
    gfx: str
    route: RocmRoute
    entry: GfxTarget | None = None

    @property
    def dropped(self) -> bool:
        """No current official build runs it (ROCm support ended, or never existed)."""
        return self.route in ("community", "none")

    def dropped_text(self) -> str:
        """What the end of support means for Stable Diffusion here, and what still works."""
        entry = self.entry
        ended = (
            f"AMD's ROCm libraries stopped shipping {self.gfx} kernels after ROCm {entry.rocm_supported_until}"
            if entry and entry.rocm_supported_until
            else f"no ROCm release officially supports {self.gfx}"
        )
        still = (
            f"Only {entry.known_good_variant} with torch {entry.known_good_torch} still runs it; otherwise"
            if entry and entry.known_good_torch
            else "No torch build runs it:"
        )
        return (
            f"{ended}, and no current official PyTorch ROCm wheel has {self.gfx} kernels. {still} Stable Diffusion "
            "runs on the CPU or through stable-diffusion.cpp with its Vulkan backend."
        )


def rocm_support(gfx: str | None) -> RocmSupport:
    if not gfx:
        return RocmSupport("", "unknown")
    entry = by_id(load_entries("rocm.yaml", GfxTarget)).get(gfx)
    if entry is None:
        return RocmSupport(gfx, "unknown")
    lines = [w for w in load_entries("torch_wheels.yaml", WheelLine) if gfx in w.rocm_archs]
    if any(w.kind == "rocm" for w in lines):
        return RocmSupport(gfx, "native", entry)
    if entry.override:
        return RocmSupport(gfx, "override", entry)
    community = entry.known_good_torch or any(w.kind == "community" for w in lines)
    return RocmSupport(gfx, "community" if community else "none", entry)
