"""Broken GPU states in what people paste: the kernel log (KFD refusing a chip or not listing its device id, nouveau
holding an NVIDIA card, ring timeouts and resets, GPU page faults, a GPU fallen off the bus, a GPU the driver
declared wedged, a GPU the installed NVIDIA driver or its open kernel module does not support, a driver's firmware
missing, a GPU whose init failed), rocminfo failing to open /dev/kfd for a reason that is not a permission, and
nvidia-smi failing to reach the driver or a GPU. Pure functions of text; each fault keeps its evidence line (NVRM's
reports, which newer drivers wrap over several "NVRM:" lines, are read joined)."""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.nvidia_smi import NvidiaSmiOutput
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.torch_cuda_init import cut_torch_cuda_init, first_torch_cuda_init
from rigfit.probe.profile import GpuFault

# (kind, pattern); a named group "detail" is what the line names. First match per kind is kept.
KERNEL_FAULTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kfd_unsupported_asic", later(r"kfd not supported on this ASIC")),
    ("kfd_unsupported_asic", later(r"kfd: amdgpu: (?P<detail>[A-Z][A-Z0-9_]{2,20})\s+not supported in kfd")),
    ("kfd_device_unlisted", later(r"kfd: DID (?P<detail>[0-9a-fA-F]{4}) is missing in supported_devices")),
    ("nouveau_holds_nvidia", later(r"NVRM: nouveau, rivafb, nvidiafb or rivatv")),
    ("nouveau_holds_nvidia", later(r"obtained ownership of the NVIDIA device")),
    ("nvidia_api_mismatch", later(r"NVRM: API mismatch")),
    ("nvidia_fallen_off_bus", later(r"fallen off the bus")),
    ("nvidia_init_failed", later(r"NVRM: GPU (?P<detail>[0-9a-fA-F:.]{7,16}): RmInitAdapter failed")),
    # why RmInitAdapter failed on a Turing-or-newer GPU: its GSP firmware did not start, or before that the GPU's own
    # firmware boot (GFW, from the VBIOS) never finished ("the GPU may be in a bad state and may need to be reset")
    ("nvidia_gsp_failed", later(r"RmInitAdapter: Cannot initialize GSP firmware RM")),
    ("nvidia_gfw_boot_failed", later(r"failed to wait for GFW(?:_BOOT| boot complete)")),
    ("nvidia_xid", later(r"NVRM: Xid \(PCI:[0-9a-fA-F:.]{4,20}\): (?P<detail>\d{1,3})\b")),
    # the kernel's OOM killer ending a process when RAM and swap ran out ("Memory cgroup out of memory: ..." is a
    # container's own limit, another fix: not matched, the case differs)
    ("kernel_oom_kill", later(r"Out of memory: Killed process \d+ \((?P<detail>[^)]{1,40})\)")),
    ("gpu_ring_timeout", later(r"ring (?P<detail>[a-z0-9_.]{2,24}) timeout, signaled seq")),
    # a GPU job touched memory it has no mapping for ("Memory access fault by GPU node-1 ... Page not present" in the
    # program); the client that faulted is on a line of its own, the copy engines (SDMA) have a fix of their own
    # (vmid 0 is the driver's own address space: no program's fault)
    (
        "gpu_page_fault",
        later(r"amdgpu\b.{0,40}\[(?:gfxhub|mmhub)\d{0,2}\] (?:no-retry |retry )?page fault \([^)]{0,40}vmid:[1-9]"),
    ),
    ("gpu_page_fault_sdma", later(r"Faulty UTCL2 client ID: (?P<detail>SDMA\d{0,2})\b")),
    ("gpu_reset", later(r"GPU reset begin")),
    # amdgpu_job_timedout after amdgpu_device_gpu_recover returned an error: the reset did not bring the GPU back
    ("gpu_reset_failed", later(r"GPU Recovery Failed: (?P<detail>-?\d+)|GPU reset\(\d+\) failed")),
    ("gpu_wedged", later(r"has declared device (?P<detail>[0-9a-fA-F:.]{7,16}) as wedged")),
    (
        "nvidia_open_module_unsupported",
        later(r"GPU (?P<detail>\S+ \(PCI ID: [0-9a-fA-F:]{9}\)) installed in this system is not supported by open"),
    ),
    (
        "nvidia_release_unsupported",
        later(
            r"is not supported by the (?:NVIDIA )?(?P<detail>\d{3}\.\d{1,3}(?:\.\d{1,3})?)"
            r"\s+(?:NVIDIA )?(?:Linux )?driver"
        ),
    ),
    ("gpu_init_failed", later(r"(?P<detail>amdgpu|radeon|i915|xe|nouveau)\b.{0,60}Fatal error during GPU init")),
    ("gpu_init_failed", later(r"^(?:.*\]\s*)?(?P<detail>amdgpu|radeon): probe of \S+ failed with error -\d+")),
    # the driver runs the card's VBIOS (ATOM BIOS) tables on the CPU and gave up on one that never ended: at start-up
    # the GPU does not post ("gpu post error", "Fatal error during GPU init" follow)
    ("gpu_vbios_hung", later(r"\[(?P<detail>amdgpu|radeon)\]\] \*ERROR\* atombios stuck in loop")),
    (
        "gpu_firmware_missing",
        later(
            r"Direct firmware load for (?P<detail>(?:amdgpu|radeon|i915|xe|nvidia|nouveau)/\S+?) failed with error -2"
        ),
    ),
)
# a wrapped NVRM report: "NVRM: The NVIDIA GPU 0000:09:00.0 (PCI ID: 10de:1d01)" then indented "NVRM: installed ..."
# (indented, or with no timestamp/"kernel:" of its own when the paste lost them)
_NVRM_CONTINUED = later(r"^(?:\s+(?:\[[^\]]{1,20}\]\s*)?)?NVRM: (?P<rest>.*)$")
# rocminfo: /dev/kfd exists and is readable by the group, yet open() fails: a wedged or refusing KFD, not permissions
_KFD_OPEN = later(
    r"Unable to open /dev/kfd read-write: (?P<detail>Invalid argument|Cannot allocate memory|Bad address)"
)
_PERMISSION = later(r"Unable to open /dev/kfd read-write: (?:Permission denied|No such file)")
_HSA_FAILED = later(r"hsa api call failure|HSA_STATUS_ERROR")
# ROCr's queue callback (ROCm clr rocdevice.cpp) ending a program whose GPU kernel failed: the runtime had started,
# held the GPU and launched work on it ("Callback: Queue 0x7501ba000000 aborting with error :
# HSA_STATUS_ERROR_INVALID_ISA: The instruction set architecture is invalid. code: 0x100f"); not a start-up failure
_QUEUE_ABORT = later(r"\bQueue 0x[0-9a-fA-F]+ aborting with error : (?P<detail>HSA_STATUS_ERROR_\w+)")
# the abort statuses a fault kind stands for (the others are no start-up failure either, and no fault of their own)
_QUEUE_ABORT_KINDS = {"HSA_STATUS_ERROR_INVALID_ISA": "hsa_invalid_isa"}
# the ROCm tools look for the amdgpu kernel module: rocminfo "ROCk module is NOT loaded" (NOT live in newer ones),
# rocm-smi / amd-smi "Driver not initialized (amdgpu not found in modules)"
_ROCK_MISSING = later(r"ROCk module is NOT (?:loaded|live)")
_SMI_NO_AMDGPU = later(r"(?i)driver not initiali[sz]ed \(amdgpu not found in modules\)")
# llama.cpp's (and ollama's runner's) GPU backend asking the CUDA/HIP runtime for its devices (ggml_cuda_init calls
# cudaGetDeviceCount, GGML_CUDA_NAME is CUDA, ROCm or MUSA): "ggml_cuda_init: failed to initialize ROCm: no
# ROCm-capable device is detected"; before 2024 the function was ggml_init_cublas ("no CUDA devices found")
_RUNTIME_NO_DEVICE = later(
    r"ggml_(?:cuda_init|init_cublas): "
    r"(?:failed to initialize (?P<detail>CUDA|ROCm|MUSA)\b|no (?P<old>CUDA) devices found)"
)
# SD.Next's installer asking ROCm for its GPU agents (modules/rocm.py get_agents: the HIP SDK's hipinfo on Windows,
# rocm_agent_enumerator or rocminfo on Linux) and getting none: installer.py install_rocm_zluda's warning
_UI_ROCM_NO_AGENT = later(r"\bROCm: no agent was found\b")
# a Stable Diffusion UI's start-up naming the device torch gave it: the CPU (InvokeAI "Using torch device: CPU",
# ComfyUI / Fooocus / Forge model_management "Device: cpu"), or no torch at all (kohya_ss / SD.Next installers
# "Could not load torch: No module named 'torch'"); a run told to use the CPU (--cpu, --always-cpu, --use-cpu) is no
# fault
_UI_TORCH_CPU = later(r"(?:\bUsing torch device: CPU|^\s*Device: cpu)\s*$")
_UI_TORCH_MISSING = later(r"\bCould not load torch: No module named '?torch'?")
_TORCH_OOM = later(r"\b(?P<detail>CUDA|HIP) out of memory\. Tried to allocate [\d.]+ [KMG]iB")
# the same message (torch >= 2.1) naming the other processes on that GPU: "Process 654925 has 5.68 GiB memory in use"
_OOM_OTHER = later(r"\bProcess (?P<pid>\d+) has (?P<size>[\d.]+ [KMG]iB) memory in use")
# A1111's / Forge's launch check (modules/launch_utils.py prepare_environment): "RuntimeError: Torch is not able to use
# GPU; add --skip-torch-cuda-test ...", Forge Neo "RuntimeError: PyTorch is not able to access GPU"
_UI_GPU_CHECK = later(r"\bRuntimeError: (?:Py)?Torch is not able to (?:use|access) GPU\b")
# ComfyUI's start-up asking torch for its device (comfy/model_management.py get_torch_device ->
# torch.cuda.current_device()) in a traceback: torch has no usable GPU, whatever the (maybe cut) error says
_COMFY_DEVICE_CALL = later(r"^\s*return torch\.device\(torch\.cuda\.current_device\(\)\)")
# torch's device start-up errors (torch/cuda/__init__.py _lazy_init / _raise_no_device): a CUDA build finding no
# NVIDIA driver, a ROCm build whose HIP runtime lists no GPU; a HIP runtime error torch raised (c10 "HIP error: ...")
_TORCH_DEVICE_ERRORS = (
    ("torch_no_nvidia_driver", later(r"\bFound no NVIDIA driver on your system\b")),
    ("torch_no_hip_gpu", later(r"\bNo HIP GPUs are available\b")),
    ("torch_hip_error", later(r"\bHIP error: [a-z][\w ]+?\s*$")),
)
# ComfyUI's start-up check (comfy/utils.py): a torch without torch.serialization.add_safe_globals (added in torch 2.4)
# makes it print "Warning, you are using an old pytorch version and some ckpt/pt files might be loaded unsafely.
# Upgrading to 2.4 or above is recommended." (its README supports pytorch 2.4 and up: Comfy-Org/ComfyUI#11512)
_UI_OLD_TORCH = later(
    r"\byou are using an old pytorch version\b.*?\bUpgrading to (?P<detail>\d+\.\d+) or above\b", re.I
)
_CPU_ASKED = later(r"(?:^|\s)--(?:cpu|always-cpu|use-cpu)\b")
NVIDIA_SMI_FAULTS = {
    "no_driver": "nvidia_smi_no_driver",
    "version_mismatch": "nvml_version_mismatch",
    "nvml_failed": "nvml_failed",
    "no_devices": "nvidia_smi_no_devices",
    "gpu_unreachable": "nvidia_gpu_unreachable",
}


def _joined(lines: list[str]) -> list[str]:
    """Kernel log lines with each wrapped NVRM report put back on one line."""
    joined: list[str] = []
    for line in lines:
        more = _NVRM_CONTINUED.match(line) if joined and "NVRM:" in joined[-1] else None
        if more:
            joined[-1] = f"{joined[-1].rstrip()} {more['rest'].strip()}"
        else:
            joined.append(line)
    return joined


def _sentence(line: str, match: re.Match[str]) -> str:
    """The evidence: the line, or a joined NVRM report up to the end of the sentence that matched."""
    end = line.find(". ", match.end()) if "NVRM:" in line else -1
    return (line[: end + 1] if end > 0 else line).strip()


# kinds whose every distinct detail counts (each Xid number means another fault), not only the first line's
_EVERY_DETAIL = ("nvidia_xid",)


def kernel_faults(text: str | None) -> list[GpuFault]:
    found: dict[str, GpuFault] = {}
    for line in _joined(clean_lines(text)):
        for kind, pattern in KERNEL_FAULTS:
            match = pattern.search(line) if kind not in found or kind in _EVERY_DETAIL else None
            if match is None:
                continue
            detail = match.groupdict().get("detail")
            if kind not in found:
                found[kind] = GpuFault(kind=kind, evidence=_sentence(line, match), detail=detail)
            elif detail and detail not in (found[kind].detail or "").split(", "):
                found[kind].detail = f"{found[kind].detail}, {detail}"
    return list(found.values())


def rocminfo_faults(text: str | None) -> list[GpuFault]:
    """/dev/kfd refusing to open (not for permissions), the amdgpu module missing ("ROCk module is NOT loaded"), or
    else the HSA runtime failing to start for a reason the output does not give ("hsa api call failure ... Call
    returned 4104"). A permission problem is said elsewhere. A queue abort (a kernel the running runtime could not
    execute) is that fault, never a runtime that did not start."""
    failed: list[GpuFault] = []
    for line in clean_lines(text):
        if abort := _QUEUE_ABORT.search(line):
            kind = _QUEUE_ABORT_KINDS.get(abort["detail"])
            return [GpuFault(kind=kind, evidence=line.strip(), detail=abort["detail"])] if kind else []
        match = _KFD_OPEN.search(line)
        if match:
            return [GpuFault(kind="kfd_open_failed", evidence=line.strip(), detail=match["detail"])]
        if _PERMISSION.search(line):
            return []
        if _ROCK_MISSING.search(line):
            return [GpuFault(kind="amdgpu_not_loaded", evidence=line.strip())]
        if not failed and _HSA_FAILED.search(line):
            failed.append(GpuFault(kind="hsa_init_failed", evidence=line.strip()))
    return failed


def rocm_smi_faults(text: str | None) -> list[GpuFault]:
    """rocm-smi or amd-smi (pasted where rocm-smi's output goes) saying the amdgpu kernel module is not there."""
    for line in clean_lines(text):
        if _SMI_NO_AMDGPU.search(line):
            return [GpuFault(kind="amdgpu_not_loaded_smi", evidence=line.strip())]
    return []


def runtime_faults(text: str | None) -> list[GpuFault]:
    """An LLM runtime's GPU backend (llama.cpp, ollama's runner) finding no device through its CUDA/HIP runtime, or a
    UI's installer (SD.Next) finding no GPU agent through ROCm's (the HIP SDK's on Windows)."""
    for line in clean_lines(text):
        if match := _RUNTIME_NO_DEVICE.search(line):
            backend = match["detail"] or match["old"]
            return [GpuFault(kind="runtime_no_device", evidence=line.strip(), detail=backend)]
        if _UI_ROCM_NO_AGENT.search(line):
            return [GpuFault(kind="ui_rocm_no_agent", evidence=line.strip())]
    return []


def ui_torch_faults(text: str | None) -> list[GpuFault]:
    """A UI's start-up saying torch runs on the CPU or is not installed (unless the run asked for the CPU), torch's
    CUDA start-up check failing (why it runs on the CPU: detail is the status's gpu_errors.yaml id), or torch
    refusing an allocation on the GPU (out of memory)."""
    lines = clean_lines(text)
    old = _ui_old_torch(lines)  # said whatever else happened, even on the CPU
    if any(_CPU_ASKED.search(line) for line in lines):
        return old
    if init := first_torch_cuda_init(lines):
        return [
            GpuFault(kind="torch_cuda_init", evidence=init.evidence, detail=init.status.id),
            *_ui_torch(lines),
            *old,
        ]
    if cut := cut_torch_cuda_init(lines):
        return [GpuFault(kind="torch_cuda_init", evidence=cut), *_ui_torch(lines), *old]
    return _ui_torch(lines) + old


def _ui_old_torch(lines: list[str]) -> list[GpuFault]:
    """A UI saying the torch it imports is older than the release it names (ComfyUI: "Upgrading to 2.4 or above")."""
    for line in lines:
        if found := _UI_OLD_TORCH.search(line):
            return [GpuFault(kind="ui_old_torch", evidence=line.strip(), detail=found["detail"])]
    return []


def _ui_torch(lines: list[str]) -> list[GpuFault]:
    if device := _torch_device_error(lines):
        return [device]  # it says why the UI's launch check or device call failed
    if crashed := _ui_device_crash(lines):
        return [crashed]
    for line in lines:
        if oom := _TORCH_OOM.search(line):
            others = ", ".join(f"PID {m['pid']} {m['size']}" for m in _OOM_OTHER.finditer(line))
            evidence = line.strip().strip("`")[:240]
            return [GpuFault(kind="torch_oom", evidence=evidence, detail=oom["detail"], facts=_others(others))]
        if _UI_TORCH_MISSING.search(line):
            return [GpuFault(kind="ui_torch_missing", evidence=line.strip())]
        if _UI_TORCH_CPU.search(line):
            return [GpuFault(kind="ui_torch_cpu", evidence=line.strip())]
    return []


def _torch_device_error(lines: list[str]) -> GpuFault | None:
    for kind, pattern in _TORCH_DEVICE_ERRORS:
        for line in lines:
            if found := pattern.search(line):
                evidence = line.strip().strip("`")
                return GpuFault(kind=kind, evidence=evidence, detail=found.groupdict().get("detail"))
    return None


def _others(processes: str) -> dict[str, str]:
    return {"other_processes": processes} if processes else {}


def _ui_device_crash(lines: list[str]) -> GpuFault | None:
    """A UI that stopped at start because torch gave it no GPU: A1111/Forge's launch check, or ComfyUI's traceback
    through get_torch_device into torch.cuda.current_device()."""
    for pos, line in enumerate(lines):
        if _UI_GPU_CHECK.search(line):
            return GpuFault(kind="ui_torch_gpu_check", evidence=line.strip())
        if _COMFY_DEVICE_CALL.match(line) and any("in get_torch_device" in ln for ln in lines[max(0, pos - 2) : pos]):
            return GpuFault(kind="ui_torch_device_crash", evidence=line.strip())
    return None


def nvidia_smi_faults(smi: NvidiaSmiOutput, nvidia_gpu_reports_it: bool) -> list[GpuFault]:
    """nvidia-smi's failure, unless an NVIDIA GPU in the profile already carries it (gpu.nvidia_no_driver)."""
    kind = NVIDIA_SMI_FAULTS.get(smi.error or "")
    if kind is None or nvidia_gpu_reports_it:
        return _compute_prohibited(smi)
    return [GpuFault(kind=kind, evidence=smi.error_line or smi.error or "")]


def _compute_prohibited(smi: NvidiaSmiOutput) -> list[GpuFault]:
    """GPUs whose compute mode lets no CUDA context in: a blocker when no listed GPU is left for CUDA."""
    shut = [g for g in smi.gpus if g.compute_mode == "Prohibited"]
    if not shut:
        return []
    kind = "nvidia_smi_compute_prohibited" + ("" if len(shut) == len(smi.gpus) else "_some")
    named = ", ".join(f"GPU {g.index} {g.name or ''}".rstrip() for g in shut)
    return [GpuFault(kind=kind, evidence=f"{named}: Compute M. Prohibited")]
