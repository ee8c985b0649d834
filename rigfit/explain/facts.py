"""The facts an explanation is written with: what the log says about its machine, then what the profile says.

A fact the log states (the gfx in a rocminfo dump, the VRAM in an OOM message, the UI in a traceback path) wins over
the profile, because the log may come from another machine than the one rigfit runs on. Unknown stays None.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from rigfit.explain.literals import lines_from_start, lines_holding, lines_that_may_match
from rigfit.explain.scan import LogScan
from rigfit.kb.loader import KbError, by_id, load_entries
from rigfit.kb.torch_source import isa_target_for, rocm_source_build
from rigfit.kb.xformers import xformers_for_torch
from rigfit.plan.knowledge import oom_flag
from rigfit.probe.cpu_text import flag_present, parse_lscpu
from rigfit.probe.profile import GpuInfo, Profile

Facts = dict[str, Any]

UI_NAMES = {
    "a1111": "AUTOMATIC1111 stable-diffusion-webui",
    "forge": "Stable Diffusion WebUI Forge",
    "comfyui": "ComfyUI",
    "sdnext": "SD.Next",
    "fooocus": "Fooocus",
    "invokeai": "InvokeAI",
}
# (ui, regex over the log's interesting lines); the first UI with a hit wins, so forks come before their parents
UI_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (ui, re.compile(pattern, re.I))
    for ui, pattern in (
        ("forge", r"webui[-_]forge|[\\/]forge[\\/]|\bforge\b"),
        ("sdnext", r"sdnext|vladmandic|[\\/]automatic[\\/]"),
        ("fooocus", r"fooocus"),
        ("invokeai", r"invokeai"),
        ("comfyui", r"comfyui|[\\/]comfy[\\/]|custom_nodes|comfy_extras"),
        (
            "a1111",
            r"stable-diffusion-webui|launching web ui|[\\/](?:webui|launch)\.py|[\\/]modules[\\/]"
            r"(?:devices|processing|sd_\w+|launch_utils|initialize|shared|ui|txt2img|img2img|call_queue|errors)\.py",
        ),
    )
)
# the labels of a CPU's model and flags in a pasted lscpu or /proc/cpuinfo: English, and German lscpu
# (kb/lscpu_labels.yaml); parse_lscpu reads the rest
CPU_LABELS = ("model name", "flags", "modellname", "markierungen")
LOG_FACT_KEYWORDS = (
    "forge", "webui_forge", "sdnext", "vladmandic", "automatic", "fooocus", "invokeai", "comfyui", "comfy",
    "custom_nodes", "stable-diffusion-webui", "launching web ui", "webui.py", "launch.py", "modules", "gfx",
    "driver version", "use-zluda", "zluda", "directml", "use-directml", "torch_directml", "torch-directml",
    "use-ipex", "intel_extension_for_pytorch", "ipex", *CPU_LABELS,
)  # fmt: skip
GFX = re.compile(r"\b(gfx\d{3,4}[a-z]?)\b", re.I)
# the OS a traceback ran on, from its file paths: /Users/name/... (macOS), C:\... (Windows), /home/... (Linux)
LOG_OS = (
    ("macos", re.compile(r"(?:^|[\s\"'(])/Users/[^/\s]+/|/Library/Frameworks/Python\.framework/")),
    ("windows", re.compile(r"(?:^|[\s\"'(])[A-Za-z]:\\|\bpython\.exe\b|[\\/]Scripts[\\/]|win_amd64")),
    ("linux", re.compile(r"(?:^|[\s\"'(])/(?:home|root|usr/lib|opt/conda)/")),
)
# the route the log's torch takes to a GPU that is not reached through CUDA or ROCm on Linux: the launcher flags,
# folders and device suffixes of ZLUDA, DirectML and Intel's XPU/IPEX (vladmandic/sdnext:installer.py,
# lshqqytiger/stable-diffusion-webui-amdgpu); ZLUDA first, as its forks also carry DirectML in their names
GPU_ROUTE = (
    ("zluda", re.compile(r"--use-zluda|[\\/]\.zluda\b|\[ZLUDA\]|\bZLUDA (?:support|load|device)")),
    ("directml", re.compile(r"--use-directml|--directml\b|torch[_-]directml|webui-directml\b", re.I)),
    ("ipex", re.compile(r"--use-ipex|intel_extension_for_pytorch|\bIPEX\b|\+xpu\b")),
)
NVIDIA_SMI = re.compile(r"Driver Version:\s*(?P<driver>[\d.]+)(?:.*CUDA Version:\s*(?P<cuda>\d+\.\d+))?", re.I)


def log_facts(scan: LogScan) -> Facts:
    """Facts stated by the log itself: UI, gfx, NVIDIA driver. The lines are read in line-number order, as the
    analyzers read them (one lower-cased copy of 20,000 kept lines serves both); the first gfx and driver lines are
    the first kept, as before."""
    kept = list(scan.lines.values())
    order = sorted(range(len(kept)), key=[line.number for line in kept].__getitem__)
    lines = [kept[position].text for position in order]
    facts: Facts = {}
    for ui, marker in UI_MARKERS:
        if any(marker.search(lines[i]) for i in lines_from_start(marker, lines)):
            facts["ui"] = ui
            break
    for os_name, pattern in LOG_OS:
        if any(pattern.search(lines[i]) for i in lines_from_start(pattern, lines)):
            facts["log_os"] = os_name
            break
    for route, pattern in GPU_ROUTE:
        if any(pattern.search(lines[i]) for i in lines_from_start(pattern, lines)):
            facts["gpu_route"] = route
            break
    facts.update(_pasted_cpu(lines))
    if gfx := _first_match(GFX, lines, order):
        facts["gfx"] = gfx.group(1).lower()
    if smi := _first_match(NVIDIA_SMI, lines, order):
        facts["nvidia_driver"] = smi.group("driver")
        if smi.group("cuda"):
            facts["driver_cuda"] = smi.group("cuda")
    return facts


def _pasted_cpu(lines: list[str]) -> Facts:
    """The CPU of an lscpu or /proc/cpuinfo pasted with the log: its model, and what its x86 flags line says of
    SSE4.2, AVX and AVX2 (only a flags line that is an x86 CPU's, complete or cut past where the flag would be)."""
    labelled = (lines[i] for i in lines_holding(CPU_LABELS, lines))
    text = "\n".join(line for line in labelled if line.lstrip().lower().startswith(CPU_LABELS) and ":" in line)
    if not text:
        return {}
    cpu = parse_lscpu(text)
    facts: Facts = {"cpu_model": cpu.model} if cpu.model else {}
    if cpu.isa == "x86" and cpu.flags:
        have = set(cpu.flags)
        for fact, flag in (("cpu_sse4_2", "sse4_2"), ("cpu_avx", "avx"), ("cpu_avx2", "avx2")):
            if (present := flag_present(flag, have, cpu.flags_complete)) is not None:
                facts[fact] = present
    return facts


def _first_match(pattern: re.Pattern[str], lines: list[str], kept: list[int]) -> re.Match[str] | None:
    """The match of `pattern` in the first kept line it matches (`kept[i]`: when `lines[i]` was kept); only the
    lines holding its literals are tried."""
    found = [(kept[i], m) for i in lines_that_may_match(pattern, lines) if (m := pattern.search(lines[i]))]
    return min(found, key=lambda hit: hit[0])[1] if found else None


def profile_facts(profile: Profile | None) -> Facts:
    """Facts from the machine profile (all None when there is no profile)."""
    if profile is None:
        return {}
    cpu, perms = profile.cpu, profile.permissions
    gpu = main_gpu(profile.gpus)
    facts: Facts = {
        "cpu_model": cpu.model,
        "cpu_avx": cpu.avx,
        "cpu_avx2": cpu.avx2,
        "cpu_sse4_2": cpu.sse4_2,
        "cpu_x86_level": cpu.x86_64_level,
        "cpu_missing": missing_cpu_feature(profile),
        "cpu_isa": isa.id if (isa := isa_target_for(cpu.flags)) else None,
        "rocm_version": profile.rocm.version,
        "kfd_access": profile.kfd_access or perms.kfd_access,
        "in_render_group": None if perms.groups is None else "render" in perms.groups,
        "user_groups": None if perms.groups is None else ", ".join(perms.groups),
        "container": profile.python.container,
        "nvidia_driver": profile.nvidia_driver,
        "driver_cuda": profile.cuda_driver_version,
    }
    if gpu is not None:
        vram = gpu.vram_bytes / 2**30 if gpu.vram_bytes else None
        facts.update(gpu_vendor=gpu.vendor, gpu_name=gpu.name, gfx=gpu.gfx, cc=gpu.compute_capability, vram_gib=vram)
    return facts


def main_gpu(gpus: list[GpuInfo]) -> GpuInfo | None:
    """The GPU SD would run on: a discrete AMD/NVIDIA card with the most VRAM, else the first one."""
    usable = [g for g in gpus if g.vendor in ("amd", "nvidia") and not g.integrated]
    return max(usable, key=lambda g: g.vram_bytes or 0) if usable else (gpus[0] if gpus else None)


def missing_cpu_feature(profile: Profile) -> str | None:
    """The first instruction-set extension prebuilt wheels assume that this x86 CPU lacks."""
    cpu = profile.cpu
    if cpu.arch not in (None, "x86_64"):
        return None
    for name, present in (("SSE4.2", cpu.sse4_2), ("AVX", cpu.avx), ("AVX2", cpu.avx2)):
        if present is False:
            return name
    return None


def merge_facts(log: Facts, profile: Facts, groups: Facts) -> Facts:
    """Named groups of the matched patterns, then the log, then the profile; derived facts last."""
    facts: Facts = {k: v for k, v in profile.items() if v is not None}
    facts.update({k: v for k, v in log.items() if v is not None})
    facts.update({k: v for k, v in groups.items() if v is not None})
    if isinstance(facts.get("vram_gib"), str):
        facts["vram_gib"] = _number(facts["vram_gib"])
    facts["ui_name"] = UI_NAMES.get(facts.get("ui", ""), "your UI")
    if facts.get("vram_gib") is not None and (flag := oom_flag(str(facts.get("ui", "")), float(facts["vram_gib"]))):
        facts["lowvram_flag"] = flag  # uis.yaml oom_flags: one source of truth with the planner
    _derive_gpu_facts(facts)
    if code := facts.get("driver_code"):
        facts["driver_cuda"] = cuda_from_driver_code(str(code)) or facts.get("driver_cuda")
    if facts.get("driver_cuda") and (wheel := driver_wheel(str(facts["driver_cuda"]))):
        facts["driver_wheel"] = wheel
    if facts.get("torch_have") and (xformers := xformers_for_torch(str(facts["torch_have"]))):
        facts["xformers_match"] = xformers.id  # the xformers release built for the torch the log shows
    return {k: v for k, v in facts.items() if v is not None}


def _derive_gpu_facts(facts: Facts) -> None:
    """The override for the card's gfx, and the no-AVX build recipe `rigfit plan` prints too (one KB entry)."""
    if facts.get("gfx"):
        facts["gfx"] = str(facts["gfx"]).lower()
        if override := gfx_override(facts["gfx"]):
            facts["override"] = override
        facts.setdefault("gpu_vendor", "amd")
    if facts.get("cpu_avx") is False and facts.get("gpu_vendor") == "amd" and facts.get("gfx"):
        facts["build_torch"] = rocm_source_build(facts.get("cpu_isa"), facts["gfx"], facts.get("rocm_version"))


def driver_wheel(driver_cuda: str) -> str | None:
    """Newest official torch CUDA variant a driver runs: CUDA minor-version compatibility within a major."""
    major = _number(driver_cuda.split(".")[0])
    return {11: "cu118", 12: "cu126", 13: "cu130"}.get(int(major)) if major is not None else None


def cuda_from_driver_code(code: str) -> str | None:
    """torch prints the driver's CUDA version as 11040 (11.4)."""
    return f"{int(code) // 1000}.{int(code) % 1000 // 10}" if code.isdigit() else None


@functools.cache
def _overrides() -> dict[str, str]:
    try:
        from rigfit.kb.schemas import GfxTarget

        return {gfx: e.override for gfx, e in by_id(load_entries("rocm.yaml", GfxTarget)).items() if e.override}
    except (ImportError, KbError):
        return {}


def gfx_override(gfx: str) -> str | None:
    """HSA_OVERRIDE_GFX_VERSION for a gfx the official wheels do not ship, from rigfit/kb/rocm.yaml."""
    return _overrides().get(gfx)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


__all__ = ["LOG_FACT_KEYWORDS", "UI_NAMES", "Facts", "log_facts", "merge_facts", "profile_facts"]
