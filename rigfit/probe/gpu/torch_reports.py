"""What bug templates make people paste about torch's view of a machine, read as the GPUs and driver it names:

- torch's `python -m torch.utils.collect_env` ("GPU models and configuration: GPU 0: NVIDIA ...", one "GPU N:" line a
  GPU below the key when there are several; on ROCm the device's name and its gfx, "AMD Radeon RX 7900 XTX
  (gfx1100)"; "Nvidia driver version: 551.88"; "HIP runtime version"; its "CPU:" section is lscpu's output), vLLM's
  copy of it (the same keys, or "Key   : value" under "=====" section titles), and A1111's sysinfo JSON, whose "Torch
  env info" holds the same fields by their names ("nvidia_gpu_models", "nvidia_driver_version");
- torch's out-of-memory message ("CUDA out of memory. ... GPU 0 has a total capacity of 47.53 GiB", before torch 2.1
  "GPU 0; 23.65 GiB total capacity"): that GPU's total memory, its maker from the build's word (CUDA or HIP);
- ComfyUI's start-up lines ("Total VRAM 24564 MB, total RAM ...", "Device: cuda:0 NVIDIA GeForce RTX 4090 : native")
  and its "System Information" block ("- **Name:** cuda:0 ...", "- **VRAM Total:** 25262096384", in bytes).

What is "Could not collect", "No CUDA", "N/A" or null stays unknown; a GPU on the paste's last line may be cut, so its
name is not trusted. Source: torch/utils/collect_env.py (env_info_fmt, get_gpu_info), ComfyUI's
comfy/model_management.py start-up prints.
"""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.app_devices import parse_app_devices
from rigfit.probe.gpu.llm_devices import parse_llm_devices
from rigfit.probe.gpu.paste import clean_lines
from rigfit.records import field, record

# the template's keys and A1111's JSON names for the same fields
_KEYS = {
    "gpu models and configuration": "gpus",
    "nvidia_gpu_models": "gpus",
    "nvidia driver version": "driver",
    "nvidia_driver_version": "driver",
    "pytorch version": "torch",
    "torch_version": "torch",
    "cuda used to build pytorch": "cuda_build",
    "cuda_compiled_version": "cuda_build",
    "rocm used to build pytorch": "rocm_build",
    "hip_compiled_version": "rocm_build",
    "hip runtime version": "hip_runtime",
    "hip_runtime_version": "hip_runtime",
    "is cuda available": "cuda_available",
    "is_cuda_available": "cuda_available",
    # a printed one-liner, labelled: print('torch.__version__:', torch.__version__), ... 'CUDA available:' ...
    "torch.__version__": "torch",
    "torch.version.cuda": "cuda_build",
    "torch.version.hip": "rocm_build",
    "cuda available": "cuda_available",
    "torch.cuda.is_available()": "cuda_available",
    "os": "os",
    "python platform": "platform",
    "python_platform": "platform",
}
# "Key: value", vLLM's "Key      : value", a JSON member '"key": "value",' (or a value cut at the paste's end)
_KEY_VALUE = later(r'^\s*"?(?P<key>[A-Za-z_][\w .()]*?)"?\s*:\s*(?P<value>.*?)\s*,?\s*$')
_DEPS_MEMBER = later(r'^\s*"(?P<key>[a-z_]+)":\s*(?P<value>"[^"]*"|null)\s*,?\s*$')
# the same one-liner unlabelled, print(torch.__version__, torch.version.cuda[, torch.version.hip],
# torch.cuda.is_available()): "2.6.0+cu124 12.4 False"; read only where the build tag and the CUDA version agree
# (cu124 with 12.4, a ROCm or CPU build with None), the shape no other output has
_PRINTED = later(
    r"^(?P<ver>\d+\.\d+\.\d+\+(?P<tag>cu\d{3}|rocm\d+(?:\.\d+)+|cpu)) (?P<cuda>\d+\.\d+|None)"
    r"(?: (?P<hip>\d+\.\d+\.[\w-]+|None))? (?P<available>True|False)$"
)
_UNKNOWN = ("could not collect", "no cuda", "n/a", "none", "null", "")
_GPU_LINE = later(r"^GPU (?P<idx>\d+): (?P<name>.+?)(?: \(UUID: [^)]*\))?$")
_UNNAMED_DEVICE = later(r"Device ([0-9a-fA-F]{4})")
_ROCM_NAME = later(r"^(?P<name>.+?) \((?P<gfx>gfx[0-9a-f]{3,4})(?::[^)]*)?\)$")
# ComfyUI: "Device: cuda:0 NVIDIA GeForce RTX 4090 : native" (or ": cudaMallocAsync"), "Total VRAM 24564 MB, ..."
_COMFY_DEVICE = later(r"^(?:Device:|- \*\*Name:\*\*)\s+cuda:(?P<idx>\d+)\s+(?P<name>.+?)\s+:\s+\S+$")
_COMFY_TOTAL_MB = later(r"^Total VRAM (?P<mb>\d+) MB\b")
_COMFY_TOTAL_BYTES = later(r"^\s*- \*\*VRAM Total:\*\*\s+(?P<bytes>\d+)\s*$")
# ComfyUI-Manager's "** Platform: Windows", the System Information's "- **OS:** nt"
_COMFY_WINDOWS = later(r"^(?:\*\* Platform: Windows|- \*\*OS:\*\* nt)\s*$")
_COMFY_ARCH = later(r"^AMD arch: (?P<gfx>gfx[0-9a-f]{3,4})\b")
_COMFY_ROCM = later(r"^ROCm version: \((?P<major>\d+), (?P<minor>\d+)\)")
# torch's allocator (c10/cuda/CUDACachingAllocator.cpp): "CUDA out of memory. Tried to allocate 48.00 MiB. GPU 0 has a
# total capacity of 47.53 GiB of which ..." (torch >= 2.1), "... (GPU 0; 23.65 GiB total capacity; ..." (older);
# a ROCm build says "HIP out of memory"
_OOM_TOTAL = later(
    r"\b(?P<api>CUDA|HIP) out of memory\. Tried to allocate [\d.]+ [KMG]iB.*?\bGPU (?P<idx>\d+)"
    r"(?: has a total capacity of |; )(?P<gib>[\d.]+) GiB(?: of which|\s+total capacity)"
)
# ComfyUI 2026's comfy_kitchen lines (comfy/quant_ops.py logs ck.list_backends() at import): the hip backend's
# "PyTorch ROCm/HIP runtime not available" is comfy_kitchen's reason when torch.version.hip is unset (not a ROCm
# torch); the cuda backend registers (available) only when torch.cuda.is_available(), else "CUDA not available on this
# system"; ComfyUI's own warning is printed when torch.version.cuda is below 13 (a CUDA torch older than cu130)
_KITCHEN = later(
    r"\bFound comfy_kitchen backend (?P<name>\w+): \{'available': (?P<available>True|False), 'disabled': "
    r"(?:True|False), 'unavailable_reason': (?P<reason>None|'[^']*'|\"[^\"]*\")"
)
_KITCHEN_NOT_ROCM = "'PyTorch ROCm/HIP runtime not available'"
_KITCHEN_NO_CUDA = "'CUDA not available on this system'"
_CU130_WARNING = later(r"\bYou need pytorch with cu130 or higher to use optimized CUDA operations\b")
_COMFY_TORCH = later(r"^(?:pytorch version:|- \*\*PyTorch Version:\*\*)\s+(?P<ver>\S+)")
_VENDORS = (
    ("10de", ("nvidia", "geforce", "quadro", "tesla", "titan")),
    ("1002", ("amd", "radeon", "instinct")),
    ("8086", ("intel", " arc ")),
)


@record
class ReportedGpu:
    index: int | None = None
    name: str | None = None  # None when the paste cut it
    vendor_id: str | None = None  # "10de", "1002", "8086"
    gfx: str | None = None  # ROCm's "(gfx1100)"
    device_id: str | None = None  # ROCm 3's "Device 66a1": the PCI device id, no name
    memory_total_mib: int | None = None  # ComfyUI's total VRAM
    compute_capability: str | None = None  # "12.0" where an app's device line prints it
    bdf: str | None = None
    integrated: bool | None = None  # ggml's Vulkan "uma: 1", ollama's "type=iGPU"


@record
class TorchReport:
    gpus: list[ReportedGpu] = field(default_factory=list)
    nvidia_driver: str | None = None
    cuda_driver: str | None = None  # the newest CUDA the driver runs, as ollama prints it ("driver=12.2")
    torch_version: str | None = None
    cuda_build: str | None = None
    rocm_build: str | None = None
    hip_runtime: str | None = None
    cuda_available: bool | None = None
    build_listed: bool = False  # collect_env's "CUDA/ROCM used to build PyTorch" lines: both unknown = a CPU build
    windows: bool = False
    wsl: bool = False
    cpu_lines: list[str] = field(default_factory=list)  # collect_env's "CPU:" section: lscpu's output (Linux)
    torch_cc_min: str | None = None  # torch's capability warning: the range it supports (rigfit.probe.gpu.app_devices)
    torch_cc_max: str | None = None
    torch_archs: list[str] = field(default_factory=list)
    torch_rejects: list[str] = field(default_factory=list)  # "12.0": the capabilities torch says it cannot run
    cuda_below: str | None = None  # ComfyUI's cu130 warning: a CUDA torch older than this CUDA ("13.0")
    not_rocm: bool = False  # comfy_kitchen's hip backend: torch.version.hip is unset


def _known(value: str) -> str | None:
    value = value.strip().strip('"').strip()
    return None if value.lower() in _UNKNOWN else value


def _vendor(name: str, report: TorchReport) -> str | None:
    low = f" {name.lower()} "
    named = next((v for v, words in _VENDORS if any(w in low for w in words)), None)
    return named or ("1002" if report.rocm_build else "10de" if report.cuda_build else None)


def _gpu(item: str, report: TorchReport, cut: bool) -> ReportedGpu | None:
    """One "GPU N: name" or ROCm "name (gfxNNNN)" item; a cut last item keeps its vendor, not its name."""
    item = item.strip().strip('"')
    listed = _GPU_LINE.match(item)
    index, name = (int(listed["idx"]), listed["name"]) if listed else (None, item)
    rocm = _ROCM_NAME.match(name)
    gfx = rocm["gfx"] if rocm and not cut else None
    name = rocm["name"] if rocm else name
    unnamed = _UNNAMED_DEVICE.fullmatch(name)
    if unnamed:  # ROCm 3 builds print the device id lspci could not name: "Device 66a1"
        return ReportedGpu(index=index, vendor_id=_vendor("", report), device_id=None if cut else unnamed[1].lower())
    if _known(name) is None:
        return None
    return ReportedGpu(index=index, name=None if cut else name, vendor_id=_vendor(name, report), gfx=gfx)


def _gpu_items(first: str, rest: list[str]) -> list[str]:
    """The value on the key's line, or the "GPU N:" lines below it (A1111's JSON writes them as one "\\n"-joined
    string)."""
    items = [i for i in first.replace("\\n", "\n").splitlines() if i.strip()]
    for line in rest:
        if not _GPU_LINE.match(line.strip()):
            break
        items.append(line.strip())
    return items


# Windows: collect_env prints Win32_Processor's properties ("Name: ...", "Manufacturer: GenuineIntel", "Architecture:
# 9"), read as the lscpu lines they stand for. Architecture codes: Microsoft's Win32_Processor class documentation
# (0 x86, 5 ARM, 9 x64, 12 ARM64); the other properties (clock, L2 cache) are not what rigfit reads.
_WMI_LABELS = {"Name": "Model name", "Manufacturer": "Vendor ID", "Architecture": "Architecture"}
_WMI_ARCHITECTURES = {"0": "i686", "5": "armv7l", "9": "x86_64", "12": "aarch64"}


def _cpu_section(lines: list[str]) -> list[str]:
    """The lines under collect_env's "CPU:" up to the next blank line or section, as lscpu lines."""
    out: list[str] = []
    for line in lines:
        if not line.strip() or line.startswith(("Versions of relevant libraries", "=====")):
            break
        out.append(line)
    return _wmi_as_lscpu(out) if out and out[0].startswith("Name: ") else out


def _wmi_as_lscpu(lines: list[str]) -> list[str]:
    """Windows' "Name: AMD Ryzen 5 9600X 6-Core Processor" form as lscpu's "Model name:" (and vendor, arch)."""
    out = []
    for line in lines:
        key, _, value = line.partition(":")
        value = value.strip()
        label = _WMI_LABELS.get(key.strip())
        if key.strip() == "Architecture":
            value = _WMI_ARCHITECTURES.get(value, "")
        if label and value and value != "None":
            out.append(f"{label}: {value}")
    return out


# collect_env prints str(torch.cuda.is_available()); any other value (a cut "Tr") is no answer
_ANSWERS = {"true": True, "yes": True, "false": False, "no": False}


def _field(report: TorchReport, key: str, value: str) -> None:
    if value.startswith('"') and (len(value) < 2 or not value.endswith('"')):
        return  # a JSON string without its closing quote was cut by the paste's end: "2.1.2+cu1" is no version
    known = _known(value)
    if key == "driver":
        report.nvidia_driver = known if known and re.fullmatch(r"\d+\.\d+(?:\.\d+)?", known) else None
    elif key == "cuda_available" and known and known.lower() in _ANSWERS:
        report.cuda_available = _ANSWERS[known.lower()]  # "Tr" (cut by the paste's end) stays unknown, never False
    elif key in ("torch", "cuda_build", "rocm_build", "hip_runtime"):
        setattr(report, {"torch": "torch_version"}.get(key, key), known)
        report.build_listed = report.build_listed or key in ("cuda_build", "rocm_build")
    elif key in ("os", "platform") and known:
        report.windows = report.windows or known.startswith(("Microsoft Windows", "Windows-"))
        report.wsl = report.wsl or "microsoft-standard-WSL" in known


def _collect_env(lines: list[str], report: TorchReport) -> None:
    """torch's, vLLM's and A1111's renderings of collect_env's fields."""
    last = max((n for n, ln in enumerate(lines) if ln.strip()), default=0)
    for pos, line in enumerate(lines):
        if line.strip() == "CPU:":
            report.cpu_lines = _cpu_section(lines[pos + 1 :])
            continue
        pair = _KEY_VALUE.match(line)
        key = _KEYS.get(pair["key"].strip().lower()) if pair else None
        if pair is None or key is None:
            continue
        if key != "gpus":
            _field(report, key, pair["value"])
            continue
        items = _gpu_items(pair["value"], lines[pos + 1 :])
        ends_paste = pos + len(items) - (1 if pair["value"].strip() else 0) >= last
        for n, item in enumerate(items):
            gpu = _gpu(item, report, cut=ends_paste and n == len(items) - 1)
            if gpu:
                report.gpus.append(gpu)


def _comfyui(lines: list[str], report: TorchReport) -> None:
    """ComfyUI's start-up lines or its System Information block: the device torch uses and its total VRAM."""
    total_mib: int | None = None
    gfx: str | None = None
    for line in lines:
        mb, raw, torch = _COMFY_TOTAL_MB.match(line), _COMFY_TOTAL_BYTES.match(line), _COMFY_TORCH.match(line)
        device = _COMFY_DEVICE.match(line.strip())
        if mb or raw:
            total_mib = int(mb["mb"]) if mb else int(raw["bytes"]) // 2**20 if raw else None
            if report.gpus and report.gpus[-1].memory_total_mib is None:
                report.gpus[-1].memory_total_mib = total_mib
        if torch:
            report.torch_version = report.torch_version or torch["ver"]
        report.windows = report.windows or bool(_COMFY_WINDOWS.match(line))
        arch, rocm = _COMFY_ARCH.match(line), _COMFY_ROCM.match(line)
        gfx = arch["gfx"] if arch else gfx
        report.rocm_build = report.rocm_build or (f"{rocm['major']}.{rocm['minor']}" if rocm else None)
        if device and not _seen_device(report, int(device["idx"]), device["name"]):
            name = device["name"]
            report.gpus.append(
                ReportedGpu(int(device["idx"]), name, _vendor(name, report), gfx=gfx, memory_total_mib=total_mib)
            )
    if total_mib and not report.gpus and (report.torch_version or "").split("+")[-1].startswith("cu"):
        report.gpus.append(ReportedGpu(index=0, vendor_id="10de", memory_total_mib=total_mib))


def _seen_device(report: TorchReport, index: int, name: str) -> bool:
    """A start-up printed again (the UI restarted, a restart loop, the log pasted twice) names the same device with
    the same index: one card, not two. Two cards in one process have different cuda:N indexes."""
    return any(g.index == index and g.name == name for g in report.gpus)


def _app_devices(lines: list[str], report: TorchReport) -> None:
    """SD.Next's, InvokeAI's, OneTrainer's, a launcher's or torch's own device lines (rigfit.probe.gpu.app_devices)."""
    found = parse_app_devices(lines)
    report.nvidia_driver = report.nvidia_driver or found.driver
    report.torch_version = report.torch_version or found.torch_version
    report.torch_cc_min, report.torch_cc_max, report.torch_archs, report.torch_rejects = (
        found.torch_cc_min,
        found.torch_cc_max,
        found.torch_archs,
        found.torch_rejects,
    )
    for d in found.devices:
        vendor = _vendor(d.name or "", report) or ("10de" if d.compute_capability else None)
        report.gpus.append(
            ReportedGpu(
                d.index,
                d.name,
                vendor,
                memory_total_mib=d.memory_total_mib,
                compute_capability=d.compute_capability,
                bdf=d.bdf,
            )
        )


def _llm_devices(lines: list[str], report: TorchReport) -> None:
    """ollama's and llama.cpp's device lines (rigfit.probe.gpu.llm_devices)."""
    found = parse_llm_devices(lines)
    report.cuda_driver = report.cuda_driver or found.cuda_version
    for n, d in enumerate(found.devices):
        vendor = d.vendor_id or _vendor(d.name or "", report)
        report.gpus.append(
            ReportedGpu(
                n,
                d.name,
                vendor,
                gfx=d.gfx,
                device_id=d.device_id,
                memory_total_mib=d.memory_total_mib,
                compute_capability=d.compute_capability,
                bdf=d.bdf,
                integrated=d.integrated,
            )
        )


def _invoke_deps(lines: list[str], report: TorchReport) -> bool:
    """InvokeAI's dependency JSON ("torch": "2.4.1+cu121", "cuda": "12.1"): the torch and the CUDA it was built with
    (null on a ROCm or CPU build; the build tag says which). Only with its other members: a JSON "torch" alone is
    any program's."""
    members: dict[str, str] = {m["key"]: m["value"] for ln in lines if (m := _DEPS_MEMBER.match(ln))}
    if not {"diffusers", "torch"} <= members.keys():
        return False
    report.torch_version = report.torch_version or _known(members["torch"])
    report.cuda_build = report.cuda_build or _known(members.get("cuda", ""))
    return report.torch_version is not None


def _printed(line: str) -> re.Match[str] | None:
    """The unlabelled one-liner's line, when its build tag and CUDA version agree."""
    found = _PRINTED.match(line.strip())
    if found is None:
        return None
    tag, cuda = found["tag"], found["cuda"]
    agrees = cuda == f"{tag[2:-1]}.{tag[-1]}" if tag.startswith("cu") else cuda == "None"
    return found if agrees else None


def _printed_torch(lines: list[str], report: TorchReport) -> None:
    """The one-liner's torch: version, build and whether it sees a GPU."""
    for line in lines:
        if found := _printed(line):
            report.torch_version = report.torch_version or found["ver"]
            report.cuda_available = found["available"] == "True"
            report.build_listed = True
            return


def _labelled_torch(lines: list[str]) -> bool:
    """A printed torch version and its "CUDA available" answer, labelled (not a collect_env: it lists GPUs)."""
    keys = {_KEYS.get(pair["key"].strip().lower()) for ln in lines if (pair := _KEY_VALUE.match(ln))}
    return {"torch", "cuda_available"} <= keys


def is_torch_report(lines: list[str]) -> bool:
    app = parse_app_devices(lines)
    if app.devices or app.torch_version or parse_llm_devices(lines).devices:
        return True
    if any(_printed(ln) for ln in lines) or _labelled_torch(lines) or _invoke_deps(lines, TorchReport()):
        return True
    if any(_OOM_TOTAL.search(ln) or _KITCHEN.search(ln) or _CU130_WARNING.search(ln) for ln in lines):
        return True
    return any(_COMFY_TOTAL_MB.match(ln) or _COMFY_DEVICE.match(ln.strip()) for ln in lines) or any(
        (pair := _KEY_VALUE.match(ln)) is not None and _KEYS.get(pair["key"].strip().lower()) == "gpus" for ln in lines
    )


def parse_torch_report(text: str | None) -> TorchReport | None:
    """The GPUs and versions a collect_env / sysinfo / ComfyUI paste names; None for any other text."""
    lines = clean_lines(text)
    if not is_torch_report(lines):
        return None
    report = TorchReport()
    _collect_env(lines, report)
    _printed_torch(lines, report)
    _invoke_deps(lines, report)
    _comfy_kitchen(lines, report)
    if not report.gpus:
        _comfyui(lines, report)
    if not report.gpus:
        _app_devices(lines, report)
    if not report.gpus:
        _llm_devices(lines, report)
    if not report.gpus:
        _oom_device(lines, report)
    return report


def _oom_device(lines: list[str], report: TorchReport) -> None:
    """The GPU torch's out-of-memory message names, with its total memory (its model stays unknown)."""
    for line in lines:
        if found := _OOM_TOTAL.search(line):
            vendor = "1002" if found["api"] == "HIP" else "10de"
            mib = round(float(found["gib"]) * 1024)
            report.gpus.append(ReportedGpu(index=int(found["idx"]), vendor_id=vendor, memory_total_mib=mib))
            return


def _comfy_kitchen(lines: list[str], report: TorchReport) -> None:
    """What ComfyUI's comfy_kitchen lines say of the torch: not a ROCm build, whether it sees a GPU, a CUDA below 13."""
    for line in lines:
        if _CU130_WARNING.search(line):
            report.cuda_below = "13.0"
        found = _KITCHEN.search(line)
        if found is None:
            continue
        if found["name"] == "hip" and found["reason"] == _KITCHEN_NOT_ROCM:
            report.not_rocm = True
        if found["name"] == "cuda" and report.cuda_available is None:
            available = found["available"] == "True"
            if available or found["reason"] == _KITCHEN_NO_CUDA:
                report.cuda_available = available
