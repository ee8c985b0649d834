"""Build the real Stable Diffusion UNet / VAE architectures with random weights from the shipped configs.

Nothing is downloaded: configs/ holds the published diffusers configs (sources in configs/README.md).
`reduced=True` keeps the same classes and code path with tiny widths, for tests and quick checks.
Random weights give the real FLOPs and memory, not the real numerics (real-weights fp16 overflows need the KB).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"
MODELS = {
    "sd15": {"unet": "sd15_unet_config.json", "vae": "sd15_vae_config.json", "size": 512},
    "sdxl": {"unet": "sdxl_base_unet_config.json", "vae": "sdxl_base_vae_config.json", "size": 1024},
}
REDUCED_UNET = {"layers_per_block": 1, "cross_attention_dim": 64}
REDUCED_VAE = {"block_out_channels": [32, 32, 64, 64], "layers_per_block": 1}
DTYPES = ("fp32", "fp16", "bf16")


def torch_dtype(torch: object, name: str) -> object:
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[name]


def load_config(model: str, part: str, reduced: bool) -> dict:
    raw = json.loads((CONFIGS / MODELS[model][part]).read_text())
    cfg = {k: v for k, v in raw.items() if not k.startswith("_")}
    if reduced and part == "unet":
        cfg.update(REDUCED_UNET)
        cfg["block_out_channels"] = [32 if i == 0 else 64 for i in range(len(cfg["block_out_channels"]))]
        if isinstance(cfg.get("transformer_layers_per_block"), list):
            cfg["transformer_layers_per_block"] = [1 for _ in cfg["transformer_layers_per_block"]]
        if isinstance(cfg.get("attention_head_dim"), list):  # SDXL: heads per level
            cfg["attention_head_dim"] = [2 for _ in cfg["attention_head_dim"]]
    if reduced and part == "vae":
        cfg.update(REDUCED_VAE)
    return cfg


def build(
    torch: object, model: str, part: str, reduced: bool, seed: int = 0, dtype: object = None, device: str | None = None
) -> object:
    """The network with random weights; with `dtype`/`device`, its parameters are created that way directly (no fp32
    copy on the CPU first, whose memory would be the peak). Same seed, same dtype: same weights."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.utils import logging

    logging.set_verbosity_error()  # its advice on loading real checkpoints does not apply to random weights
    torch.manual_seed(seed)
    cfg = load_config(model, part, reduced)
    with _created_as(torch, dtype, device):
        net = UNet2DConditionModel(**cfg) if part == "unet" else AutoencoderKL(**cfg)
    return net.eval().requires_grad_(False)


@contextlib.contextmanager
def _created_as(torch: object, dtype: object, device: str | None) -> Iterator[None]:
    old = torch.get_default_dtype()
    try:
        if dtype is not None:
            with contextlib.suppress(TypeError, RuntimeError):  # a torch that refuses it: built in fp32, cast after
                torch.set_default_dtype(dtype)
        with torch.device(device) if device else contextlib.nullcontext():
            yield
    finally:
        torch.set_default_dtype(old)


def set_attention(unet: object, attention: str) -> None:
    """sdpa = torch's scaled_dot_product_attention (diffusers default); classic = the plain softmax(QK^T)V path."""
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    if attention == "xformers":
        unet.enable_xformers_memory_efficient_attention()
    elif attention == "classic":
        unet.set_attn_processor(AttnProcessor())
    else:
        unet.set_attn_processor(AttnProcessor2_0())


def unet_inputs(torch: object, unet: object, batch: int, size: int, dtype: object, device: str, seed: int = 0) -> dict:
    """Everything one UNet call needs besides the latents: text embeddings (and SDXL's pooled/time ids)."""
    cfg = unet.config
    g = torch.Generator().manual_seed(seed)
    inputs = {
        "encoder_hidden_states": torch.randn(batch, 77, cfg.cross_attention_dim, generator=g).to(device, dtype),
    }
    if cfg.addition_embed_type == "text_time":
        pooled = cfg.projection_class_embeddings_input_dim - 6 * cfg.addition_time_embed_dim
        time_ids = torch.tensor([[size, size, 0, 0, size, size]] * batch, dtype=torch.float32)
        inputs["added_cond_kwargs"] = {
            "text_embeds": torch.randn(batch, pooled, generator=g).to(device, dtype),
            "time_ids": time_ids.to(device, dtype),
        }
    return inputs


def scheduler(steps: int) -> object:
    """Stable Diffusion's own noise schedule (scaled_linear betas) with Euler steps."""
    from diffusers import EulerDiscreteScheduler

    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    sched.set_timesteps(steps)
    return sched


def cfg_step(
    torch: object, unet: object, sched: object, latents: object, t: object, cond: dict, scale: float
) -> object:
    """One classifier-free-guidance step: the UNet at batch 2 (unconditional + conditional), then the sampler."""
    model_input = sched.scale_model_input(torch.cat([latents] * 2), t)
    noise = unet(model_input, t, **cond).sample
    uncond, text = noise.chunk(2)
    guided = uncond + scale * (text - uncond)
    return sched.step(guided, t, latents).prev_sample


def initial_latents(torch: object, size: int, dtype: object, device: str, sched: object, seed: int = 0) -> object:
    g = torch.Generator().manual_seed(seed)
    latents = torch.randn(1, 4, size // 8, size // 8, generator=g) * sched.init_noise_sigma
    return latents.to(device, dtype)
