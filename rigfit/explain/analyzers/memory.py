"""Out of memory on CUDA, HIP, MPS or the CPU, with the model and resolution read from the log when it shows them:
SDXL on a 4 GB card is not fixed by the same flags as SD 1.5 at 1024 px."""

from __future__ import annotations

import functools
import math
import re

from rigfit.explain.analyzers.base import CLASS_CONFIDENCE, Finding, every, last, texts
from rigfit.explain.analyzers.context import Context
from rigfit.explain.literals import lines_that_may_match, lines_with_number_before
from rigfit.explain.scan import LogLine
from rigfit.kb.diagnosis import VideoModel
from rigfit.kb.fixes import fix_text
from rigfit.kb.loader import load_entries
from rigfit.kb.schemas import ModelEntry
from rigfit.plan.knowledge import models, oom_flag

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "cpu-out-of-memory",
    "gpu-alloc-failed-memory-free",
    "gpu-out-of-memory",
    "training-out-of-memory",
    "xpu-allocation-over-4gb",
)

SIGNALS = (
    "out of memory", "outofmemoryerror", "allocation on device", "defaultcpuallocator", "memoryerror", "oom-kill",
    "killed process", "killed", "sigkill", "code 137", "not enough gpu video memory",
    "ur_result_error_out_of_device_memory", "ze_result_error_out_of_device_memory", "pi_error_out_of_resources",
    "can not allocate memory block",
)  # fmt: skip
KEYWORDS = (
    "out of memory", "outofmemoryerror", "defaultcpuallocator", "not enough memory", "memoryerror", "oom-kill",
    "killed process", "allocation on device", "tried to allocate", "invoked oom-killer", "not enough gpu video memory",
    "ur_result_error_out_of_device_memory", "ze_result_error_out_of_device_memory", "pi_error_out_of_resources",
    "can not allocate memory block",
)  # fmt: skip
CONTEXT = (
    "total capacity", "total capacty", "device limit", "total vram", "medvram", "lowvram", "loading weights",
    "sd_xl", "sdxl", "flux", "model_type", "requested to load", "width", "height", "resolution", "x1024", "x768",
    "x512", "x2048", "v1-inference", "sd_xl_base", "loaded completely", "model loaded", "commandline",
    "launching web ui", "train_network", "sdxl_train", "train_util", "accelerate", "kohya_ss", "sd-scripts",
    "onetrainer",
    "train_dreambooth", "train_text_to_image", "steps:", "loaded partially", "wanvideo", "wan2", "hunyuan", "hyvideo",
)  # fmt: skip

OOM = re.compile(
    r"(?P<kind>CUDA|HIP|XPU|MPS backend) out of memory|CUDA error: out of memory|HIP error: out of memory|"
    # DirectML (torch-directml: AMD/Intel cards on Windows) says it in its own words, with the size in bytes
    r"(?P<dml>Could not allocate tensor with (?P<dml_bytes>\d+) bytes\. There is not enough GPU video memory)|"
    # Intel's runtimes (Unified Runtime, Level Zero, SYCL's PI) under torch's XPU build or IPEX, and IPEX's own
    # allocator on GPUs that cannot map one block above 4 GB
    r"(?P<xpu_rt>UR_RESULT_ERROR_OUT_OF_DEVICE_MEMORY|ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY|PI_ERROR_OUT_OF_RESOURCES)|"
    r"(?P<block4g>can NOT allocate memory block with size larger than 4GB)|"
    r"Allocation on device|torch\.(?:cuda\.)?OutOfMemoryError|"
    # a UI's own words for torch's OOM it caught (Forge Neo's main_thread.py; its "during VAE decoding / LoRA
    # Patching; Retrying with ..." are OOMs it works around, not failures)
    r"(?P<ui_oom>Encountered Out of Memory during Sampling)|"
    r"(?P<cpu>DefaultCPUAllocator: (?:not enough memory|can't allocate memory)|\bMemoryError\b|"
    r"Out of memory: Killed process|oom-kill|invoked oom-killer)|"
    r"(?P<sigkill>line \d+:\s+\d+ Killed\b|^\s*Killed\s*$|<Signals\.SIGKILL: 9>|"
    r"(?:exited with|exit) (?:code|status):? 137\b)",
    re.I,
)
# the kernel's OOM-killer line: which process it ended and the RAM it held
OOM_KILLED = re.compile(
    r"Out of memory: Killed process (?P<pid>\d+) \((?P<process>[^)]{1,40})\).*?anon-rss:(?P<rss>\d+)kB"
)
CAPACITY = re.compile(
    r"(?P<gib>\d+(?:\.\d+)?) GiB total capacity|total capaci?ty of (?P<gib2>\d+(?:\.\d+)?) GiB|"
    r"Device limit\s*:\s*(?P<gib3>\d+(?:\.\d+)?) GiB|Total VRAM (?P<mib>\d+) MB|"
    r"total capaci?ty of (?P<mib2>\d+(?:\.\d+)?) MiB",
    re.I,
)
# ComfyUI offloading by itself: "loaded partially 11337.9 11337.8 1" (MB it could put on the GPU)
PARTIAL = re.compile(r"loaded partially (?P<mb>\d+(?:\.\d+)?)")
FREE = re.compile(r"of which (?P<size>\d+(?:\.\d+)?) (?P<unit>[MG]iB) is free", re.I)
CLASS_CONFIDENCE_CPU = CLASS_CONFIDENCE
APU_CARVE_OUT_GIB = 2.0  # an AMD "GPU" this small is an APU's firmware carve-out, not a graphics card
MPS_SOURCE = "https://pytorch.org/docs/stable/mps_environment_variables.html"
UI_FLAG_SOURCES = [
    "AUTOMATIC1111/stable-diffusion-webui:modules/cmd_args.py",
    "comfyanonymous/ComfyUI:comfy/cli_args.py",
]
MPS_CAP = re.compile(r"max allowed: (?P<size>[\d.]+) ?(?P<unit>[GM]i?B)")
ALLOCATE = re.compile(r"Tried to allocate (?P<size>\d+(?:\.\d+)?) (?P<unit>[MG]iB)", re.I)
MODEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (model, re.compile(pattern, re.I))
    for model, pattern in (
        ("flux-dev", r"\bflux\b(?![.\s_-]?2)|flux1|FluxTransformer(?!2)|Requested to load Flux(?!2)"),
        (
            "sdxl",
            r"sd_xl|sdxl|\bxl\b.*\.safetensors|(?-i:XL)[_-]v?\d.*\.safetensors|Requested to load SDXL|model_type.*SDXL|"
            r"StableDiffusionXL|Creating model from config: .*sd_xl",
        ),
        (
            "sd15",
            r"v1-5-pruned|v1-inference\.yaml|sd-v1-|Requested to load BaseModel\b|SD1ClipModel|"
            r"stable-diffusion-v1-5|sd15",
        ),
    )
)
RESOLUTION = re.compile(
    r"\b(?P<w>\d{3,4})\s*[x×]\s*(?P<h>\d{3,4})\b|width[\"']?\s*[:=]\s*(?P<w2>\d{3,4}).{0,40}?height[\"']?\s*[:=]\s*(?P<h2>\d{3,4})",
    re.I,
)
# what a RESOLUTION match holds besides a number before an x ("width: 512, height: 512")
RESOLUTION_HINT = re.compile(r"width", re.I)
FLAG_IN_USE = re.compile(
    r"(?<![\w-])(?P<flag>--(?:medvram-sdxl|medvram|lowvram|novram|always-low-vram|always-offload-from-vram))\b"
)
NATIVE = {"sd15": 512, "sdxl": 1024, "flux-dev": 1024}
# a training run (kohya sd-scripts/kohya_ss, OneTrainer, diffusers' training examples, accelerate-launched scripts):
# its memory is set by the training options, not by a UI's low-VRAM flags
TRAINING = re.compile(
    r"\b(?:sdxl_)?train(?:_network|_db|_dreambooth\w*|_text_to_image\w*|_lora\w*|_util)?\.py\b|kohya_ss|sd-scripts|"
    r"OneTrainer|accelerate[\\/]commands|accelerate_cli|\baccelerate launch\b|\bsteps:\s+\d+%",
    re.I,
)
# a training run's own lines (its script's frames, its progress bar, its launch line) sit beside its OOM; a marker
# farther away is another run's in the same file (a journal, a shell session, a UI's log after a trainer's)
TRAINING_WINDOW = 400
SOURCE = "https://pytorch.org/docs/stable/notes/cuda.html#optimizing-memory-usage-with-pytorch-cuda-alloc-conf"
# DirectML keeps more memory per image than the native backends of the same card
DIRECTML_STEP = (
    "DirectML needs more memory for the same image than the card's native route: on an AMD card use ZLUDA (Windows) "
    "or ROCm (Linux), on an Intel card the XPU build of torch"
)
DIRECTML_SOURCE = "https://github.com/lshqqytiger/stable-diffusion-webui-directml/issues/291"


def analyze(ctx: Context) -> list[Finding]:
    hit = last(ctx.lines, OOM)
    if hit is None:
        return []
    line, m = hit
    if m.group("cpu") or m.group("sigkill"):
        return [_cpu_oom(ctx, line, killed=bool(m.group("sigkill")))]
    facts: dict[str, str] = {"device": _device(m, line.text)}
    if m.group("dml"):
        facts["tried_to_allocate"] = f"{int(m.group('dml_bytes')) / 2**20:.2f} MiB"
    evidence = [line]
    capacity = last(ctx.lines, CAPACITY)
    vram = _capacity(capacity[1]) if capacity else ctx.facts.get("vram_gib")
    if vram is not None:
        facts["vram_gib"] = f"{float(vram):.1f}".removesuffix(".0")
    if (alloc := last(ctx.lines, ALLOCATE)) is not None:
        facts["tried_to_allocate"] = f"{alloc[1].group('size')} {alloc[1].group('unit')}"
    model = _model(ctx)
    if model:
        facts["model"] = model
    res = _resolution(ctx)
    if res:
        facts["resolution"] = res
    in_use = sorted(
        {m.group("flag") for line, _ in every(ctx.lines, FLAG_IN_USE) for m in FLAG_IN_USE.finditer(line.text)}
    )
    if in_use:
        facts["flags_in_use"] = " ".join(in_use)
    if m.group("block4g"):
        return [_single_block_limit(facts, evidence)]
    if (spare := _free_beyond_request(ctx, facts, vram)) is not None:
        return [_allocator_failure(facts, evidence, spare)]
    if (training := _training_near(ctx, line.number)) is not None:
        return [_training_oom(facts, [*evidence, training[0]], training[1].group(0))]
    if (video := _video_model(ctx)) is not None:
        return [_video_oom(facts, [*evidence, video[0]], video[1])]
    if not ctx.facts.get("ui") and model is None and (moving := _moving_to_gpu(ctx, line.number)) is not None:
        return [_load_oom(facts, [*evidence, moving])]
    return [_gpu_oom(ctx, facts, evidence, vram)]


# the device a line names when its OOM alternative did not ("torch.OutOfMemoryError: XPU out of memory", "HIP error")
DEVICE_NAMED = re.compile(r"\b(HIP|XPU|MPS)\b")


def _device(m: re.Match[str], text: str) -> str:
    if m.group("dml"):
        return "DirectML"
    if m.group("xpu_rt") or m.group("block4g"):
        return "XPU"
    if m.group("ui_oom") and not DEVICE_NAMED.search(text):
        return "GPU"  # the UI's words name no backend
    if m.group("kind"):
        return m.group("kind").split()[0]
    named = DEVICE_NAMED.search(text)
    return named.group(1) if named else "CUDA"


# a script's traceback through torch's Module.to / a diffusers pipeline's .to: the OOM came while moving the whole
# model onto the GPU, before anything was generated
MOVING_TO_GPU = re.compile(r"\b(?:pipe|pipeline|model|module|unet|transformer)\.to\(|, in (?:to|_apply|cuda)\s*$")
DIFFUSERS_OFFLOAD_SOURCE = "https://huggingface.co/docs/diffusers/en/optimization/memory#model-offloading"


MOVING_SPAN = 40  # lines around the OOM message its traceback may take (people paste the message above it too)


def _moving_to_gpu(ctx: Context, at: int) -> LogLine | None:
    """The traceback line showing the model being moved to the GPU when memory ran out, if any."""
    near = [ln for ln in ctx.lines if abs(ln.number - at) <= MOVING_SPAN and MOVING_TO_GPU.search(ln.text)]
    return near[0] if near else None


def _load_oom(facts: dict[str, str], evidence: list) -> Finding:
    """Out of memory while a script moves the model onto the GPU: the weights of all its parts together do not fit,
    so offloading or smaller weights help, not the resolution (nothing was generated yet)."""
    facts["while"] = "moving the model to the GPU"
    card = f"the {facts['vram_gib']} GiB GPU" if "vram_gib" in facts else "the GPU"
    cause = (
        f"The {facts['device']} memory ran out while the script moved the whole model onto {card} (`.to(...)` in the "
        "traceback), before anything was generated: the weights of all the pipeline's parts together (the "
        "transformer/UNet, the text encoders, the VAE) are larger than the card holds, so the resolution or batch "
        "size plays no part."
    )
    fix = (
        'Do not move the whole pipeline to the GPU: replace `pipe.to("cuda")` with `pipe.enable_model_cpu_offload()` '
        "(each part goes to the GPU only while it runs; `pipe.enable_sequential_cpu_offload()` when even one part is "
        "larger than the card), or load a quantized variant of the largest part (bitsandbytes 4-bit/8-bit, fp8, "
        "GGUF), and free the GPU of other processes."
    )
    return Finding(
        "gpu-out-of-memory",
        f"{facts['device']} out of memory while loading the model onto the GPU",
        cause,
        fix,
        evidence,
        facts,
        [DIFFUSERS_OFFLOAD_SOURCE, SOURCE],
        confidence=0.9,
        supersedes=("cuda-out-of-memory", "hip-out-of-memory"),
    )


@functools.cache
def video_models() -> tuple[tuple[VideoModel, re.Pattern[str]], ...]:
    return tuple((e, re.compile(e.pattern, re.I)) for e in load_entries("video_models.yaml", VideoModel))


def _video_model(ctx: Context) -> tuple[LogLine, VideoModel] | None:
    for entry, pattern in video_models():
        if (hit := last(ctx.lines, pattern)) is not None:
            return hit[0], entry
    return None


def _video_oom(facts: dict[str, str], evidence: list, video: VideoModel) -> Finding:
    """A video model out of memory: its frames x resolution and its size decide, not an image UI's low-VRAM flag."""
    facts["model"] = video.id
    card = f" of the {facts['vram_gib']} GiB GPU" if "vram_gib" in facts else ""
    cause = (
        f"{video.name} needed more memory than was free{card}: {video.memory}. A video's memory grows with its "
        "frame count times its resolution, so an image UI's low-VRAM flag alone does not make it fit."
    )
    fix = "; ".join(video.steps) + "."
    return Finding(
        "gpu-out-of-memory",
        f"{facts['device']} out of memory ({video.name})",
        cause,
        fix[0].upper() + fix[1:],
        evidence,
        facts,
        [SOURCE, *video.sources],
        confidence=0.9,
        supersedes=("cuda-out-of-memory", "hip-out-of-memory"),
    )


def _training_near(ctx: Context, at: int) -> tuple[LogLine, re.Match[str]] | None:
    """The training marker closest to the OOM line, within TRAINING_WINDOW lines of it."""
    near = [hit for hit in every(ctx.lines, TRAINING) if abs(hit[0].number - at) <= TRAINING_WINDOW]
    return min(near, key=lambda hit: abs(hit[0].number - at), default=None)


def _training_oom(facts: dict[str, str], evidence: list, trainer: str) -> Finding:
    facts["training"] = trainer
    card = f"the {facts['vram_gib']} GiB GPU" if "vram_gib" in facts else "the GPU"
    model = next((e.name for e in models() if e.id == facts.get("model")), "the model")
    cause = (
        f"A training run ({trainer}) needed more memory than {card} had free: training holds the weights, their "
        f"gradients, the optimizer's state and the activations of {model} at once, so a UI's low-VRAM flags do not "
        "apply; the training options decide."
    )
    fix = (
        "Lower the training's own memory: gradient checkpointing (kohya: --gradient_checkpointing), cached latents "
        "and text-encoder outputs (--cache_latents --cache_text_encoder_outputs), an 8-bit or Adafactor optimizer "
        "(--optimizer_type AdamW8bit or Adafactor), batch size 1, bf16/fp16 weights (--full_bf16 or "
        "--mixed_precision fp16), a lower training resolution; for SDXL on 12 GB or less train a LoRA "
        "(sdxl_train_network.py) instead of the full model. OneTrainer and diffusers' scripts have the same options "
        "under similar names."
    )
    return Finding(
        "training-out-of-memory",
        f"{facts['device']} out of memory while training",
        cause,
        fix,
        evidence,
        facts,
        [SOURCE, "kohya-ss/sd-scripts:README.md (SDXL training: memory-saving options)"],
        confidence=0.9,
        supersedes=("cuda-out-of-memory", "hip-out-of-memory"),
    )


def _free_beyond_request(ctx: Context, facts: dict[str, str], vram: float | None) -> float | None:
    """GiB the message says were free when a much smaller request failed: then VRAM was not what ran out."""
    free = last(ctx.lines, FREE)
    if free is None or "tried_to_allocate" not in facts:
        return None
    gib = float(free[1].group("size")) / (1024 if free[1].group("unit") == "MiB" else 1)
    plausible = vram is None or gib <= float(vram)  # a wrapped-around free figure (16 EiB) says nothing
    return gib if plausible and gib >= 1 and gib > 4 * _allocation_gib(facts) else None


RUNTIME_BUILD = {"HIP": "ROCm", "XPU": "XPU"}
IPEX_BLOCK_SOURCES = [
    "intel/intel-extension-for-pytorch (its XPU caching allocator; test_tensor_size_limit)",
    "https://github.com/intel/intel-extension-for-pytorch/issues/325",
    "https://github.com/simonlui/Docker_IPEX_ComfyUI/issues/11 (Alchemist limited, Battlemage not)",
]


def _single_block_limit(facts: dict[str, str], evidence: list) -> Finding:
    """IPEX's allocator on a GPU without 2D block arrays (Alchemist: Arc A-series, Flex) maps no block above 4 GB:
    one tensor is too big, whatever the card's total memory."""
    asked = f" (this step asked for {facts['tried_to_allocate']})" if "tried_to_allocate" in facts else ""
    cause = (
        "The Intel GPU's allocator cannot hand out one block larger than 4 GB on this GPU generation (Alchemist: Arc "
        f"A-series, Data Center Flex; Battlemage and newer have no such limit){asked}. The card may have more memory "
        "free: it is the size of one tensor, not the total, so low-VRAM flags alone do not help."
    )
    fix = (
        "Make the largest tensor smaller: lower the resolution or batch size, decode the VAE in tiles (tiled VAE), "
        "and slice attention (SD.Next: keep IPEX attention slicing on; diffusers: `pipe.enable_attention_slicing()`, "
        "`pipe.enable_vae_tiling()`)."
    )
    return Finding(
        "xpu-allocation-over-4gb",
        "XPU allocation larger than 4 GB",
        cause,
        fix,
        evidence,
        facts,
        IPEX_BLOCK_SOURCES,
        confidence=0.9,
    )


def _allocator_failure(facts: dict[str, str], evidence: list, free_gib: float) -> Finding:
    facts["free_gib"] = f"{free_gib:.1f}".removesuffix(".0")
    device = facts["device"]
    cause = (
        f"A {facts['tried_to_allocate']} allocation failed while the message itself reports {facts['free_gib']} GiB "
        f"free{' of ' + facts['vram_gib'] + ' GiB' if 'vram_gib' in facts else ''}: the card did not run out of "
        "memory. The allocation failed in the driver or runtime (a preview ROCm/HIP build, a driver that limits what "
        "one process may map, or a GPU reset), which low-VRAM flags do not fix."
    )
    fix = (
        f"Update the GPU driver and install the {RUNTIME_BUILD.get(device, 'CUDA')} torch build `rigfit plan` "
        "names for the card (a stable one rather than a nightly), then retry with nothing else on the GPU; if the "
        "kernel log shows a GPU reset or page fault at the same time (`sudo dmesg | tail -50`), `rigfit doctor` "
        "reads it."
    )
    return Finding(
        "gpu-alloc-failed-memory-free",
        f"{device} allocation failed with memory free",
        cause,
        fix,
        evidence,
        facts,
        [SOURCE, "https://github.com/Comfy-Org/ComfyUI/issues/13112"],
        confidence=0.9,
        supersedes=("cuda-out-of-memory", "hip-out-of-memory"),
    )


def _capacity(m: re.Match[str]) -> float:
    if m.group("mib") or m.group("mib2"):
        return round(float(m.group("mib") or m.group("mib2")) / 1024, 1)
    return float(m.group("gib") or m.group("gib2") or m.group("gib3"))


def _model(ctx: Context) -> str | None:
    for model, pattern in MODEL_PATTERNS:
        if last(ctx.lines, pattern):
            return model
    return None


def _resolution(ctx: Context) -> str | None:
    read = texts(ctx.lines)  # the lines RESOLUTION may match: a digit before an x (or ×), or "width"
    candidates = lines_with_number_before("x", read).union(lines_that_may_match(RESOLUTION_HINT, read))
    for index in sorted(candidates, reverse=True):
        line = ctx.lines[index]
        if (m := RESOLUTION.search(line.text)) and "GiB" not in line.text:
            w, h = int(m.group("w") or m.group("w2")), int(m.group("h") or m.group("h2"))
            if 256 <= w <= 4096 and 256 <= h <= 4096 and w % 8 == 0 and h % 8 == 0:
                return f"{w}x{h}"
    return None


def _gpu_oom(ctx: Context, facts: dict[str, str], evidence: list, vram: float | None) -> Finding:
    entry = next((e for e in models() if e.id == facts.get("model")), None)
    card = f"the {facts['vram_gib']} GiB GPU" if "vram_gib" in facts else "the GPU"
    what = entry.name if entry else "the model"
    if "resolution" in facts:
        what = f"{what} at {facts['resolution']}"
    cause = f"{what} needed more memory than {card} had free"
    if "tried_to_allocate" in facts:
        cause += f" (one more allocation of {facts['tried_to_allocate']} failed)"
    why, steps = _why_and_steps(ctx, facts, entry, vram, card)
    cause += why
    alloc_conf = "PYTORCH_HIP_ALLOC_CONF" if facts["device"] == "HIP" else "PYTORCH_CUDA_ALLOC_CONF"
    if facts["device"] in ("CUDA", "HIP"):
        steps.append(f"`export {alloc_conf}=expandable_segments:True` before launching to reduce fragmentation")
    elif facts["device"] == "DirectML":
        steps.append(DIRECTML_STEP)
    fix = "; ".join(steps) + "; close other programs using the GPU."
    informed = bool(entry or facts.keys() & {"resolution", "flags_in_use", "oversized", "apu_carve_out", "at_floor"})
    supersedes = ("cuda-out-of-memory", "hip-out-of-memory") if informed else ()
    return Finding(
        "gpu-out-of-memory",
        f"{facts['device']} out of memory" + (f" ({what})" if what != "the model" else ""),
        cause[0].upper() + cause[1:],
        fix[0].upper() + fix[1:],
        evidence,
        facts,
        _sources(facts["device"]),
        confidence=0.9 if supersedes else 0.7,
        supersedes=supersedes,
        # one allocation larger than the card: the generic answer's low-VRAM flags cannot make it fit
        contradicts=supersedes if "oversized" in facts else (),
    )


def _why_and_steps(
    ctx: Context, facts: dict[str, str], entry: ModelEntry | None, vram: float | None, card: str
) -> tuple[str, list[str]]:
    """The end of the cause and the steps of the fix: the allocation alone exceeds the card, the model cannot fit
    it, or a memory mode and the resolution help."""
    if facts["device"] == "MPS":
        return _unified_memory(ctx, facts, entry)
    if facts["device"] == "HIP" and vram is not None and vram <= APU_CARVE_OUT_GIB:
        facts["apu_carve_out"] = "yes"
        why = (
            f": a {vram:g} GiB AMD GPU is an APU's integrated graphics, whose memory is the carve-out the firmware "
            "reserves from system RAM."
        )
        return why, [
            "raise the iGPU's memory in the firmware setup (UMA Frame Buffer Size / iGPU Memory, 4 GB or more; some "
            "boards call it VRAM size)",
            f"or run on the CPU; in the meantime {_memory_mode_step(ctx, facts, None, vram)}",
        ]
    if vram is not None and _allocation_gib(facts) > vram:
        facts["oversized"] = "yes"
        why = (
            ": that single allocation is larger than the whole card, so no offloading flag can make it fit; the "
            "image (or video, or batch) is too large for this card in one piece."
        )
        return why, ["lower the resolution, batch size or frame count, or use tiled processing for this step"]
    floor = min(models(), key=lambda e: e.vram_gb_min)
    if entry is None and vram is not None and math.ceil(vram) <= floor.vram_gb_min:
        facts["at_floor"] = "yes"
        why = (
            f": a {vram:g} GiB card is at the floor of what image models run on at all ({floor.name} needs "
            f"{floor.vram_gb_min:g} GB with its heaviest offloading; every other model more), so only the lowest "
            "memory mode can work, slowly."
        )
        return why, [
            f"{_lowest_mode_step(ctx)} and use {floor.name} at its native resolution",
            "or run on the CPU (`rigfit plan --cpu`), often not much slower than a card this small",
        ]
    if entry and vram is not None and vram < entry.vram_gb_min:
        why = f"; {entry.name} needs at least {entry.vram_gb_min} GB even with offloading."
        return why, [
            f"{entry.name} does not fit {card}: use Stable Diffusion 1.5 (or a smaller/quantized variant of "
            "this model), or run it on the CPU"
        ]
    if entry and vram is not None and entry.weights_gb > vram:
        return _weights_exceed_card(ctx, facts, entry, vram)
    return _mode_or_smaller_weights(ctx, facts, entry, vram)


def _mode_or_smaller_weights(
    ctx: Context, facts: dict[str, str], entry: ModelEntry | None, vram: float | None
) -> tuple[str, list[str]]:
    """The UI's memory mode and the resolution; for a large model on a card of unknown size also its family's
    smaller checkpoints, first when the UI already loaded it only partially (its offloading is already on)."""
    steps = [_memory_mode_step(ctx, facts, entry.id if entry else None, vram), *_resolution_steps(facts)]
    smaller = _smaller_variants(entry) if entry and vram is None else []
    if smaller and entry and (partial := last(ctx.lines, PARTIAL)) is not None:
        facts["loaded_partially_gb"] = f"{float(partial[1].group('mb')) / 1024:.1f}"
        why = (
            f": the UI already loaded it partially ({facts['loaded_partially_gb']} GB on the GPU, the rest offloaded "
            "to RAM), so a low-VRAM flag changes little; smaller weights do."
        )
        return why, [f"use a smaller variant of {entry.name}: {', '.join(smaller)}", *_resolution_steps(facts)]
    if smaller and entry:
        steps.append(f"if it still does not fit, a smaller variant of {entry.name}: {', '.join(smaller)}")
    return ".", steps


def _smaller_variants(entry: ModelEntry) -> list[str]:
    """The same family's lighter checkpoints (models.yaml), for a large model whose card size the log does not show."""
    return [
        m.name
        for m in sorted(models(), key=lambda m: -m.weights_gb)
        if m.family == entry.family and m.weights_gb < entry.weights_gb
    ]


def _weights_exceed_card(ctx: Context, facts: dict[str, str], entry: ModelEntry, vram: float) -> tuple[str, list[str]]:
    """The model's weights alone are larger than the card: only offloading or a smaller variant of the same family
    (models.yaml) makes it fit; lowering the resolution does not."""
    facts["weights_gb"] = f"{entry.weights_gb:g}"
    why = (
        f"; {entry.name}'s weights alone are {entry.weights_gb:g} GB, more than the card holds, so it runs only with "
        "parts of it offloaded to RAM or as a smaller (quantized) variant; a lower resolution does not make it fit."
    )
    smaller = [m.name for m in models() if m.family == entry.family and m.weights_gb < vram]
    steps = [_memory_mode_step(ctx, facts, entry.id, vram)]
    if not ctx.facts.get("ui"):
        steps.append(
            'in a diffusers script, `pipe.enable_model_cpu_offload()` instead of `pipe.to("cuda")` '
            "(enable_sequential_cpu_offload() when that is not enough)"
        )
    steps.append(
        f"or a smaller variant: {', '.join(smaller)}" if smaller else "or a quantized variant of it (fp8, GGUF Q8/Q4)"
    )
    return why, steps


def _unified_memory(ctx: Context, facts: dict[str, str], entry: ModelEntry | None) -> tuple[str, list[str]]:
    """An Apple GPU (MPS) shares the Mac's memory: the cap is a share of the RAM, and offloading to RAM frees
    nothing; a smaller model or image is what helps."""
    cap = last(ctx.lines, MPS_CAP)
    if cap is not None:
        facts["mps_max_allowed"] = f"{cap[1].group('size')} {cap[1].group('unit')}"
    why = (
        ": on a Mac the GPU (MPS) shares the unified memory with the system, and PyTorch caps what it may take"
        + (f" (max allowed: {facts['mps_max_allowed']}, a share of the RAM)" if cap else "")
        + "; low-VRAM modes offload to that same memory, so they free little."
    )
    what = entry.name if entry else "the model"
    return why, [
        f"use a smaller or quantized variant of {what} (fp8/GGUF, or SD 1.5/SDXL instead of a large model), and lower "
        "the resolution or batch size",
        "PYTORCH_MPS_HIGH_WATERMARK_RATIO=0.0 lifts PyTorch's cap, at the risk of the Mac swapping hard or freezing",
    ]


def _lowest_mode_step(ctx: Context) -> str:
    """The UI's lowest memory mode (its flag for the smallest cards), for a card at the floor."""
    ui = str(ctx.facts.get("ui", ""))
    if ui and (flag := oom_flag(ui, 1.0)):
        return f"start {ctx.facts.get('ui_name', 'the UI')} with {flag}"
    return (
        "start the UI in its lowest memory mode (A1111/SD.Next: --lowvram; Forge: --always-low-vram; ComfyUI: --novram)"
    )


def _allocation_gib(facts: dict[str, str]) -> float:
    size, _, unit = facts.get("tried_to_allocate", "0 MiB").partition(" ")
    return float(size) / (1024 if unit == "MiB" else 1)


def _memory_mode_step(ctx: Context, facts: dict[str, str], model: str | None, vram: float | None) -> str:
    """The UI's low-VRAM flag for this card, or the next one down when the log shows that flag already in use."""
    ui = str(ctx.facts.get("ui", ""))
    flag = oom_flag(ui, vram) if vram is not None and ui else None
    in_use = facts.get("flags_in_use", "").split()
    if flag and flag in in_use:
        lower = oom_flag(ui, 1.0)
        if lower and lower not in in_use:
            return (
                f"{flag} is already on: start {ctx.facts.get('ui_name', 'the UI')} with {lower} instead (slower, "
                "but it keeps only the part being computed on the GPU)"
            )
        return f"{flag} is already on, so the job itself is too large: make it smaller"
    if flag:
        return f"start {ctx.facts.get('ui_name', 'the UI')} with {flag}"
    if model == "sdxl" and ui in ("a1111", ""):
        return "A1111: start with --medvram-sdxl (--lowvram on 4 GB); ComfyUI: --lowvram; Forge offloads by itself"
    return (
        "start the UI in its low-VRAM mode (A1111/SD.Next: --medvram, --lowvram on 4 GB; Forge: "
        "--always-offload-from-vram; ComfyUI: --lowvram)"
    )


def _resolution_steps(facts: dict[str, str]) -> list[str]:
    if "resolution" not in facts:
        return ["lower the resolution or batch size"]
    native = NATIVE.get(str(facts.get("model")))
    w, h = (int(v) for v in facts["resolution"].split("x"))
    if native and w * h > native * native * 1.1:
        return [
            f"generate at the model's native {native}x{native} and upscale afterwards (hires fix/tiled upscaling) "
            "instead of generating at full size"
        ]
    if w * h >= 1024 * 1024:
        return ["lower the resolution or use a tiled VAE decode (the VAE decode of large images is the peak)"]
    return ["lower the batch size"]


def _cpu_oom(ctx: Context, line, killed: bool = False) -> Finding:
    """The system's RAM ran out: an allocator's message, the kernel's OOM-killer line, or a process killed by SIGKILL
    (a shell's "Killed", exit status 137), which on a desktop is the OOM killer unless someone killed it by hand."""
    facts = {"device": "CPU"}
    entry = next((e for e in models() if e.id == _model(ctx)), None)
    how = (
        'the process was killed by SIGKILL (the shell\'s "Killed", exit status 137): with no one killing it by hand, '
        "that is the kernel's OOM killer ending the largest process when RAM and swap run out"
        if killed
        else "the kernel's OOM killer or the allocator stopped the process"
    )
    cause = f"The system ran out of RAM (not VRAM): {how}."
    if killer := OOM_KILLED.search(line.text):
        facts.update(process=killer["process"], rss=f"{int(killer['rss']) / 2**20:.1f} GiB")
        cause += f" It ended {killer['process']} (PID {killer['pid']}), which held {facts['rss']} of RAM (anon-rss)."
    if entry is not None:
        facts["model"] = entry.id
        cause += (
            f" Loading {entry.name} ({entry.weights_gb:g} GB of weights) needs about {entry.ram_gb_min:g} GB of RAM "
            "(a checkpoint briefly takes about twice its size while it is read and converted)."
        )
    else:
        cause += " Loading a checkpoint briefly needs about twice its size in RAM."
    windows = ctx.facts.get("log_os") == "windows"
    fix = fix_text("memory.out_of_ram", case="windows") if windows else fix_text("memory.out_of_ram")
    if killed:
        fix += " `journalctl -k | grep -i 'out of memory'` (or `sudo dmesg | grep -i oom`) confirms the OOM killer."
    return Finding(
        "cpu-out-of-memory",
        "The system ran out of RAM" + (f" loading {entry.name}" if entry else ""),
        cause,
        fix,
        [line],
        facts,
        [
            "https://www.kernel.org/doc/gorman/html/understand/understand016.html",
            "https://learn.microsoft.com/en-us/troubleshoot/windows-client/performance/introduction-to-the-page-file",
            "https://man7.org/linux/man-pages/man7/signal.7.html",
        ],
        confidence=0.8 if killed else CLASS_CONFIDENCE_CPU,
    )


def _sources(device: str) -> list[str]:
    if device == "MPS":
        return [MPS_SOURCE]
    if device == "DirectML":
        return [DIRECTML_SOURCE, *UI_FLAG_SOURCES]
    return [SOURCE, *UI_FLAG_SOURCES]
