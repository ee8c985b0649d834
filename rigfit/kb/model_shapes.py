"""Schema of rigfit/kb/model_shapes.yaml: tensor widths that tell model families apart (latent channels, the width of
the text conditioning), so a shape error between two parts can be read as two families mixed."""

from __future__ import annotations

from typing import Literal

from rigfit.kb.loader import KbEntry
from rigfit.kb.typed import FieldError
from rigfit.records import record


@record(frozen=True, kw_only=True)
class ModelWidth(KbEntry):
    """One width: `latent_channels` (what the VAE encodes to, what the UNet/DiT takes) or `conditioning` (the width of
    the text encoder's output that cross-attention, ControlNets and IP-Adapters take)."""

    kind: Literal["latent_channels", "conditioning"]
    value: int
    family: str  # the models that make or take tensors of this width, for people
    parts: str  # the files that must come from that family (VAE, ControlNet, LoRA, text encoder...)

    def _check(self) -> None:
        if self.value <= 0:
            raise FieldError("value", f"expected a positive width, found {self.value}")


__all__ = ["ModelWidth"]
