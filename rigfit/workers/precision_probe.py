"""Run the real SD UNet architecture (random weights) for a few sampler steps in each dtype and look for inf/NaN.

Each dtype runs the same seeded latents and text embeddings; the result is compared with float32. Random weights
cannot reproduce every overflow that real weights cause (the known-bad list in rigfit's KB still applies).
"""

from __future__ import annotations

import argparse

import sd_model
from worker_io import error_text, is_gpu, pick_device, progress, reported


def probe_dtype(torch: object, opts: argparse.Namespace, dtype_name: str, device: str) -> tuple[dict, object]:
    dtype = sd_model.torch_dtype(torch, dtype_name)
    unet = sd_model.build(torch, opts.model, "unet", opts.reduced).to(device, dtype)
    vae = sd_model.build(torch, opts.model, "vae", opts.reduced).to(device, dtype)
    sched = sd_model.scheduler(opts.steps)
    cond = sd_model.unet_inputs(torch, unet, 2, opts.size, dtype, device)
    latents = sd_model.initial_latents(torch, opts.size, dtype, device, sched)
    first_bad = None
    with torch.inference_mode():
        for index, t in enumerate(sched.timesteps):
            progress(stage="precision", dtype=dtype_name, step=index + 1, steps=opts.steps)
            latents = sd_model.cfg_step(torch, unet, sched, latents, t, cond, opts.guidance)
            if first_bad is None and not bool(torch.isfinite(latents).all()):
                first_bad = index + 1
        image = vae.decode(latents / vae.config.scaling_factor).sample
    latents_f, image_f = latents.float().cpu(), image.float().cpu()
    finite_latents = bool(torch.isfinite(latents_f).all())
    finite_image = bool(torch.isfinite(image_f).all())
    entry = {
        "dtype": dtype_name,
        "finite": finite_latents and finite_image,
        "finite_latents": finite_latents,
        "finite_image": finite_image,
        "first_nonfinite_step": first_bad,
        "max_abs_latent": float(latents_f.abs().nan_to_num(posinf=0, neginf=0).max()),
    }
    return entry, latents_f


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default="sd15", choices=sorted(sd_model.MODELS))
    parser.add_argument("--dtypes", default="")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", type=int, default=0, help="image side in pixels (default: the model's own)")
    parser.add_argument("--guidance", type=float, default=7.5)
    parser.add_argument("--reduced", action="store_true", help="tiny widths, same architecture and code path")
    opts = parser.parse_args()
    opts.size = opts.size or sd_model.MODELS[opts.model]["size"]
    result: dict = {"model": opts.model, "reduced": opts.reduced, "size": opts.size, "steps": opts.steps}
    with reported(result):
        import torch

        device, note = pick_device(torch, opts.device)
        result.update(device=device, device_note=note)
        dtypes = (opts.dtypes or ("fp32,fp16,bf16" if is_gpu(device) else "fp32,bf16")).split(",")
        results, reference = [], None
        for name in sorted(dtypes, key=lambda d: d != "fp32"):  # float32 first: it is the reference
            try:
                entry, latents = probe_dtype(torch, opts, name, device)
                if name == "fp32":
                    reference = latents
                elif reference is not None and entry["finite"]:
                    entry["rel_diff_vs_fp32"] = float((latents - reference).norm() / reference.norm())
            except Exception as exc:  # dtype unsupported on this device, OOM, missing kernel
                entry = {"dtype": name, "finite": False, "error": error_text(exc)}
            results.append(entry)
        result["dtypes"] = results


if __name__ == "__main__":
    main()
