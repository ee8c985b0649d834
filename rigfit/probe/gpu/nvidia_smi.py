"""`nvidia-smi` as people paste it: the default table (any driver generation, names cut to "NVIDIA GeForce RTX 3060
..." when long), `--query-gpu=... --format=csv[,noheader][,nounits]`, `-L`, `-q`, gpustat's lines pasted with it
(one GPU per index, whichever tool listed it), `-q -x` XML, and its failures ("couldn't
communicate with the NVIDIA driver", "Driver/library version mismatch", "No devices were found").

"CUDA Version" in the table header is the newest CUDA the installed driver supports, not an installed toolkit.
Values printed as N/A stay unknown (None), never 0.
"""

from __future__ import annotations

import itertools
import re

from rigfit.kb.gpus import lookup_name, lookup_series
from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines, parse_bdf
from rigfit.records import field, record

# drivers from 610 print "KMD Version: 610.43.03     CUDA UMD Version: 13.3" where older ones print "Driver Version:"
# and "CUDA Version:": the kernel-mode driver and the newest CUDA its user-mode library runs, the same two facts
_DRIVER = later(r"(?:Driver|KMD) Version\s*:?\s*(\d+\.\d+(?:\.\d+)?)")
_CUDA = later(r"CUDA (?:UMD )?Version\s*:?\s*(\d+\.\d+)")
# the tool's own version in the table header; under WSL it is the Linux-side library's ("NVIDIA-SMI 565.51.01"),
# another number than the Windows driver's ("Driver Version: 565.90"); elsewhere the two are the same release
_SMI_VERSION = later(r"NVIDIA-SMI (\d+\.\d+(?:\.\d+)?)")
_TABLE_ROW = later(
    r"^\|\s*(?P<idx>\d+)\s+(?P<name>.+?)\s+(?:On|Off|N/A|TCC|WDDM)\s*\|\s*(?P<bus>[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)"
)
# Windows' nvidia-smi.exe prints the driver model (WDDM, TCC: "TCC/WDDM" or "Driver-Model" in the header, "Current :
# WDDM" in -q) where Linux's prints Persistence-M; WSL's prints Persistence-M too
_WINDOWS = later(r"\bWDDM\b|\bDriver-Model\b|\bTCC\b")
_MEMORY = later(r"(?<!\d)(\d+)\s*MiB\s*/\s*(\d+)\s*MiB")
_LIST = later(r"^GPU (\d+): (.+?)(?: \(UUID: [^)]*\))?$")
# the table's "GPU-Util  Compute M." cell below each GPU's row: "|      1%   Prohibited |", "| 0%  E. Process |"
_COMPUTE_MODE = later(r"\|\s*(?:\d+%|N/A)\s+(Default|E\. Process|E\. Thread|Prohibited)\s*\|")
# gpustat, often pasted beside nvidia-smi: "[0] Tesla P100-PCIE-16GB | 27'C,   0 % |   103 / 16384 MB |"
_GPUSTAT = later(r"^\[(\d+)\]\s+(\S.*?)\s*\|\s*-?\d+'C,[^|]*\|\s*\d+\s*/\s*(\d+)\s*MB\s*\|")
_FAILURES = (
    ("couldn't communicate with the NVIDIA driver", "no_driver"),
    ("Driver/library version mismatch", "version_mismatch"),
    ("No devices were found", "no_devices"),
    ("Failed to initialize NVML", "nvml_failed"),
    # NVML reaches the driver but not this GPU: "...: Unknown Error", "...: GPU is lost.  Reboot the system ..."
    ("Unable to determine the device handle for GPU", "gpu_unreachable"),
    ("command not found", "not_installed"),
)


@record
class NvidiaGpu:
    index: int | None = None
    name: str | None = None
    name_truncated: bool = False  # the table cut the name ("NVIDIA GeForce RTX 3060 ...")
    bdf: str | None = None
    pci_id: str | None = None  # "10de:1401", from `-q`'s "Device Id : 0x140110DE"
    memory_total_mib: int | None = None
    compute_capability: str | None = None  # only from --query-gpu=compute_cap
    compute_mode: str | None = None  # the table's "Compute M." / -q's "Compute Mode": "Default", "Prohibited"...


@record
class NvidiaSmiOutput:
    driver_version: str | None = None
    cuda_version: str | None = None  # newest CUDA the driver supports
    gpus: list[NvidiaGpu] = field(default_factory=list)
    # "no_driver", "version_mismatch", "no_devices", "nvml_failed", "gpu_unreachable", "not_installed"
    error: str | None = None
    error_line: str | None = None
    attached: int | None = None  # `-q`'s "Attached GPUs": more than its GPU blocks when the paste was cut
    windows: bool = False  # printed by Windows' nvidia-smi.exe (a driver model column or key)
    wsl: bool = False  # printed under WSL: the tool's version is not the (Windows) driver's


def _add(out: NvidiaSmiOutput, gpu: NvidiaGpu) -> NvidiaGpu:
    """Append a GPU, or fill in the one already read under the same index: a paste of `nvidia-smi -L` and the table
    lists the same GPUs twice."""
    same = next((g for g in out.gpus if g.index is not None and g.index == gpu.index), None)
    if same is None:
        out.gpus.append(gpu)
        return gpu
    if gpu.name and (same.name is None or same.name_truncated) and not gpu.name_truncated:
        same.name, same.name_truncated = gpu.name, False
    same.bdf = same.bdf or gpu.bdf
    same.memory_total_mib = same.memory_total_mib or gpu.memory_total_mib
    return same


def _known(value: str) -> str | None:
    value = value.strip()
    return None if not value or value.upper() in ("N/A", "[N/A]", "[NOT SUPPORTED]", "NOT SUPPORTED") else value


def _mib(value: str) -> int | None:
    match = re.fullmatch(r"\s*(\d+)(?:\s*MiB)?\s*", value)
    return int(match[1]) if match else None


def _csv(lines: list[str], out: NvidiaSmiOutput) -> bool:
    """--query-gpu CSV; True when the lines were CSV."""
    rows = [[c.strip() for c in ln.split(",")] for ln in lines if ln.count(",") >= 1 and not ln.startswith("|")]
    if not rows:
        return False
    header = rows[0] if any(c.startswith(("name", "pci.bus_id", "memory.total", "index")) for c in rows[0]) else None
    data = rows[1:] if header else [r for r in rows if _query_row(r)]
    keys = [re.sub(r"\s*\[.*\]$", "", h) for h in header] if header else None
    found = [gpu for gpu in (_csv_gpu(row, keys, out) for row in data) if gpu.name or gpu.bdf]
    out.gpus.extend(found)
    return bool(found)


def _csv_gpu(row: list[str], keys: list[str] | None, out: NvidiaSmiOutput) -> NvidiaGpu:
    gpu = NvidiaGpu()
    for pos, value in enumerate(row):
        key = keys[pos] if keys and pos < len(keys) else _guess_key(value)
        _csv_field(gpu, out, key, _known(value) or "")
    return gpu


def _csv_field(gpu: NvidiaGpu, out: NvidiaSmiOutput, key: str | None, value: str) -> None:
    """One --query-gpu column of one GPU (an empty or N/A value says nothing)."""
    if not value:
        return
    if key in ("name", "gpu_name"):
        gpu.name = value
    elif key == "guessed_name":  # a headerless row: its first name-shaped value (later ones are pstate, modes...)
        gpu.name = gpu.name or value
    elif key in ("pci.bus_id", "gpu_bus_id"):
        gpu.bdf = parse_bdf(value)
    elif key == "memory.total":
        gpu.memory_total_mib = _mib(value)
    elif key == "compute_cap":
        gpu.compute_capability = value if re.fullmatch(r"\d+\.\d+", value) else None
    elif key == "driver_version":
        out.driver_version = out.driver_version or value
    elif key == "index" and value.isdigit():
        gpu.index = int(value)


# what a --query-gpu column prints besides names: a number with or without its unit, a version, a bus id, a pstate,
# a mode, N/A or [Not Supported]
_QUERY_VALUE = later(
    r"(?:[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d|\d+(?:\.\d+)*\s*(?:%|W|MHz|MiB|C)?|P\d{1,2}"
    r"|Enabled|Disabled|Default|Enabled \(\w+\)|Exclusive_Process|Prohibited|\[?N/A\]?"
    r"|\[Not Supported\]|Not Supported)?",
    re.I,
)


def _query_row(row: list[str]) -> bool:
    """A headerless line is a --query-gpu row when at most one value reads as a name (a GPU's name holds no colon
    nor quote) and every other value has a query column's shape: a line of any other output that holds a comma
    ("Python version: 3.10.12 (main, ...", "Total VRAM 24564 MB, total RAM ...", a JSON line) is not."""
    names = [v for v in row if not _QUERY_VALUE.fullmatch(v)]
    return len(names) <= 1 and not any(c in v for v in names for c in ':"{}')


def _guess_key(value: str) -> str | None:
    """Column of a headerless CSV value, by its shape."""
    value = value.strip()
    if parse_bdf(value) and re.fullmatch(r"[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d", value):
        return "pci.bus_id"
    if re.fullmatch(r"\d+\s*MiB", value):
        return "memory.total"
    if re.fullmatch(r"\d{3}\.\d+(?:\.\d+)?", value):
        return "driver_version"
    if re.fullmatch(r"\d{1,2}\.\d", value):
        return "compute_cap"
    if re.fullmatch(r"P\d{1,2}|\d+(?:\.\d+)?\s*(?:%|W|MHz|C)|Enabled|Disabled|Default|Enabled \(\w+\)", value):
        return None  # pstate, a measurement, a mode: never a GPU's name
    if re.search(r"[A-Za-z]", value) and value.upper() != "N/A":
        return "guessed_name"
    return None


_QUERY_KEY = later(r"^\s+(?:Product Name|Bus Id|Device Id)\s+:\s")
_DEVICE_ID = later(r"0x(?P<dev>[0-9A-Fa-f]{4})(?P<ven>10DE)\b", re.I)


def _query_gpu(out: NvidiaSmiOutput, key: str) -> NvidiaGpu | None:
    """A `-q` paste that starts below its "GPU 0000..." header still describes a GPU: its PCI block's Device Id or
    Bus Id opens it."""
    if key not in ("Bus Id", "Device Id"):
        return None
    gpu = NvidiaGpu(index=len(out.gpus))
    out.gpus.append(gpu)
    return gpu


def _query(lines: list[str], out: NvidiaSmiOutput) -> None:
    """`nvidia-smi -q`: "GPU 00000000:01:00.0" blocks with "Product Name : ...", "FB Memory Usage / Total" and the
    PCI block's "Device Id : 0x140110DE" (device, then vendor); a paste may start inside a block."""
    gpu: NvidiaGpu | None = None
    in_fb = False
    for line in lines:
        block = re.match(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)\s*$", line.strip())
        if block:
            gpu = NvidiaGpu(index=len(out.gpus), bdf=parse_bdf(block[1]))
            out.gpus.append(gpu)
            continue
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "Attached GPUs" and value.strip().isdigit():
            out.attached = int(value)
        gpu = gpu or _query_gpu(out, key)
        if gpu is None:
            continue
        if key == "Product Name":
            gpu.name = _known(value)
        elif key == "Bus Id":
            gpu.bdf = gpu.bdf or parse_bdf(value)
        elif key == "Compute Mode":
            gpu.compute_mode = _known(value)
        elif key == "Device Id":
            ident = _DEVICE_ID.fullmatch(value.strip())
            gpu.pci_id = gpu.pci_id or (f"10de:{ident['dev'].lower()}" if ident else None)
        elif key == "FB Memory Usage":
            in_fb = True
        elif key == "Total" and in_fb:
            gpu.memory_total_mib = _mib(value)
            in_fb = False
        elif key.endswith("Memory Usage"):
            in_fb = False


# `nvidia-smi -q -x`: one element a line, "<gpu id="00000000:01:00.0">" opening each GPU
_XML = later(r'^<(?P<tag>/?[a-z_0-9]+)(?:\s+id="(?P<id>[^"]*)")?\s*/?>(?P<value>[^<]*)')


def _xml(lines: list[str], out: NvidiaSmiOutput) -> None:
    """`nvidia-smi -q -x`: the same facts as -q, as XML elements (a paste may stop inside any of them)."""
    gpu: NvidiaGpu | None = None
    in_fb = False
    # one element a line as printed; a paste that lost the line ends runs them together ("<gpu><product_name>...")
    segments = (piece for line in lines for piece in line.replace("<", "\n<").splitlines())
    for segment in segments:
        element = _XML.match(segment.strip())
        if not element:
            continue
        tag, value = element["tag"], _known(element["value"])
        if tag == "gpu":
            gpu = NvidiaGpu(index=len(out.gpus), bdf=parse_bdf(element["id"]))
            out.gpus.append(gpu)
        elif tag in ("driver_version", "cuda_version") and value:
            setattr(out, tag, getattr(out, tag) or value)
        elif tag == "attached_gpus" and value and value.isdigit():
            out.attached = int(value)
        elif gpu is not None:
            in_fb = _xml_gpu_field(gpu, tag, value, in_fb)


def _xml_gpu_field(gpu: NvidiaGpu, tag: str, value: str | None, in_fb: bool) -> bool:
    """One element inside a GPU; returns whether the next ones are inside <fb_memory_usage>."""
    if tag == "product_name":
        gpu.name = value
    elif tag == "fb_memory_usage":
        return True
    elif tag == "total" and in_fb and value:
        gpu.memory_total_mib = _mib(value)
    elif tag == "/fb_memory_usage":
        return False
    return in_fb


def _own_lines(text: str | None) -> list[str]:
    """The paste's lines, or none when it is Intel's xpu-smi, which draws the same table for Intel GPUs."""
    lines = clean_lines(text)
    return [] if any("XPU-SMI" in ln for ln in lines) else lines


def _whole_output_facts(lines: list[str], out: NvidiaSmiOutput) -> None:
    """What any view prints once: a failure, the driver and CUDA versions, Windows' driver model."""
    for line in lines:
        for needle, code in _FAILURES:
            if needle in line and out.error is None:
                out.error, out.error_line = code, line.strip()
        driver, cuda = _DRIVER.search(line), _CUDA.search(line)
        out.driver_version = out.driver_version or (driver[1] if driver else None)
        out.cuda_version = out.cuda_version or (cuda[1] if cuda else None)
        out.windows = out.windows or bool(_WINDOWS.search(line))
        smi = _SMI_VERSION.search(line) if driver else None
        if smi and out.driver_version:
            # a header cut at the right edge leaves a prefix ("595.71.0" of 595.71.05): that is no other release
            out.wsl = not (smi[1].startswith(out.driver_version) or out.driver_version.startswith(smi[1]))


def parse_nvidia_smi(text: str | None) -> NvidiaSmiOutput:
    out = NvidiaSmiOutput()
    lines = _own_lines(text)
    _whole_output_facts(lines, out)
    if any("<nvidia_smi_log" in ln for ln in lines):
        _xml(lines, out)
        return out
    if any(re.match(r"^GPU [0-9A-Fa-f]{4,8}:", ln.strip()) or _QUERY_KEY.match(ln) for ln in lines):
        _query(lines, out)
        return out
    pending: NvidiaGpu | None = None
    for line in lines:
        row = _TABLE_ROW.match(line)
        if row:
            name = row["name"].strip()
            truncated = name.endswith(("...", "…"))
            pending = _add(out, NvidiaGpu(int(row["idx"]), _known(name), truncated, parse_bdf(row["bus"])))
            continue
        memory = _MEMORY.search(line)
        if pending is not None and memory:
            pending.memory_total_mib = int(memory[2])
            mode = _COMPUTE_MODE.search(line)
            pending.compute_mode = mode[1] if mode else None
            pending = None
        listed = _LIST.match(line.strip())
        if listed:
            _add(out, NvidiaGpu(int(listed[1]), listed[2].strip()))
        stat = _GPUSTAT.match(line.strip())
        if stat:
            _add(out, NvidiaGpu(int(stat[1]), stat[2], memory_total_mib=int(stat[3])))
    if not out.gpus and not any(ln.startswith("|") for ln in lines) and not _csv(lines, out):
        _names_only(lines, out)
    _unreachable_gpu(out)
    return out


# a whole line that is an NVIDIA GPU's name, as `nvidia-smi --query-gpu=name --format=csv[,noheader]` prints it
_NAME_ONLY = later(r"(?:NVIDIA|Tesla|Quadro|GeForce|TITAN)\b[^,:|\[\]{}\"=]{2,60}")
_SMI_HEADER = later(r"NVIDIA-SMI \d+\.\d+")


def _names_only(lines: list[str], out: NvidiaSmiOutput) -> None:
    """GPU names one to a line: `--query-gpu=name` (its "name" header, or noheader where every line is a name), or
    the name lines a paste kept right under nvidia-smi's header after cutting its table. Each must be a name the KB
    knows: a sentence that starts with "GeForce" is not a GPU."""
    stripped = [ln.strip() for ln in lines if ln.strip()]
    if stripped and stripped[0] == "name":
        names = stripped[1:]
    elif stripped and all(_NAME_ONLY.fullmatch(ln) for ln in stripped):
        names = stripped
    else:
        names = _under_header(stripped)
    if names and all(_NAME_ONLY.fullmatch(n) and (lookup_name(n) or lookup_series(n)) for n in names):
        out.gpus.extend(NvidiaGpu(index, name) for index, name in enumerate(names))


def _under_header(lines: list[str]) -> list[str]:
    """The name-only lines that follow nvidia-smi's "NVIDIA-SMI ... Driver Version" header line directly."""
    for pos, line in enumerate(lines):
        if _SMI_HEADER.search(line):
            names = list(itertools.takewhile(_NAME_ONLY.fullmatch, lines[pos + 1 :]))
            return [str(n) for n in names]
    return []


_UNREACHABLE = later(r"device handle for GPU\s?(?P<bus>[0-9A-Fa-f]{3,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)")


def _unreachable_gpu(out: NvidiaSmiOutput) -> None:
    """ "Unable to determine the device handle for GPU 0000:0B:00.0: Unknown Error" names a GPU that is there (its
    address) but that NVML cannot reach: a GPU of the profile, with nothing else known of it."""
    match = _UNREACHABLE.search(out.error_line or "") if out.error == "gpu_unreachable" else None
    slot = parse_bdf(match["bus"]) if match else None
    if slot and all(g.bdf != slot for g in out.gpus):
        out.gpus.append(NvidiaGpu(bdf=slot))
