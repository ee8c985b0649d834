"""Build a Stable Diffusion 1.5 checkpoint with random weights in the single-file layout Forge loads.

Runs under the Forge env's python (torch, transformers, Forge's backend): `python forge_sd15_checkpoint.py UI_DIR OUT`.
Forge's own UNet and VAE modules (original LDM key names) and transformers' CLIPTextModel, built from the configs Forge
ships under backend/huggingface/, randomly initialised and saved in fp16 with the prefixes Forge's loader splits on.
Prints `RIGFIT-RESULT {"tensors": N, "bytes": N}`.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    ui_dir, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sys.path[:0] = [ui_dir, os.path.join(ui_dir, "packages_3rdparty")]
    os.chdir(ui_dir)
    sys.argv = [sys.argv[0], "--always-cpu"]  # Forge's backend reads its flags at import: build on the CPU
    import torch
    from backend.nn.unet import IntegratedUNet2DConditionModel
    from backend.nn.vae import IntegratedAutoencoderKL
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    sd15 = os.path.join(ui_dir, "backend", "huggingface", "runwayml", "stable-diffusion-v1-5")
    tensors: dict[str, torch.Tensor] = {}

    def take(prefix: str, module: torch.nn.Module) -> None:
        for key, value in module.state_dict().items():
            tensors[prefix + key] = value.to(torch.float16).contiguous()

    # the SD 1.5 UNet as huggingface_guess describes it (its SD15 unet_config + the depths detected from SD 1.5 keys)
    unet = IntegratedUNet2DConditionModel(
        in_channels=4,
        model_channels=320,
        out_channels=4,
        num_res_blocks=[2, 2, 2, 2],
        channel_mult=[1, 2, 4, 4],
        transformer_depth=[1, 1, 1, 1, 1, 1, 0, 0],
        transformer_depth_output=[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
        transformer_depth_middle=1,
        use_spatial_transformer=True,
        context_dim=768,
        num_heads=8,
        num_head_channels=-1,
        use_linear_in_transformer=False,
    )
    take("model.diffusion_model.", unet)
    del unet
    vae = IntegratedAutoencoderKL.from_config(IntegratedAutoencoderKL.load_config(os.path.join(sd15, "vae")))
    take("first_stage_model.", vae)
    del vae
    clip = CLIPTextModel(CLIPTextConfig.from_pretrained(os.path.join(sd15, "text_encoder")))
    take("cond_stage_model.transformer.", clip)
    del clip
    tmp = out + ".tmp"
    save_file(tensors, tmp)
    os.replace(tmp, out)
    print("RIGFIT-RESULT " + json.dumps({"tensors": len(tensors), "bytes": os.path.getsize(out)}))


if __name__ == "__main__":
    main()
