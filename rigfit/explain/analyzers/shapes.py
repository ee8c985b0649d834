"""Two model families mixed, read from a tensor-shape error: a convolution given latents of another channel count
("expected input[1, 16, 128, 128] to have 4 channels, but got 16"), a matrix product between conditioning of one
width and a layer made for another ("mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)"), or a
checkpoint loaded into a model of another width ("size mismatch ... torch.Size([320, 768]) ... torch.Size([320,
2048])"). Only widths rigfit/kb/model_shapes.yaml knows count, so an unrelated shape error gets nothing."""

from __future__ import annotations

import functools
import re

from rigfit.explain.analyzers.base import Finding, last
from rigfit.explain.analyzers.context import Context
from rigfit.explain.scan import LogLine
from rigfit.kb.loader import load_entries
from rigfit.kb.model_shapes import ModelWidth

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("model-family-mismatch",)

SIGNALS = ("channels, but got", "shapes cannot be multiplied", "size mismatch for")
KEYWORDS = ("from checkpoint, the shape in current model",)
CONTEXT: tuple[str, ...] = ()

CHANNELS = re.compile(r"to have (?P<want>\d+) channels, but got (?P<got>\d+) channels")
MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \(\d+x(?P<got>\d+) and (?P<want>\d+)x\d+\)")
SIZE_MISMATCH = re.compile(
    r"size mismatch for (?P<param>\S+?):? copying a param with shape torch\.Size\(\[(?P<got>[\d, ]+)\]\) from "
    r"checkpoint, the shape in current model is torch\.Size\(\[(?P<want>[\d, ]+)\]\)"
)
WHAT = {
    "latent_channels": "latents with {n} channels",
    "conditioning": "text conditioning {n} wide",
    "image_input": "an image input layer of {n} features",
}


@functools.cache
def widths() -> dict[tuple[str, int], ModelWidth]:
    return {(w.kind, w.value): w for w in load_entries("model_shapes.yaml", ModelWidth)}


def _pair(got: int, want: int, param: str = "") -> tuple[ModelWidth, ModelWidth] | None:
    """The two families of two widths of one kind that rigfit knows, when they differ (an `image_input` width only
    in a size mismatch of the parameters it names)."""
    if got == want:
        return None
    for kind in ("latent_channels", "conditioning", "image_input"):
        a, b = widths().get((kind, got)), widths().get((kind, want))
        if a is not None and b is not None and (kind != "image_input" or (_names(a, param) and _names(b, param))):
            return a, b
    return None


def _names(width: ModelWidth, param: str) -> bool:
    """Whether `param` (model.diffusion_model.img_in.weight) is one of the parameters the width is read from."""
    return any(param == p or param.endswith("." + p) for p in width.params)


def _differing(got: str, want: str) -> tuple[int, int] | None:
    """The first dimension two printed shapes differ in."""
    for a, b in zip(got.split(","), want.split(","), strict=False):
        if a.strip() != b.strip():
            return int(a), int(b)
    return None


def analyze(ctx: Context) -> list[Finding]:
    for pattern in (CHANNELS, MATMUL, SIZE_MISMATCH):
        found = last(ctx.lines, pattern)
        if found is None:
            continue
        line, m = found
        loading = pattern is SIZE_MISMATCH
        dims = _differing(m["got"], m["want"]) if loading else (int(m["got"]), int(m["want"]))
        if dims and (pair := _pair(*dims, param=m["param"] if loading else "")):
            return [_finding(line, pair[0], pair[1], loading=loading)]
    return []


def _finding(line: LogLine, got: ModelWidth, want: ModelWidth, loading: bool) -> Finding:
    kind = WHAT[got.kind]
    how = (
        f"a file made for {got.family} ({kind.format(n=got.value)}) was loaded into a model of {want.family} "
        f"({kind.format(n=want.value)})"
        if loading
        else f"a part made for {want.family} (it takes {kind.format(n=want.value)}) was given "
        f"{kind.format(n=got.value)}, which {got.family} makes"
    )
    return Finding(
        "model-family-mismatch",
        f"Parts of two model families are mixed: {got.family} and {want.family}",
        f"The shapes in this error are the widths of two model families: {how}. One pipeline mixes parts of both "
        "(a checkpoint with a VAE, ControlNet, LoRA, IP-Adapter or text encoder of the other family, or a "
        "workflow made for the other family). It is not a torch, driver or VRAM problem.",
        f"Use parts of one family throughout: for {got.family}, {got.parts}; for {want.family}, {want.parts}. "
        "Pick the checkpoint first, then the VAE, ControlNet, LoRA and text encoders made for it (in ComfyUI check "
        "every loader node of the workflow; in A1111/Forge set the VAE to Automatic and the ControlNet model to one "
        "of the checkpoint's family).",
        [line],
        {"got": str(got.value), "expected": str(want.value), "kind": got.kind},
        sorted({*got.sources, *want.sources}),
        # a text-conditioning width is shared by families (768 is CLIP-L in SD 1.x, Flux, SD3 and HunyuanVideo), so
        # for it the known issue's hedged reading of both widths stays first; latent channels name their family
        supersedes=() if got.kind == "conditioning" else ("model-component-mismatch",),
    )
