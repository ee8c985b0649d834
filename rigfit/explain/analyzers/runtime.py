"""Driver and runtime failures: a CUDA driver older than the runtime, CUDA/ROCm/driver libraries that cannot be
loaded (named, with the package that ships each), GPU access missing inside containers and WSL, and GPU faults,
resets and Xid events from kernel logs."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, first, from_end, last, ver
from rigfit.explain.analyzers.context import Context, native_lib
from rigfit.explain.facts import cuda_from_driver_code, driver_wheel
from rigfit.kb.diagnosis import NativeLibrary
from rigfit.plan.knowledge import newest_first, wheel_lines
from rigfit.probe.gpu.torch_cuda_init import torch_cuda_init

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "amdgpu-fault",
    "container-gpu-access",
    "cuda-driver-too-old",
    "nvidia-xid",
    "shared-library-missing",
)

SIGNALS = (
    "cannot open", "could not load", "nvml", "xid", "fault", "timeout", "gpu reset", "fallen off the bus",
    "insufficient", "too old", "error while loading", "nvidia-container-cli", "could not locate",
)  # fmt: skip
KEYWORDS = (
    "cannot open shared object file", "could not load library", "unable to load any of", "nvml", "xid",
    "page fault", "memory access fault", "ring gfx", "ring sdma", "ring comp", "gpu reset", "nvidia-container-cli",
    "cuda driver version is insufficient", "driver version is insufficient", "fallen off the bus",
    "error while loading shared libraries", "invalid runtime name", "driver on your system is too old",
    "cudaerrorinsufficientdriver", "forward compatibility was attempted", "could not load dynamic library",
    "load library failed", "could not locate",
)  # fmt: skip
CONTEXT = (
    "driver", "wsl", "microsoft-standard", "amdgpu", "nvrm", "hsa_override_gfx_version", "torch", "pytorch version",
)  # fmt: skip

DRIVER_OLD = re.compile(
    r"NVIDIA driver on your system is too old \(found version (?P<code>\d+)\)|"
    r"(?P<insufficient>CUDA driver version is insufficient for CUDA runtime version|cudaErrorInsufficientDriver|"
    r"forward compatibility was attempted on non supported HW)",
    re.I,
)
LIB_MISSING = re.compile(
    r"(?P<lib>lib[\w.+-]+?\.so(?:\.[\d.]+)?)(?:\S*)?: cannot open shared object file|"
    r"(?:Could not load library|Unable to load any of \{|error while loading shared libraries: |"
    r"load library failed: |Could not load dynamic library ')(?P<lib2>lib[\w.+-]+?\.so(?:\.[\d.]+)?)|"
    r"(?:Could not (?:locate|load library) )(?P<dll>[\w.+-]+\.dll)|"
    r"LoadLibrary failed with error 126 \"[^\"]*\" when trying to load \"(?:[^\"]*[\\/])?(?P<dll126>[\w.+-]+\.dll)",
    re.I,
)
WANTED_MAJOR = re.compile(r"\.so\.(?P<so>\d+)|64_(?P<dll>\d+)\.dll$", re.I)  # libcudnn.so.8, cudnn_ops_infer64_8.dll
LOADER = re.compile(r"Failed to load library (?P<lib>lib[\w.+-]+?\.so)\b[^:]*? with error: ")
CANNOT_OPEN = re.compile(r"(?P<lib>lib[\w.+-]+?\.so(?:\.[\d.]+)?)\S*: cannot open shared object file", re.I)
WSL = re.compile(r"microsoft-standard-WSL|/usr/lib/wsl/|\bWSL2?\b", re.I)
CONTAINER_NO_GPU = re.compile(
    r"nvidia-container-cli: (?P<cli>.+)|unknown or invalid runtime name: nvidia|Failed to initialize NVML: Unknown "
    r"Error",
    re.I,
)
XID = re.compile(r"NVRM: Xid \(PCI:(?P<pci>[\w:.]+)\): (?P<xid>\d+), (?P<rest>.*)")
AMD_FAULT = re.compile(
    r"Memory access fault by GPU node-\d+|amdgpu.*\[(?:gfxhub|mmhub)\w*\] (?:no-retry )?page fault|"
    r"(?P<ring>ring (?:gfx|sdma|comp)\S* timeout)|(?P<reset>GPU reset begin|GPU reset\(\d+\) (?:succeeded|failed)|"
    r"amdgpu: GPU reset|GPU recovery)",
    re.I,
)
XID_MEANING = {
    "13": "a graphics engine exception: a kernel did something illegal (application or driver bug, sometimes "
    "unstable clocks)",
    "31": "a GPU memory page fault: a kernel accessed memory it did not own (application bug, or a driver bug)",
    "43": "the GPU stopped processing (a kernel hung or faulted)",
    "48": "a double-bit ECC memory error: faulty VRAM",
    "62": "an internal micro-controller halt (driver, firmware or hardware)",
    "79": "the GPU has fallen off the bus: it stopped answering on PCIe (power delivery, riser/slot, overheating or "
    "failing hardware)",
    "119": "a GSP firmware timeout",
    "120": "a GSP firmware error",
}
XID_SOURCE = "https://docs.nvidia.com/deploy/xid-errors/index.html"


def analyze(ctx: Context) -> list[Finding]:
    return [f for f in (_driver_too_old(ctx), _library(ctx), _container(ctx), _xid(ctx), _amd_fault(ctx)) if f]


def _driver_too_old(ctx: Context) -> Finding | None:
    # torch's start-up check (cudaGetDeviceCount) failing is cuda_init's: one answer per line
    hit = next((h for h in from_end(ctx.lines, DRIVER_OLD) if torch_cuda_init(h[0].text) is None), None)
    if hit is None:
        return None
    line, m = hit
    facts: dict[str, str] = {}
    driver_cuda = cuda_from_driver_code(m.group("code")) if m.group("code") else ctx.facts.get("driver_cuda")
    if driver_cuda:
        facts["driver_cuda"] = str(driver_cuda)
    torch = ctx.torch
    if torch:
        facts["torch"] = torch
    who = next((lib for lib in ("onnxruntime", "ctranslate2", "bitsandbytes") if lib in line.text.lower()), "torch")
    cause = (
        f"The NVIDIA driver is older than the CUDA runtime {who} was built with"
        + (f": the driver supports CUDA up to {driver_cuda}" if driver_cuda else "")
        + (f", torch is {torch}" if torch else "")
        + "."
    )
    fix = _driver_fix(ctx, facts, who, str(driver_cuda) if driver_cuda else None)
    return Finding(
        "cuda-driver-too-old",
        f"The NVIDIA driver is too old for this {who}'s CUDA",
        cause,
        fix + ".",
        [line],
        facts,
        ["https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html#id5"],
        # the torch line pinned from torch_wheels.yaml: nvidia-driver-too-old's unpinned line says less
        supersedes=("nvidia-driver-too-old",) if "fix_wheel" in facts else (),
    )


def _driver_fix(ctx: Context, facts: dict[str, str], who: str, driver_cuda: str | None) -> str:
    """Upgrade the driver, or install the newest torch line the driver runs (torch_wheels.yaml)."""
    wheel = driver_wheel(driver_cuda) if driver_cuda else None
    fix = (
        f"Either upgrade the NVIDIA driver and reboot (Ubuntu: `sudo ubuntu-drivers install`; {_newest_floor()} or "
        f"newer runs every current torch wheel), or install a {who} built for the CUDA the driver has"
    )
    if wheel and who == "torch":
        line_ = next((w for w in newest_first(list(wheel_lines())) if w.variant == wheel), None)
        facts["fix_wheel"] = wheel
        torch_pin = f"torch=={line_.torch} " if line_ and line_.torch else "torch "
        fix += (
            f": `{ctx.pip()} install --force-reinstall {torch_pin}torchvision torchaudio --index-url "
            f"https://download.pytorch.org/whl/{wheel}` (wheels of one CUDA major run on any driver of that major)"
        )
    elif driver_cuda and ver(driver_cuda) < ver("11.0"):
        fix += (
            ": no current wheel runs on a driver for CUDA 10 or older, so upgrade the driver (the card must be "
            "supported by a 450+ driver)"
        )
    return fix


def _newest_floor() -> str:
    """The driver floor of the newest CUDA wheel line in torch_wheels.yaml."""
    floors = [w.min_driver for w in wheel_lines() if w.kind == "cuda" and w.min_driver]
    return max(floors, key=ver)


def _library(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, LIB_MISSING)
    if hit is None:
        return None
    line, m = hit
    # "Could not load library A. Error: B: cannot open shared object file": B is the one missing
    cannot_open = CANNOT_OPEN.search(line.text)
    if "nvidia-container-cli" in line.text:
        return None  # the container toolkit could not load the host driver: _container says so
    lib = cannot_open.group("lib") if cannot_open else m.group("lib") or m.group("lib2") or m.group("dll")
    lib = lib or m.group("dll126")
    entry = native_lib(lib)
    facts = {"library": lib}
    on_wsl = first(ctx.lines, WSL) is not None
    if entry is None:
        cause = (
            f"The dynamic loader cannot find {lib}: the package or system library that provides it is not installed "
            "(or not on the library path)."
        )
        fix = (
            f"Find which package ships {lib} (Debian/Ubuntu: `apt-file search {lib.split('.so')[0]}.so`) and install "
            "it; for a pip package, reinstall it in the env."
        )
        return Finding(
            "shared-library-missing",
            f"{lib} cannot be loaded",
            cause,
            fix,
            [line],
            facts,
            ["https://man7.org/linux/man-pages/man8/ld.so.8.html"],
        )
    facts["package"] = entry.package
    sources = entry.sources
    cause = (
        f"{lib} cannot be loaded: it comes with {entry.package}, which is missing, of another version than the code "
        "expects, or not on the library path."
    )
    if m.group("dll126"):  # the DLL is there: Windows error 126 is about a DLL it links
        cause = (
            f"{lib} ({entry.package}) is there but does not load: Windows error 126 means a DLL it links was not "
            "found, for a GPU provider the CUDA and cuDNN libraries of the major that build was made for."
        )
    fix = entry.fix
    if on_wsl and entry.role in ("driver", "cuda-runtime"):
        facts["wsl"] = "yes"
        cause += " On WSL2 the driver's libcuda lives in /usr/lib/wsl/lib, provided by the Windows driver."
        fix = (
            "On WSL2: install only the Windows NVIDIA driver (never a Linux driver inside WSL), then `export "
            "LD_LIBRARY_PATH=/usr/lib/wsl/lib:$LD_LIBRARY_PATH` (and `sudo ldconfig` if it says libcuda.so.1 is "
            "not a symbolic link). " + fix
        )
    elif (major := WANTED_MAJOR.search(lib)) and entry.role == "cuda-runtime":
        facts["wanted_major"] = major.group("so") or major.group("dll")
        cause += f" The code wants major version {facts['wanted_major']} of it."
        if caller := _loading_binary(line.text, entry.package):
            facts["caller"] = caller.package
            cause += (
                f" The one asking is {caller.package}'s own library: that build of {caller.package} was made for "
                f"that major, and the env's CUDA libraries are of another one."
            )
            fix, sources = caller.fix, [*caller.sources, *entry.sources]
    return Finding(
        "shared-library-missing", f"{lib} ({entry.package}) cannot be loaded", cause, fix, [line], facts, sources
    )


def _loading_binary(text: str, missing_package: str) -> NativeLibrary | None:
    """The Python package's binary that failed to load because of the missing library ("Failed to load library
    libX.so with error: libY.so.11: cannot open ..."), when rigfit knows it and it is not the missing one's own."""
    loader = LOADER.search(text)
    entry = native_lib(loader.group("lib")) if loader else None
    if entry is None or entry.role != "python-binary" or entry.package == missing_package:
        return None
    return entry


def _container(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, CONTAINER_NO_GPU)
    if hit is None:
        return None
    line, m = hit
    facts = {"symptom": m.group(0)[:160]}
    if "NVML: Unknown Error" in m.group(0):
        cause = (
            "Inside the container, NVML cannot reach the GPU although the container was started with one: the "
            "device cgroup lost the NVIDIA devices (a `systemctl daemon-reload` on the host with the cgroupfs/"
            "systemd driver mismatch) or the devices were not passed."
        )
        fix = (
            'Restart the container; to make it stick, set `"exec-opts": ["native.cgroupdriver=cgroupfs"]` in '
            "/etc/docker/daemon.json or pass the /dev/nvidia* devices explicitly (NVIDIA Container Toolkit "
            "troubleshooting)."
        )
    elif "load library failed" in m.group(0):
        cause = (
            "The NVIDIA Container Toolkit on the host cannot load the driver's own library ("
            f"{m.group(0).split('failed:')[-1].strip(' :')}): no working NVIDIA driver on the host as the toolkit sees "
            "it (the driver is not installed, or Docker is the snap package, which cannot see the host's libraries)."
        )
        fix = (
            "On the host: install the NVIDIA driver until `nvidia-smi` works there (Ubuntu: `sudo ubuntu-drivers "
            "install`, then reboot); use Docker from Docker's or the distribution's packages, not the snap; then "
            "`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`."
        )
    else:
        cause = (
            "Docker cannot give the container the GPU: the NVIDIA Container Toolkit is missing or not configured "
            "for this Docker, or the host driver cannot be loaded by it."
        )
        fix = (
            "On the host: install nvidia-container-toolkit, `sudo nvidia-ctk runtime configure --runtime=docker`, "
            "`sudo systemctl restart docker`, and check that `nvidia-smi` works on the host; then `docker run "
            "--gpus all ...`."
        )
    return Finding(
        "container-gpu-access",
        "The container has no access to the NVIDIA GPU",
        cause,
        fix,
        [line],
        facts,
        ["https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/troubleshooting.html"],
    )


def _xid(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, XID)
    if hit is None:
        return None
    line, m = hit
    xid = m.group("xid")
    facts = {"xid": xid, "pci": m.group("pci")}
    meaning = XID_MEANING.get(xid, "an error the driver reported for the GPU")
    cause = f"The NVIDIA driver logged Xid {xid} for the GPU at {m.group('pci')}: {meaning}."
    if xid == "79":
        fix = (
            "Check power and seating first: the PSU's PCIe cables (no daisy-chained splitters on high-draw cards), "
            "reseat the card or drop a riser, watch temperatures (`nvidia-smi -q -d TEMPERATURE`), and try a lower "
            "power limit (`sudo nvidia-smi -pl <watts>`). A reboot is needed to get the GPU back."
        )
    elif xid == "48":
        fix = "Run the GPU's memory test or contact the vendor: double-bit ECC errors point to failing VRAM."
    else:
        fix = (
            "Update to the current production driver, remove overclocks/undervolts, and if it recurs with one program "
            "only, report it there with this line; `nvidia-smi -q` shows the GPU's state after a reset."
        )
    return Finding("nvidia-xid", f"NVIDIA Xid {xid} in the kernel log", cause, fix, [line], facts, [XID_SOURCE])


def _amd_fault(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, AMD_FAULT)
    if hit is None:
        return None
    line, m = hit
    override = "HSA_OVERRIDE_GFX_VERSION" in " ".join(ln.text for ln in ctx.lines) or bool(ctx.facts.get("override"))
    facts = {"event": "ring timeout" if m.group("ring") else "gpu reset" if m.group("reset") else "memory fault"}
    if m.group("ring") or m.group("reset"):
        cause = (
            "The amdgpu kernel driver saw a GPU job hang (ring timeout) and reset the GPU: a kernel ran too long or "
            "faulted, which on consumer cards usually means kernels not made for this gfx (an override), unstable "
            "clocks/power, or a driver bug in this kernel version."
        )
    else:
        cause = (
            "A GPU kernel accessed memory it did not own (GPU page fault / memory access fault): kernels borrowed "
            "through HSA_OVERRIDE_GFX_VERSION that do not fit this card, out-of-VRAM on an APU carve-out, or a "
            "ROCm/MIOpen bug for this gfx."
        )
    fix = (
        "Check that HSA_OVERRIDE_GFX_VERSION (if set) matches the card's own generation (RDNA2 10.3.0, RDNA3 11.0.0), "
        "use the newest torch ROCm line for the gfx (`rigfit plan`), run at stock clocks, and lower the load "
        "(--medvram/--lowvram, smaller resolution) to see if it is size related; `sudo dmesg | grep -i amdgpu` "
        "after the crash shows the fault's details."
    )
    if override:
        facts["override"] = "set"
    return Finding(
        "amdgpu-fault",
        "The AMD GPU faulted or was reset",
        cause,
        fix,
        [line],
        facts,
        [
            "https://docs.kernel.org/gpu/amdgpu/debugging.html",
            "https://rocm.docs.amd.com/en/latest/how-to/system-debugging.html",
        ],
    )
