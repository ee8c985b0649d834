"""The device lines local LLM runtimes print about the GPUs they found, read as GPUs:

- ollama's server log: `msg="inference compute" id=GPU-... library=cuda variant=v12 compute=8.6 driver=12.2
  name="NVIDIA A10G" total="22.0 GiB" available="21.7 GiB"` (ROCm: `library=rocm compute=gfx1100`; newer releases
  add `description="..."`, `pci_id=...` and `type=discrete|iGPU`; `library=cpu` is no GPU). Under CUDA its
  `driver=12.2` is the newest CUDA the driver runs, not the driver's version;
- llama.cpp's (and ollama's runner's) ggml_cuda_init: "  Device 0: NVIDIA GeForce RTX 4070, compute capability 8.9,
  VMM: yes" and, in a ROCm build, "  Device 0: AMD Radeon RX 7900 XTX, gfx1100 (0x1100), VMM: no, Wave Size: 32",
  each optionally ending ", VRAM: N MiB"; `--list-devices`' "  CUDA0: NAME (8107 MiB, 8022 MiB free)";
- ggml's Vulkan backend: "ggml_vulkan: 0 = Intel(R) UHD Graphics 730 (ADL-S GT1) (Intel open-source Mesa driver) |
  uma: 1 | fp16: 1 ..." or "Vulkan0: NAME (DRIVER) | uma: 0 | ...": uma 1 is a GPU sharing system memory.

A Vulkan device the CUDA/ROCm lines already name is the same GPU. A name that ends the paste's last line may be cut:
no device from it. Sources: ggml-org/llama.cpp ggml/src/ggml-cuda/ggml-cuda.cu (ggml_cuda_init's device lines),
ggml/src/ggml-vulkan/ggml-vulkan.cpp (ggml_vk_print_gpu_info), ollama's discover/types.go ("inference compute");
the shapes as pasted: tests/fixtures/SOURCES.md, round heldd14.
"""

from __future__ import annotations

from collections import Counter

from rigfit.lazy_re import later
from rigfit.records import field, record

_OLLAMA_KV = later(r'(?P<key>\w+)=(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]*))(?=\s|$)')
_GIB = later(r"(?P<num>\d+(?:\.\d+)?) (?P<unit>GiB|MiB)")
_JOURNAL = r"^(?:\S.*?\]: )?\s*"  # a journal line's "Aug 16 00:44:19 host ollama[3422]: " before the device line
_CUDA_DEVICE = later(
    _JOURNAL + r"Device (?P<idx>\d+): (?P<name>[^,]+), compute capability (?P<major>\d+)\.(?P<minor>\d+)"
    r"(?:, VMM: (?:yes|no))?(?:, VRAM: (?P<mib>\d+) MiB)?\s*$"
)
_HIP_DEVICE = later(
    _JOURNAL + r"Device (?P<idx>\d+): (?P<name>[^,]+), (?P<gfx>gfx[0-9a-f]{3,4})(?::\S*)? \(0x[0-9a-f]+\), "
    r"VMM: (?:yes|no)(?:, Wave Size: \d+)?(?:, VRAM: (?P<mib>\d+) MiB)?"
)
_LISTED = later(_JOURNAL + r"(?P<backend>CUDA|ROCm)(?P<idx>\d+): (?P<name>.+?) \((?P<mib>\d+) MiB, \d+ MiB free\)\s*$")
_VULKAN = later(
    r"(?:ggml_vulkan: |^(?:\S.*?\]: )?\s*Vulkan)(?P<idx>\d+)(?: =|:) "
    r"(?P<name>.+) \((?P<driver>[^()]*)\) \| uma: (?P<uma>[01])\b"
)
_RADV_GFX = later(r"\(RADV (?P<gfx>GFX\d{3,4})\)")
_SOFTWARE = ("llvmpipe", "lavapipe", "swiftshader", "microsoft basic render")
_LIBRARY_VENDOR = {"cuda": "10de", "rocm": "1002", "oneapi": "8086"}
_HINTS = ("inference compute", "Device ", "ggml_vulkan", "Vulkan", "CUDA", "ROCm")


@record
class LlmDevice:
    name: str | None = None
    vendor_id: str | None = None  # "10de" under CUDA, "1002" under ROCm; None when only the name says it
    compute_capability: str | None = None
    gfx: str | None = None
    device_id: str | None = None  # ollama's ROCm "name=1002:744c"
    memory_total_mib: int | None = None
    bdf: str | None = None
    integrated: bool | None = None


@record
class LlmDevices:
    devices: list[LlmDevice] = field(default_factory=list)
    cuda_version: str | None = None  # ollama's "driver=12.2" under library=cuda


def _mib(text: str | None) -> int | None:
    size = _GIB.fullmatch(text or "")
    if size is None:
        return None
    return round(float(size["num"]) * (1024 if size["unit"] == "GiB" else 1))


def _ollama(line: str, out: LlmDevices) -> LlmDevice | None:
    """One "inference compute" line; None for ollama's CPU entry."""
    kv = {m["key"]: m["quoted"] if m["quoted"] is not None else m["bare"] for m in _OLLAMA_KV.finditer(line)}
    library = kv.get("library", "").lower()
    if library not in _LIBRARY_VENDOR:
        return None
    name = kv.get("description") or kv.get("name") or None
    device_id = None
    if name and ":" in name and library == "rocm":  # older ROCm builds name the card by its PCI id "1002:744c"
        device_id, name = name.partition(":")[2].lower(), None
    compute = kv.get("compute", "")
    kind = kv.get("type", "").lower()
    if library == "cuda" and kv.get("driver", "").count(".") == 1:
        out.cuda_version = out.cuda_version or kv["driver"]
    return LlmDevice(
        name=name,
        vendor_id=_LIBRARY_VENDOR[library],
        compute_capability=compute if library == "cuda" and compute.replace(".", "").isdigit() else None,
        gfx=compute if compute.startswith("gfx") else None,
        device_id=device_id,
        memory_total_mib=_mib(kv.get("total")),
        bdf=kv.get("pci_id") or None,
        integrated={"igpu": True, "discrete": False}.get(kind),
    )


def _ggml(line: str, rocm: bool) -> tuple[int, LlmDevice] | None:
    """A ggml_cuda_init or --list-devices device line, with its index."""
    if cuda := _CUDA_DEVICE.match(line):
        cc = None if rocm else f"{cuda['major']}.{cuda['minor']}"
        mib = int(cuda["mib"]) if cuda["mib"] else None
        return int(cuda["idx"]), LlmDevice(cuda["name"].strip(), "1002" if rocm else "10de", cc, memory_total_mib=mib)
    if hip := _HIP_DEVICE.match(line):
        mib = int(hip["mib"]) if hip["mib"] else None
        return int(hip["idx"]), LlmDevice(hip["name"].strip(), "1002", gfx=hip["gfx"], memory_total_mib=mib)
    if listed := _LISTED.match(line):
        vendor = "10de" if listed["backend"] == "CUDA" and not rocm else "1002"
        return int(listed["idx"]), LlmDevice(listed["name"].strip(), vendor, memory_total_mib=int(listed["mib"]))
    return None


def _vulkan(line: str) -> tuple[int, LlmDevice] | None:
    device = _VULKAN.search(line)
    if device is None or any(s in device["name"].lower() for s in _SOFTWARE):
        return None
    radv = _RADV_GFX.search(device["name"])
    name = _RADV_GFX.sub("", device["name"]).strip()
    gfx = radv["gfx"].lower() if radv else None
    return int(device["idx"]), LlmDevice(name, gfx=gfx, integrated=device["uma"] == "1")


def _union(groups: list[list[LlmDevice]]) -> list[LlmDevice]:
    """Devices of several listings of the same machine: a later listing adds only GPUs of a name it lists more often
    than the earlier ones did (the Vulkan backend lists the CUDA GPUs again)."""
    out: list[LlmDevice] = []
    for group in groups:
        had, seen = Counter(d.name for d in out), Counter[str | None]()
        for device in group:
            seen[device.name] += 1
            if seen[device.name] > had[device.name]:
                out.append(device)
    return out


def _add(listing: dict[int, LlmDevice], index: int, device: LlmDevice) -> None:
    """A device under its index; a second line about the same device (ollama's runner prints --list-devices' line,
    then ggml_cuda_init's) fills in what the first did not say."""
    known = listing.setdefault(index, device)
    if known is not device and known.name == device.name:
        for key in ("vendor_id", "compute_capability", "gfx", "memory_total_mib", "integrated"):
            if getattr(known, key) is None:
                setattr(known, key, getattr(device, key))


def parse_llm_devices(lines: list[str]) -> LlmDevices:
    """Every device line of the kinds above; one device per index within a listing (the first line wins). Each
    pattern needs text after the name (", VMM:", "| uma:", a closing quote): a name cut at the paste's end is none."""
    out = LlmDevices()
    if not any(hint in line for line in lines for hint in _HINTS):
        return out
    ollama: list[LlmDevice] = []
    ggml: dict[int, LlmDevice] = {}
    vulkan: dict[int, LlmDevice] = {}
    rocm = False
    for line in lines:
        rocm = rocm or ("found" in line and "ROCm devices" in line)
        if 'msg="inference compute"' in line:
            device = _ollama(line, out)
            ollama += [device] if device is not None else []
        elif (listed := _ggml(line, rocm)) is not None:
            _add(ggml, *listed)
        elif (shown := _vulkan(line)) is not None:
            _add(vulkan, *shown)
    out.devices = _union([ollama, list(ggml.values()), list(vulkan.values())])
    return out
