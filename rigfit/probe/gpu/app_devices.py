"""The device lines SD UIs, trainers and torch itself print about the GPU torch uses, read as GPUs and a driver:

- kohya_ss's and SD.Next's installer (setup_common.py / installer.py): "Torch detected GPU: NVIDIA GeForce RTX 3090
  VRAM 24150 Arch (8, 6) Cores 82", one line per device (no index; VRAM is total_memory in MiB; rich wraps the line
  onto an indented next line), and "Torch 2.1.2+cu118" before them;
- SD.Next: "Device: device=NVIDIA GeForce RTX 5090 n=1 arch=sm_90 capability=(12, 0) cuda=12.6 cudnn=90501" with
  "driver=576.02" on the same or the wrapped next line;
- InvokeAI: "[...]::[InvokeAI]::INFO --> Using torch device: NVIDIA GeForce RTX 4090" ("CPU"/"MPS" are no GPU); with
  several GPUs a list, "Using torch device: [AMD Radeon RX 7900 XTX (cuda:0), AMD Radeon 760M Graphics (cuda:1)]";
- OneTrainer's debug report: "NVIDIA GPU (Index 0): NVIDIA GeForce RTX 3060 [NVIDIA]", then "    Driver version: ...";
- nvtop's text screen: "Device 0 [NVIDIA GeForce RTX 4090] PCIe GEN ..." and its "MEM[... 0.349Gi/23.988Gi]" gauge
  (rigfit.probe.gpu.nvtop);
- a launcher's diagnostic file: "CUDA Driver:" device rows "00000000:01:00.0 0: NVIDIA GeForce RTX 4090 [89] 23 GB";
- torch's own warnings: "Found GPU0 NVIDIA GeForce GTX 1060 which is of cuda capability 6.1.", "NVIDIA GeForce RTX 5080
  with CUDA capability sm_120 is not compatible with the current PyTorch installation." (torch/cuda/__init__.py), and
  the range of capabilities they say the installed torch supports.

The name is what torch.cuda.get_device_name() printed; a capability is kept only where the line prints it. A rounded
"23 GB" is not a VRAM size. Sources (the line shapes as printed): vladmandic/sdnext#3896, invoke-ai/InvokeAI#9444,
Nerogar/OneTrainer#732, kijai/ComfyUI-FluxTrainer#160, Haoming02/sd-webui-forge-classic#831 and torch's capability
warnings (tests/fixtures/SOURCES.md: round heldd13 and the cuda-cc-too-old logs).
"""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.gpu.nvtop import parse_nvtop
from rigfit.records import field, record

_SDNEXT = later(
    r"\bDevice: device=(?P<name>.+?) n=(?P<n>\d+)\b.*?\bcap(?:ability)?=\((?P<major>\d+), (?P<minor>\d+)\)(?P<rest>.*)$"
)
_DRIVER_KV = later(r"(?:^|\s)driver=(?P<ver>\d+\.\d+(?:\.\d+)?)\b")
# kohya_ss up to v24 prints "VRAM 24150 Arch (8, 6)", v25 "VRAM 7867MB Arch 8.6" (the unit glued, the pair dotted)
_DETECTED = later(
    r"\bTorch detected GPU: (?P<name>.+?) VRAM (?P<vram>\d+)(?:\s?MB)?\b"
    r"(?:\s+Arch (?:\((?P<major>\d+), (?P<minor>\d+)\)|(?P<dmajor>\d+)\.(?P<dminor>\d+)\b))?"
)
_TORCH_INSTALLER = later(r"\b(?:INFO|DEBUG)\s+Torch (?P<ver>\d+\.\d+\.\d+(?:\+[\w.]+)?)\s*$")
_CONTINUATION = later(r"^\s{8,}\S")
_INVOKE = later(r"\bUsing torch device: (?P<name>.+?)\s*$")
_INVOKE_LISTED = later(r"(?P<name>[^,\[\]]+?) \((?:cuda|xpu|mps):(?P<idx>\d+)\)")
_ONETRAINER = later(r"^(?:NVIDIA|AMD|Intel) GPU \(Index (?P<idx>\d+)\): (?P<name>.+?)(?: \[\w+\])?\s*$")
_DRIVER_LINE = later(r"^\s+Driver version: (?P<ver>\d+\.\d+(?:\.\d+)?)\s*$")
_CUDA_DRIVER_ROW = later(
    r"^\s*(?P<bdf>[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]) (?P<idx>\d+): (?P<name>.+?) "
    r"\[(?P<major>\d{1,2})(?P<minor>\d)\](?: \d+ GB)?\s*$"
)
_TORCH_FOUND = later(
    r"\bFound GPU(?P<idx>\d+) (?P<name>.+?) which is of (?:cuda|compute) capability (?:\(CC\) )?"
    r"(?P<major>\d+)\.(?P<minor>\d+)"
)
# the range torch's warnings name: "The minimum cuda capability supported by this library is 3.7." (torch < 2.6),
# "Minimum and Maximum cuda capability supported by this version of PyTorch is" + "(7.5) - (12.0)" on the next line,
# "The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70." (a list cut before its "." is not read)
_TORCH_MIN = later(r"(?i)\bminimum cuda capability supported by this library is (?P<min>\d+\.\d+)")
_TORCH_MIN_MAX = later(r"^\s*\((?P<min>\d+\.\d+)\)\s*-\s*\((?P<max>\d+\.\d+)\)\s*$")
_TORCH_ARCHS = later(r"\bThe current PyTorch install supports CUDA capabilities (?P<archs>sm_\d+(?: sm_\d+)*)\.")
_NOT_A_GPU = ("cpu", "mps", "xpu", "cuda", "")
# torch >= 1.8: "NVIDIA GeForce RTX 5080 Laptop GPU with CUDA capability sm_120 is not compatible with the current
# PyTorch installation." (no index: the name is the GPU's, the same card as a "Found GPU0" line naming it)
_TORCH_INCOMPATIBLE = later(
    r"(?:^|:\s+)(?P<name>(?:NVIDIA |GeForce |Quadro |Tesla |TITAN )[^:]*?) with CUDA capability "
    r"sm_(?P<sm>\d+) is not compatible with the current PyTorch installation"
)
# the name the NVIDIA driver gives a board its name table does not know yet (a new card on an older driver): no model
# (AUTOMATIC1111/stable-diffusion-webui#16972, an sm_120 card; tests/fixtures/SOURCES.md round heldd17)
_PLACEHOLDER_NAMES = ("NVIDIA Graphics Device",)
# ComfyUI with --directml N: "Using directml with device: AMD Radeon RX 6800" (model_management.py prints
# torch_directml.device_name(N); with the default index -1 the name is empty, and nothing is read)
_DIRECTML = later(r"\bUsing directml with device: (?P<name>\S.*?)\s*$")
_HINTS = (
    "Torch detected GPU",
    "Device: device=",
    "Found GPU",
    "with CUDA capability",
    "Using directml",
    "Using torch device:",
    "GPU (Index",
    "] ",
    "driver=",
)


@record
class AppDevice:
    index: int | None = None
    name: str | None = None
    compute_capability: str | None = None  # "12.0", only where the line prints it
    bdf: str | None = None
    memory_total_mib: int | None = None  # "VRAM 24150": torch's total_memory in MiB


@record
class AppDevices:
    devices: list[AppDevice] = field(default_factory=list)
    driver: str | None = None
    torch_cc_min: str | None = None  # the range of compute capabilities torch's own warning says it supports
    torch_cc_max: str | None = None
    torch_archs: list[str] = field(default_factory=list)  # "sm_50"...: the warning's list, where it is complete
    # the capabilities torch's "with CUDA capability sm_N is not compatible" says it has no kernels for ("12.0"):
    # read even where the warning is cut before its list of what it supports
    torch_rejects: list[str] = field(default_factory=list)
    torch_version: str | None = None  # an installer's "Torch 2.1.2+cu118" line


def _torch_range(lines: list[str], out: AppDevices) -> None:
    """The compute capabilities the installed torch supports, as its own warnings print them."""
    for pos, line in enumerate(lines):
        if "capabilit" not in line:
            continue
        if found := _TORCH_MIN.search(line):
            out.torch_cc_min = found["min"]
        elif "Minimum and Maximum cuda capability" in line and pos + 1 < len(lines):
            if pair := _TORCH_MIN_MAX.match(lines[pos + 1]):
                out.torch_cc_min, out.torch_cc_max = pair["min"], pair["max"]
        elif listed := _TORCH_ARCHS.search(line):
            out.torch_archs = listed["archs"].split()
        if (rejected := _TORCH_INCOMPATIBLE.search(line.strip())) is not None:
            cc = f"{rejected['sm'][:-1]}.{rejected['sm'][-1]}"
            out.torch_rejects += [cc] if cc not in out.torch_rejects else []


def _installer_device(lines: list[str], pos: int) -> AppDevice | None:
    """kohya_ss's / SD.Next's "Torch detected GPU: ..." line (rich may wrap it onto an indented next line)."""
    wrapped = pos + 1 < len(lines) and _CONTINUATION.match(lines[pos + 1])
    joined = lines[pos].rstrip() + (" " + lines[pos + 1].strip() if wrapped else "")
    detected = _DETECTED.search(joined)
    if detected is None:
        return None
    major, minor = detected["major"] or detected["dmajor"], detected["minor"] or detected["dminor"]
    cc = f"{major}.{minor}" if major else None
    return AppDevice(None, detected["name"].strip(), cc, memory_total_mib=int(detected["vram"]))


def _device(lines: list[str], pos: int, last: bool) -> tuple[AppDevice | None, str | None]:
    """The device one line names, and a driver it (or SD.Next's wrapped next line) prints. A name that ends the
    paste's last line may be cut: that line names no device."""
    line = lines[pos]
    if not any(hint in line for hint in _HINTS) and not line.rstrip().endswith("]"):
        return None, None
    if "Torch detected GPU" in line and (detected := _installer_device(lines, pos)):
        return detected, None
    if sdnext := _SDNEXT.search(line):
        tail = sdnext["rest"] + (" " + lines[pos + 1] if pos + 1 < len(lines) else "")
        driver = _DRIVER_KV.search(tail)
        cc = f"{sdnext['major']}.{sdnext['minor']}"
        return AppDevice(0, sdnext["name"].strip(), cc), driver["ver"] if driver else None
    if found := _TORCH_FOUND.search(line):
        return AppDevice(int(found["idx"]), found["name"].strip(), f"{found['major']}.{found['minor']}"), None
    if found := _TORCH_INCOMPATIBLE.search(line.strip()):
        name = found["name"].strip()
        return AppDevice(
            None, None if name in _PLACEHOLDER_NAMES else name, f"{found['sm'][:-1]}.{found['sm'][-1]}"
        ), None
    if directml := _DIRECTML.search(line):
        return AppDevice(None, directml["name"]), None
    if row := _CUDA_DRIVER_ROW.match(line):
        cc = f"{row['major']}.{row['minor']}"
        return AppDevice(int(row["idx"]), row["name"].strip(), cc, row["bdf"].lower()), None
    if last:
        return None, None
    if listed := _ONETRAINER.match(line.strip()):
        return AppDevice(int(listed["idx"]), listed["name"].strip()), None
    if (invoke := _INVOKE.search(line)) and invoke["name"].strip().lower() not in _NOT_A_GPU:
        return _invoke_device(invoke["name"].strip()), None
    return None, None


def _invoke_device(name: str) -> AppDevice | None:
    """InvokeAI's one device, or the first of its list form (the others: invoke_listed); a list with no
    "NAME (cuda:N)" item names no GPU."""
    if not name.startswith("["):
        return AppDevice(0, name)
    listed = invoke_listed(name)
    return listed[0] if listed else None


def invoke_listed(name: str) -> list[AppDevice]:
    """ "[A (cuda:0), B (cuda:1)]" -> the devices A (index 0) and B (index 1)."""
    return [AppDevice(int(m["idx"]), m["name"].strip()) for m in _INVOKE_LISTED.finditer(name)]


def _add_new(out: AppDevices, seen: set[int | None], devices: list[AppDevice]) -> None:
    for one in devices:
        if one.index not in seen:
            seen.add(one.index)
            out.devices.append(one)


def _listed_rest(line: str, first: AppDevice | None) -> list[AppDevice]:
    """The devices after the first of InvokeAI's list form on this line."""
    if first is None or "Using torch device: [" not in line:
        return []
    return invoke_listed(line.split("Using torch device:", 1)[1])[1:]


def parse_app_devices(lines: list[str]) -> AppDevices:
    """Every device line of the kinds above, one device per index (the first line naming it wins)."""
    out = AppDevices()
    seen: set[int | None] = set()
    end = max((n for n, ln in enumerate(lines) if ln.strip()), default=0)
    detected = 0
    for pos, line in enumerate(lines):
        device, driver = _device(lines, pos, pos == end)
        out.driver = out.driver or driver
        if device is not None and device.memory_total_mib is not None:  # one installer line per device, in order
            device.index, detected = detected, detected + 1
        if (installer := _TORCH_INSTALLER.search(line)) is not None:
            out.torch_version = out.torch_version or installer["ver"]
        if device is not None and device.index is None and any(d.name == device.name for d in out.devices):
            continue
        if device is not None and device.index not in seen:
            _add_new(out, seen, [device, *_listed_rest(line, device)])
        elif out.devices and (listed := _DRIVER_LINE.match(line)):
            out.driver = out.driver or listed["ver"]
    if out.devices:
        _torch_range(lines, out)
    else:  # nvtop's screen (its device headers name no torch device: read only where no line does)
        out.devices = [AppDevice(d.index, d.name, memory_total_mib=d.memory_total_mib) for d in parse_nvtop(lines)]
    return out
