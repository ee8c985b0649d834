"""GPUs named by the tools people paste when asked "which GPU do you have" that are not lspci: `vulkaninfo
--summary` (each GPUn block: vendorID, deviceID, deviceType, deviceName, driverName/driverInfo), `glxinfo -B` (its
"Extended renderer info" block: vendor and device ids, the Mesa or NVIDIA driver version), `clinfo` (an OpenCL GPU
device: "Device Name  Intel(R) Graphics [0x56a1]", its vendor id and driver version) and Intel's `xpu-smi` (its
nvidia-smi-like table and `discovery` list: name, bus address, memory). They are pasted where lspci's output goes.
What they do not say stays unknown: glxinfo names no bus address, and its "Video memory" is shared memory on
integrated GPUs and under WSL's D3D12 layer: it is read as VRAM only where the same block says "Unified memory: no"
outside WSL (Mesa's dedicated memory); a software renderer (llvmpipe), a Vulkan
CPU device or an OpenCL CPU device is no GPU; D3D12's vendor id 0xffffffff is WSL's, not the card's."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.display_tools import inxi_unaddressed
from rigfit.probe.gpu.fetch_tools import fastfetch_gpus, is_fastfetch_json
from rigfit.probe.gpu.paste import clean_lines, parse_bdf
from rigfit.records import record

_GLX_VENDOR = later(r"^\s*Vendor:\s*(?P<name>.*?)\s*\(0x(?P<id>[0-9a-fA-F]{4})\)\s*$")
_GLX_DEVICE = later(r"^\s*Device:\s*(?P<name>.*?)\s*\(0x(?P<id>[0-9a-fA-F]{4})\)\s*$")
# GL_NVX_gpu_memory_info: the card's own memory (unlike "Video memory:", which is shared memory on integrated GPUs)
_NVX_DEDICATED = later(r"^\s*Dedicated video memory:\s*(?P<mib>\d+)\s*MB\b")
# GLX_MESA_query_renderer: "Video memory: 8192MB" is the card's own memory when "Unified memory: no"
_MESA_VIDEO = later(r"^\s*Video memory:\s*(?P<mib>\d+)\s*MB\b")
_MESA_UNIFIED = later(r"^\s*Unified memory:\s*(?P<answer>yes|no)\b")
# radeonsi's renderer suffix: "AMD Radeon RX 6600 (navi23, LLVM 15.0.7, DRM 3.47, 5.19.0-45-generic)"
_MESA_SUFFIX = later(r"\s*\([^()]*\b(?:LLVM|DRM)\b[^()]*\)\s*$")
_GL_VERSION = later(r"^OpenGL (?:core profile )?version string:.*?\bNVIDIA (?P<ver>\d{3}\.\d{1,3}(?:\.\d{1,3})?)")
_CL_KEY = later(r"^\s*(?P<key>Device Name|Device Vendor ID|Device Type|Driver Version)\s{2,}(?P<value>\S.*?)\s*$")
_CL_ID = later(r"\[0x(?P<id>[0-9a-fA-F]{4})\]")
_XPU_ROW = later(
    r"^\|\s*(?P<idx>\d+)\s+(?P<name>Intel.*?)\s+(?:On|Off)\s*\|\s*(?P<bus>[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.\d)"
)
_XPU_MORE = later(r"^\|\s{3,}(?P<more>\S[^|]*?)\s*\|")
_XPU_MEMORY = later(r"\|\s*\d+\s*MiB\s*/\s*(?P<total>\d+)\s*MiB")
_XPU_KEY = later(
    r"^\|?\s*(?:\d+\s*)?\|?\s*(?P<key>Device Name|PCI Device ID|PCI BDF Address):\s*(?P<value>\S.*?)\s*\|?$"
)
_VK_KEY = later(
    r"^\s*(?P<key>vendorID|deviceID|deviceType|deviceName|driverName|driverInfo)\s*=\s*(?P<value>\S.*?)\s*$"
)
# Intel's `sycl-ls`: one line per device and backend, "[ext_oneapi_level_zero:gpu][level_zero:0] Intel(R) Level-Zero,
# Intel(R) Iris(R) Xe Graphics 1.3 [1.3.26241]", "[opencl:gpu][opencl:1] Intel(R) OpenCL Graphics, Intel(R) UHD
# Graphics 750 OpenCL 3.0 NEO  [23.43.027642]" (older: "[opencl:gpu:2] ..."); a GPU listed by two backends is one GPU
_SYCL_GPU = later(
    r"^\[(?:ext_oneapi_)?(?:level_zero|opencl|cuda|hip):gpu(?::\d+)?\](?:\[[\w:]+\])?\s+[^,\[]+,\s+(?P<name>.+?)"
    r"\s+(?:OpenCL\s+)?\d+(?:\.\d+)+(?:\s+NEO)?\s+\[[^\]]*\]\s*$"
)
_SOFTWARE = later(r"llvmpipe|softpipe|swrast|Software Rasterizer", re.I)
_VENDOR_IDS = {"intel": "8086", "nvidia": "10de", "amd": "1002", "advanced micro devices": "1002", "radeon": "1002"}


@record
class NamedGpu:
    """A GPU one of these tools names; what it does not print is None."""

    source: str  # "glxinfo", "clinfo", "vulkaninfo", "xpu-smi", "inxi" (a GPU it names without a bus address)
    name: str | None = None
    vendor_id: str | None = None
    device_id: str | None = None
    bdf: str | None = None
    driver_version: str | None = None  # the NVIDIA driver's version (glxinfo, clinfo); None for Mesa/Intel stacks
    memory_total_mib: int | None = None  # xpu-smi, glxinfo's "Dedicated video memory", a listing's "VRAM Size"
    gfx: str | None = None  # the ROCm runtime's gfx a torch report prints ("(gfx1100)"): any override applied
    integrated: bool | None = None  # vulkaninfo's INTEGRATED_GPU / DISCRETE_GPU, ggml's Vulkan "uma: 1"


def _clean_name(name: str) -> str:
    """ "Mesa DRI Intel(R) UHD Graphics 620 (Kabylake GT2)" -> "Intel UHD Graphics 620 (Kabylake GT2)"."""
    name = _MESA_SUFFIX.sub("", re.sub(r"\((?:R|TM)\)|®|™", "", name, flags=re.I))
    name = re.sub(r"(?:/PCIe)?(?:/SSE2)?$", "", name.strip())  # NVIDIA's renderer string: "GeForce GTX 1660/PCIe/SSE2"
    name = re.sub(r"^(?:Mesa DRI |Mesa |D3D12 \()", "", name).removesuffix(")" if name.startswith("D3D12 (") else "")
    return " ".join(name.split())


def _sycl_ls(lines: list[str]) -> list[NamedGpu]:
    """The GPUs `sycl-ls` lists (an iGPU that only Level Zero or OpenCL shows), one per name."""
    names = dict.fromkeys(_clean_name(m["name"]) for ln in lines if (m := _SYCL_GPU.match(ln.strip())))
    return [NamedGpu("sycl-ls", name, _vendor_id(name)) for name in names]


def _vendor_id(text: str) -> str | None:
    low = text.lower()
    return next((vid for word, vid in _VENDOR_IDS.items() if word in low), None)


_GLX_FACTS = {
    "dedicated": _NVX_DEDICATED,
    "video": _MESA_VIDEO,
    "unified": _MESA_UNIFIED,
    "vendor": _GLX_VENDOR,
    "device": _GLX_DEVICE,
    "version": _GL_VERSION,
}


def _glx_facts(lines: list[str]) -> tuple[dict[str, re.Match[str]], dict[str, str]]:
    """The first match of each glxinfo fact, and the OpenGL renderer and vendor strings."""
    found: dict[str, re.Match[str]] = {}
    strings: dict[str, str] = {}
    for line in lines:
        for key, pattern in _GLX_FACTS.items():
            match = None if key in found else pattern.match(line)
            if match:
                found[key] = match
        for key in ("renderer", "vendor"):
            if line.startswith(f"OpenGL {key} string:"):
                strings[key] = line.split(":", 1)[1].strip()
    return found, strings


def _glxinfo(lines: list[str]) -> list[NamedGpu]:
    found, strings = _glx_facts(lines)
    vendor, device, version = found.get("vendor"), found.get("device"), found.get("version")
    name = device["name"] if device else strings.get("renderer")
    if not name or _SOFTWARE.search(name):
        return []
    wsl = vendor is not None and vendor["id"].lower() == "ffff"
    vendor_id = vendor["id"].lower() if vendor and not wsl else _vendor_id(f"{name} {strings.get('vendor', '')}")
    shared_layer = wsl or name.startswith("D3D12")
    return [
        NamedGpu(
            source="glxinfo",
            name=_clean_name(name),
            vendor_id=vendor_id,
            device_id=device["id"].lower() if device and not wsl else None,
            driver_version=version["ver"] if version else None,
            memory_total_mib=_glx_memory(
                found.get("dedicated"), found.get("video"), found.get("unified"), shared_layer
            ),
        )
    ]


def _glx_memory(
    dedicated: re.Match[str] | None, video: re.Match[str] | None, unified: re.Match[str] | None, wsl: bool
) -> int | None:
    """MiB of the card's own memory: NVIDIA's "Dedicated video memory", or Mesa's "Video memory" on a card that
    says it has no unified memory (never under WSL, whose D3D12 layer reports shared memory)."""
    if dedicated:
        return int(dedicated["mib"])
    if video and unified and unified["answer"] == "no" and not wsl:
        return int(video["mib"])
    return None


def _clinfo(lines: list[str]) -> list[NamedGpu]:
    devices: list[dict[str, str]] = []
    for line in lines:
        key = _CL_KEY.match(line)
        if key and key["key"] == "Device Name":
            devices.append({})
        if key and devices:
            devices[-1].setdefault(key["key"], key["value"])
    found = []
    for dev in devices:
        if dev.get("Device Type", "GPU") != "GPU":
            continue
        name = dev.get("Device Name", "")
        ident = _CL_ID.search(name)
        vendor = re.fullmatch(r"0x([0-9a-fA-F]{4})", dev.get("Device Vendor ID", ""))
        vendor_id = vendor[1].lower() if vendor else _vendor_id(name)
        version = dev.get("Driver Version", "")
        found.append(
            NamedGpu(
                source="clinfo",
                name=_clean_name(_CL_ID.sub("", name)) if not ident else None,
                vendor_id=vendor_id,
                device_id=ident["id"].lower() if ident else None,
                driver_version=version.split()[0] if vendor_id == "10de" and version else None,
            )
        )
    return found


def _vulkaninfo(lines: list[str]) -> list[NamedGpu]:
    devices: list[dict[str, str]] = []
    for line in lines:
        key = _VK_KEY.match(line)
        if key and key["key"] == "vendorID":
            devices.append({})
        if key and devices:
            devices[-1].setdefault(key["key"], key["value"])
    return [gpu for gpu in (_vulkan_gpu(dev) for dev in devices) if gpu]


_DEVICE_TYPES = {"INTEGRATED_GPU": True, "DISCRETE_GPU": False}  # vulkaninfo's deviceType, after "..._TYPE_"


def _vulkan_gpu(dev: dict[str, str]) -> NamedGpu | None:
    if dev.get("deviceType", "").endswith("CPU") or _SOFTWARE.search(dev.get("deviceName", "")):
        return None
    vendor = re.fullmatch(r"0x([0-9a-fA-F]{4})", dev.get("vendorID", ""))
    device = re.fullmatch(r"0x([0-9a-fA-F]{4})", dev.get("deviceID", ""))
    name = dev.get("deviceName", "")
    nvidia = vendor is not None and vendor[1].lower() == "10de"
    version = re.match(r"\d{3}\.\d{1,3}(?:\.\d{1,3})?$", dev.get("driverInfo", "")) if nvidia else None
    return NamedGpu(
        source="vulkaninfo",
        name=None if name.startswith("Unknown ") else _clean_name(re.sub(r"\s*\((?:RADV|LLVM)[^)]*\)", "", name)),
        vendor_id=vendor[1].lower() if vendor else None,
        device_id=device[1].lower() if device else None,
        driver_version=version[0] if version else None,
        integrated=_DEVICE_TYPES.get(dev.get("deviceType", "").rpartition("TYPE_")[2]),
    )


def _xpu_smi(lines: list[str]) -> list[NamedGpu]:
    found: list[NamedGpu] = []
    current: NamedGpu | None = None
    for line in lines:
        row = _XPU_ROW.match(line)
        if row:
            current = NamedGpu(source="xpu-smi", name=row["name"], vendor_id="8086", bdf=parse_bdf(row["bus"]))
            found.append(current)
            continue
        memory = _XPU_MEMORY.search(line)
        if current is not None and memory:
            current.memory_total_mib = int(memory["total"])
            current = None
        elif current is not None and (more := _XPU_MORE.match(line)):
            current.name = f"{current.name} {more['more']}"
        key = _XPU_KEY.match(line)
        if key and key["key"] == "Device Name":
            found.append(NamedGpu(source="xpu-smi", name=key["value"], vendor_id="8086"))
        elif key and found:
            ident = re.fullmatch(r"0x([0-9a-fA-F]{4})", key["value"])
            found[-1].device_id = found[-1].device_id or (ident[1].lower() if ident else None)
            found[-1].bdf = found[-1].bdf or (parse_bdf(key["value"]) if key["key"] == "PCI BDF Address" else None)
    for gpu in found:
        gpu.name = _clean_name(gpu.name or "") or None
    return found


# clinfo's NVIDIA platform: "Platform Version   OpenCL 3.0 CUDA 12.8.51" (the CUDA level of the driver's OpenCL)
_CL_CUDA_PLATFORM = later(r"^\s*Platform Version\s{2,}OpenCL \d+\.\d+ CUDA (?P<cuda>\d+\.\d+)")


def clinfo_cuda_platform(text: str | None) -> str | None:
    """The newest CUDA the NVIDIA driver runs, from clinfo's NVIDIA CUDA platform ("12.8"); it says nothing of the
    platform's devices (a driver without a GPU still lists its platform)."""
    for line in clean_lines(text):
        match = _CL_CUDA_PLATFORM.match(line) if "CUDA" in line else None
        if match:
            return match["cuda"]
    return None


def parse_named_gpus(text: str | None) -> list[NamedGpu]:
    """The GPUs a glxinfo, clinfo, vulkaninfo or xpu-smi paste names (none for any other text)."""
    lines = clean_lines(text)
    if any(ln.startswith(("OpenGL renderer string:", "Extended renderer info")) for ln in lines):
        return _glxinfo(lines)
    if any(_CL_KEY.match(ln) for ln in lines) and any("Device Name" in ln for ln in lines):
        return _clinfo(lines)
    if any(_VK_KEY.match(ln) for ln in lines):
        return _vulkaninfo(lines)
    if any("XPU-SMI" in ln or "Device Name:" in ln for ln in lines):
        return _xpu_smi(lines)
    if sycl := _sycl_ls(lines):
        return sycl
    unaddressed = inxi_unaddressed(lines)
    if unaddressed:
        return [NamedGpu("inxi", desc, vendor_id) for vendor_id, desc in unaddressed]
    if is_fastfetch_json(lines):
        return [
            NamedGpu("fastfetch", g.name, g.vendor_id or _vendor_id(g.name or ""), memory_total_mib=g.memory_total_mib)
            for g in fastfetch_gpus(lines)
        ]
    return []
