"""Schema of rigfit/kb/model_shapes.yaml: tensor widths that tell model families apart (latent channels, the width of
the text conditioning), so a shape error between two parts can be read as two families mixed."""

from __future__ import annotations

from typing import Literal

from rigfit.kb.loader import KbEntry
from rigfit.kb.typed import FieldError
from rigfit.records import field, record


@record(frozen=True, kw_only=True)
class ModelWidth(KbEntry):
    """One width: `latent_channels` (what the VAE encodes to, what the UNet/DiT takes), `conditioning` (the width of
    the text encoder's output that cross-attention, ControlNets and IP-Adapters take) or `image_input` (the features
    a DiT's patch-input layer takes: variants of one family differ in it)."""

    kind: Literal["latent_channels", "conditioning", "image_input"]
    value: int
    family: str  # the models that make or take tensors of this width, for people
    parts: str  # the files that must come from that family (VAE, ControlNet, LoRA, text encoder...)
    # the checkpoint parameters this width is read from ("img_in.weight"): an `image_input` width is common in other
    # layers, so it counts only in a size mismatch of these
    params: list[str] = field(default_factory=list)

    def _check(self) -> None:
        if self.value <= 0:
            raise FieldError("value", f"expected a positive width, found {self.value}")
        if (self.kind == "image_input") != bool(self.params):
            raise FieldError("params", "name the parameters for an image_input width, and only for it")


__all__ = ["ModelWidth"]
