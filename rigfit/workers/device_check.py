"""Run the operations Stable Diffusion needs on the device and compare them with the CPU in float32.

Catches kernels missing for the GPU (hipErrorNoBinaryForGpu, "invalid device function", "no kernel image"),
a device that cannot be opened (/dev/kfd permissions), wrong results, and out-of-memory at the planned size.
"""

from __future__ import annotations

import argparse
import time
import warnings

from worker_io import emit, error_text, is_gpu, pick_device, progress, synchronize

TOLERANCE = {"fp32": 1e-3, "fp32-tf32": 5e-3, "fp16": 1e-2, "bf16": 4e-2}


def device_facts(torch: object, device: str) -> dict:
    facts: dict = {
        "torch_version": torch.__version__,
        "cuda": torch.version.cuda,
        "hip": getattr(torch.version, "hip", None),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    try:
        facts["cpu_bf16_native"] = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:
        facts["cpu_bf16_native"] = None
    if device.startswith("xpu"):
        props = torch.xpu.get_device_properties(device)
        facts.update(name=props.name, total_memory=props.total_memory, xpu=getattr(torch.version, "xpu", None))
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(device)
        facts.update(
            name=props.name,
            total_memory=props.total_memory,
            capability=f"{props.major}.{props.minor}",
            gcn_arch=getattr(props, "gcnArchName", None),
            bf16_supported=torch.cuda.is_bf16_supported(),
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32,
        )
    return facts


def op_inputs(torch: object, small: bool) -> dict:
    g = torch.Generator().manual_seed(0)
    n, c, hw, seq = (64, 16, 8, 32) if small else (256, 64, 32, 256)

    def r(*shape: int) -> object:
        return torch.randn(*shape, generator=g)

    return {
        "matmul": (r(n, n), r(n, n)),
        "conv2d": (r(2, c, hw, hw), r(c, c, 3, 3) * 0.1),
        "group_norm": (r(2, c, hw, hw),),
        "sdpa": (r(2, 8, seq, 64), r(2, 8, seq, 64), r(2, 8, seq, 64)),
    }


def run_op(torch: object, name: str, args: tuple) -> object:
    f = torch.nn.functional
    if name == "matmul":
        return args[0] @ args[1]
    if name == "conv2d":
        return f.conv2d(args[0], args[1], padding=1)
    if name == "group_norm":
        return f.group_norm(args[0], 16)
    return f.scaled_dot_product_attention(*args)


def check_ops(torch: object, device: str, dtypes: list[str], small: bool) -> list[dict]:
    dtype_of = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    inputs = op_inputs(torch, small)
    results = []
    for name, args in inputs.items():
        reference = run_op(torch, name, args)
        for dtype in dtypes:
            progress(stage="ops", op=name, dtype=dtype)
            entry = {"op": name, "dtype": dtype}
            try:
                moved = tuple(a.to(device=device, dtype=dtype_of[dtype]) for a in args)
                out = run_op(torch, name, moved)
                synchronize(torch, device)
                out = out.float().cpu()
                finite = bool(torch.isfinite(out).all())
                scale = float(reference.abs().max()) or 1.0
                err = float((out - reference).abs().max()) / scale if finite else None
                tf32 = dtype == "fp32" and device.startswith("cuda") and torch.backends.cuda.matmul.allow_tf32
                tolerance = TOLERANCE["fp32-tf32" if tf32 else dtype]
                entry.update(
                    ok=finite and err is not None and err <= tolerance,
                    finite=finite,
                    rel_error=err,
                    tolerance=tolerance,
                )
            except Exception as exc:  # missing kernel, device fault, dtype not supported on this device
                entry.update(ok=False, error=error_text(exc))
            results.append(entry)
    return results


def check_alloc(torch: object, device: str, megabytes: int) -> dict:
    """Hold the planned working-set size on the device once: out-of-memory here means it at generation time."""
    try:
        block = torch.empty(megabytes * 2**20, dtype=torch.uint8, device=device)
        block.fill_(1)
        synchronize(torch, device)
        del block
        return {"megabytes": megabytes, "ok": True}
    except Exception as exc:
        return {"megabytes": megabytes, "ok": False, "error": error_text(exc)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtypes", default="")
    parser.add_argument("--alloc-mb", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="tiny tensors (CPU emulation is slow)")
    opts = parser.parse_args()
    start = time.perf_counter()
    result: dict = {"device": opts.device}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import torch

            device, note = pick_device(torch, opts.device)
            available = is_gpu(device) and getattr(torch, device.split(":")[0]).is_available()
            result.update(gpu_available=available, device=device, device_note=note)
            if is_gpu(device) and not available:
                kind = device.split(":")[0]
                raise RuntimeError(f"torch cannot use a GPU here (torch.{kind}.is_available() is False, {device})")
            result["facts"] = device_facts(torch, device)
            default = "fp32,fp16,bf16" if is_gpu(device) else "fp32,bf16"
            result["ops"] = check_ops(torch, device, (opts.dtypes or default).split(","), opts.small)
            if opts.alloc_mb:
                result["alloc"] = check_alloc(torch, device, opts.alloc_mb)
        except Exception as exc:  # no device at all, driver/runtime failure at init
            result["error"] = error_text(exc)
    result["warnings"] = [f"{w.category.__name__}: {w.message}"[:500] for w in caught][:8]
    result["seconds"] = round(time.perf_counter() - start, 3)
    emit(result)


if __name__ == "__main__":
    main()
