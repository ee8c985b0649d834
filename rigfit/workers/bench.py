"""Time what a person waits for: UNet steps (classifier-free guidance, batch 2) and the VAE decode, per configuration,
plus matmul throughput per dtype. Timed correctly: warm-up first, device synchronised around every measurement,
median and spread of repeats.

argv: --configs '[{"dtype": "fp32", "attention": "sdpa", "channels_last": false, "memory_mode": null}, ...]'
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import time

import sd_model
from worker_io import error_text, is_gpu, pick_device, progress, reported, synchronize


class Clock:
    """Wall time of a callable with the device synchronised before and after (CUDA events on a GPU)."""

    def __init__(self, torch: object, device: str) -> None:
        self.torch, self.cuda, self.device = torch, device.startswith("cuda"), device

    def time(self, fn: object) -> float:
        torch = self.torch
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0
        synchronize(torch, self.device)  # an Intel GPU (xpu) queues work too: wall time around a synchronised call
        begin = time.perf_counter()
        fn()
        synchronize(torch, self.device)
        return time.perf_counter() - begin

    def repeat(self, fn: object, repeats: int, warmup: int = 1) -> list[float]:
        for _ in range(warmup):
            self.time(fn)
        return [self.time(fn) for _ in range(repeats)]


def summary(times: list[float]) -> dict:
    return {
        "times": [round(t, 6) for t in times],
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
    }


def tf32_state(torch: object) -> dict:
    return {
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }


def bench_matmul(torch: object, clock: Clock, device: str, dtypes: list[str], n: int, repeats: int) -> list[dict]:
    results = []
    for name in dtypes:
        progress(stage="matmul", dtype=name, n=n)
        try:
            dtype = sd_model.torch_dtype(torch, name)
            a = torch.randn(n, n).to(device, dtype)
            b = torch.randn(n, n).to(device, dtype)
            times = clock.repeat(lambda a=a, b=b: a @ b, repeats, warmup=2)
            stats = summary(times)
            stats.update(dtype=name, n=n, gflops=2 * n**3 / stats["median"] / 1e9)
            results.append(stats)
        except Exception as exc:
            results.append({"dtype": name, "n": n, "error": error_text(exc)})
    return results


def peak_memory(torch: object, device: str) -> tuple[str, int]:
    if is_gpu(device):
        return "device_allocated", int(getattr(torch, device.split(":")[0]).max_memory_allocated(device))
    return "process_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def sdpa_flops(q: object, k: object, v: object) -> int:
    """FLOPs of scaled_dot_product_attention: Q @ K^T and softmax(.) @ V, 2 FLOPs per multiply-add."""
    length, head = q.shape[-2], q.shape[-1]
    batch = q.numel() // (length * head)
    return 2 * batch * length * k.shape[-2] * (head + v.shape[-1])


def count_flops(torch: object, fn: object) -> float | None:
    """FLOPs of one call, counted by torch itself (also serves as a warm-up run). torch's counter has no formula for
    some fused attention kernels (the CPU's flash attention): SDPA calls are counted here too, and added when the
    counter saw no attention op."""
    functional = torch.nn.functional
    original = functional.scaled_dot_product_attention
    attention = {"flops": 0}

    def counted(q: object, k: object, v: object, *args: object, **kwargs: object) -> object:
        attention["flops"] += sdpa_flops(q, k, v)
        return original(q, k, v, *args, **kwargs)

    try:
        from torch.utils.flop_counter import FlopCounterMode

        functional.scaled_dot_product_attention = counted
        with FlopCounterMode(display=False) as counter:
            fn()
        ops = counter.get_flop_counts().get("Global", {})
        saw_attention = any("attention" in str(op) for op in ops)
        return float(counter.get_total_flops()) + (0 if saw_attention else attention["flops"])
    except Exception:
        fn()
        return None
    finally:
        functional.scaled_dot_product_attention = original


class UnetBench:
    def __init__(self, torch: object, opts: argparse.Namespace, device: str, clock: Clock) -> None:
        self.torch, self.opts, self.device, self.clock = torch, opts, device, clock
        self.models: dict[str, tuple[object, object]] = {}
        self.step_flops: float | None = None

    def models_for(self, dtype_name: str) -> tuple[object, object]:
        if dtype_name not in self.models:
            self.models.clear()  # one dtype's weights at a time: memory is what a small card lacks
            dtype = sd_model.torch_dtype(self.torch, dtype_name)
            # built in the dtype, on the device: the peak memory is the dtype's, not an fp32 copy's
            build = functools.partial(sd_model.build, self.torch, self.opts.model, dtype=dtype, device=self.device)
            unet = build("unet", self.opts.reduced).to(self.device, dtype)
            vae = build("vae", self.opts.reduced).to(self.device, dtype)
            self.models[dtype_name] = (unet, vae)
        return self.models[dtype_name]

    def run(self, config: dict, index: int, total: int) -> dict:
        torch, opts = self.torch, self.opts
        dtype = sd_model.torch_dtype(torch, config["dtype"])
        unet, _ = self.models_for(config["dtype"])
        sd_model.set_attention(unet, config.get("attention", "sdpa"))
        unet.set_attention_slice("auto" if config.get("memory_mode") == "attention_slicing" else None)
        memory_format = torch.channels_last if config.get("channels_last") else torch.contiguous_format
        unet.to(memory_format=memory_format)
        if is_gpu(self.device):
            backend = getattr(torch, self.device.split(":")[0])
            backend.empty_cache()
            backend.reset_peak_memory_stats(self.device)
        sched = sd_model.scheduler(max(opts.steps, 2))
        cond = sd_model.unet_inputs(torch, unet, 2, opts.size, dtype, self.device)
        latents = sd_model.initial_latents(torch, opts.size, dtype, self.device, sched)
        latents = latents.contiguous(memory_format=memory_format)
        t = sched.timesteps[0]
        state = {"latents": latents}

        def step() -> None:
            sched._step_index = None  # time the same step again: the sampler itself is not what we measure
            out = sd_model.cfg_step(torch, unet, sched, latents, t, cond, 7.5)
            state["latents"] = out

        with torch.inference_mode():
            progress(stage="unet", config=index + 1, configs=total, step=0, steps=opts.steps)
            flops = count_flops(torch, step)
            if flops and self.step_flops is None:
                self.step_flops = flops
            self.clock.time(step)  # a plain warm-up step: the counted one runs under the FLOP counter's hooks
            times = []
            for number in range(opts.steps):
                times.append(self.clock.time(step))
                progress(stage="unet", config=index + 1, configs=total, step=number + 1, steps=opts.steps)
            finite = bool(torch.isfinite(state["latents"]).all())
        kind, peak = peak_memory(torch, self.device)
        return {**config, "step": summary(times), "finite": finite, "peak_memory_kind": kind, "peak_memory": peak}

    def vae_decode(self, dtype_name: str) -> dict:
        torch, opts = self.torch, self.opts
        _, vae = self.models_for(dtype_name)
        dtype = sd_model.torch_dtype(torch, dtype_name)
        latents = torch.randn(1, 4, opts.size // 8, opts.size // 8).to(self.device, dtype)
        progress(stage="vae", dtype=dtype_name)
        with torch.inference_mode():
            flops = count_flops(torch, lambda: vae.decode(latents).sample)
            times = self.clock.repeat(lambda: vae.decode(latents).sample, opts.vae_repeats, warmup=1)
        return {"dtype": dtype_name, "flops": flops, **summary(times)}

    def full_image(self, config: dict, steps: int) -> dict:
        """A whole image end to end (all sampler steps, then the VAE): checks the per-step prediction."""
        torch, opts = self.torch, self.opts
        dtype = sd_model.torch_dtype(torch, config["dtype"])
        unet, vae = self.models_for(config["dtype"])
        sd_model.set_attention(unet, config.get("attention", "sdpa"))
        sched = sd_model.scheduler(steps)
        cond = sd_model.unet_inputs(torch, unet, 2, opts.size, dtype, self.device)

        def image() -> None:
            latents = sd_model.initial_latents(torch, opts.size, dtype, self.device, sched)
            sched.set_timesteps(steps)
            for number, t in enumerate(sched.timesteps):
                latents = sd_model.cfg_step(torch, unet, sched, latents, t, cond, 7.5)
                progress(stage="image", step=number + 1, steps=steps)
            vae.decode(latents / vae.config.scaling_factor)

        with torch.inference_mode():
            seconds = self.clock.time(image)
        return {**config, "steps": steps, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default="sd15", choices=sorted(sd_model.MODELS))
    parser.add_argument("--configs", default='[{"dtype": "fp32", "attention": "sdpa", "channels_last": false}]')
    parser.add_argument("--steps", type=int, default=2, help="timed UNet steps per configuration")
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--reduced", action="store_true")
    parser.add_argument("--vae-repeats", type=int, default=1)
    parser.add_argument("--no-vae", action="store_true")
    parser.add_argument("--matmul", default="", help="dtypes to time a square matmul in (fp32,bf16,...)")
    parser.add_argument("--matmul-n", type=int, default=0)
    parser.add_argument("--matmul-repeats", type=int, default=5)
    parser.add_argument("--image-steps", type=int, default=0, help="also time one whole image of N steps")
    opts = parser.parse_args()
    opts.size = opts.size or sd_model.MODELS[opts.model]["size"]
    result: dict = {"model": opts.model, "reduced": opts.reduced, "size": opts.size, "timed_steps": opts.steps}
    with reported(result):
        import torch

        device, note = pick_device(torch, opts.device)
        clock = Clock(torch, device)
        result.update(
            device=device, torch_version=torch.__version__, tf32=tf32_state(torch), threads=torch.get_num_threads()
        )
        result["device_note"] = note
        if is_gpu(device):
            result["device_name"] = getattr(torch, device.split(":")[0]).get_device_name(device)
        if opts.matmul:
            n = opts.matmul_n or (4096 if is_gpu(device) else 1024)
            result["matmul"] = bench_matmul(torch, clock, device, opts.matmul.split(","), n, opts.matmul_repeats)
        configs = json.loads(opts.configs)
        bench = UnetBench(torch, opts, device, clock)
        runs, vae = [], {}
        for index, config in enumerate(configs):
            try:
                runs.append(bench.run(config, index, len(configs)))
                if not opts.no_vae and config["dtype"] not in vae:
                    vae[config["dtype"]] = bench.vae_decode(config["dtype"])
            except Exception as exc:  # OOM at this setting, a kernel missing for this dtype/backend
                runs.append({**config, "error": error_text(exc)})
        result.update(runs=runs, vae=list(vae.values()), unet_step_flops=bench.step_flops)
        if opts.image_steps and configs:
            result["image"] = bench.full_image(configs[0], opts.image_steps)


if __name__ == "__main__":
    main()
