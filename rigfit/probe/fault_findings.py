"""Findings for the broken GPU states in profile.gpu_faults, and for the kernel's OOM killer ending a process (read
from the same kernel log): what the evidence line means, and the fix (rigfit/kb/fixes.yaml). A fault is never
silence: it is a blocker when no GPU can run, a warning otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from rigfit.kb.fixes import fix_text
from rigfit.kb.issues import issue_answering
from rigfit.kb.nvidia_xids import XidGroup, xid_group
from rigfit.lazy_re import later
from rigfit.probe.gpu.pip_output import pip_torch_fix
from rigfit.probe.gpu.torch_cuda_init import init_status, init_status_fix
from rigfit.probe.profile import Finding, GpuFault, Profile
from rigfit.records import record

Severity = Literal["blocker", "warning", "info"]
_ANON_RSS = later(r"anon-rss:(\d+)kB")


@record(frozen=True)
class FaultKind:
    finding: str
    severity: Severity
    group: str
    means: str  # what the evidence shows, after "the ... log says '<line>':"
    fix: Callable[[GpuFault], str]


def _memory_mode_fix(fault: GpuFault) -> str:
    """Drop the flag; and what --cuda-device (printed "Set cuda device to: N") does, which is another matter."""
    flags, vram_gib, card_mode = fault.facts["flags"], fault.facts["vram_gib"], fault.facts["card_mode"]
    if "cuda_device" in fault.facts:
        return fix_text(
            "ui.memory_mode_forced",
            case="cuda-device",
            cuda_device=fault.facts["cuda_device"],
            flags=flags,
            vram_gib=vram_gib,
            card_mode=card_mode,
        )
    return fix_text("ui.memory_mode_forced", flags=flags, vram_gib=vram_gib, card_mode=card_mode)


def _issue_fix(fault: GpuFault) -> str:
    """The fix explain gives for the same line (the issue entry it matches), so both commands answer alike; without
    one (a KB that lost it), the generic check of the environment's torch build."""
    entry = issue_answering(fault.evidence)
    return entry.fix.replace("{ui_name}", "the UI") if entry else fix_text("torch.ui_runs_on_cpu")


FAULTS: dict[str, FaultKind] = {
    "runtime_no_device": FaultKind(
        "gpu.runtime_no_device",
        "warning",
        "drivers",
        "the GPU runtime that program uses listed no GPU, so it runs on the CPU; torch goes through the same "
        "runtime and driver",
        lambda f: fix_text("gpu.runtime_no_device", case="rocm" if f.detail == "ROCm" else "cuda"),
    ),
    "ui_rocm_no_agent": FaultKind(
        "gpu.runtime_no_device",
        "warning",
        "drivers",
        "ROCm listed no GPU agent to the UI (on Windows the HIP SDK's hipInfo, on Linux rocm_agent_enumerator): no "
        "AMD driver or KFD access, or a GPU the installed ROCm / HIP SDK does not support; ZLUDA and a ROCm torch then "
        "have no GPU to run on",
        lambda f: fix_text("gpu.runtime_no_device", case="ui-rocm-agents"),
    ),
    "ui_torch_cpu": FaultKind(
        "torch.ui_runs_on_cpu",
        "warning",
        "torch",
        "torch in that UI's environment found no GPU it can use, so the UI runs on the CPU (many times slower)",
        lambda f: fix_text("torch.ui_runs_on_cpu"),
    ),
    "torch_cuda_init": FaultKind(
        "torch.cuda_init_failed",
        "warning",
        "drivers",
        "torch's CUDA start-up check (cudaGetDeviceCount) failed, so torch sees no GPU: the UI runs on the CPU, or "
        "stops where it asks torch for its GPU",
        lambda f: init_status_fix(f.detail) if f.detail else fix_text("torch.cuda_init_failed", case="cut"),
    ),
    "ui_torch_gpu_check": FaultKind(
        "torch.ui_runs_on_cpu",
        "warning",
        "torch",
        "torch in that UI's environment cannot use a GPU, so the UI stopped at its launch check (why is not in this "
        "line: a CPU-only torch, the wrong build for the GPU, or the driver)",
        lambda f: fix_text("torch.ui_runs_on_cpu"),
    ),
    "ui_torch_device_crash": FaultKind(
        "torch.ui_runs_on_cpu",
        "warning",
        "torch",
        "ComfyUI stopped at start asking torch for its CUDA device: torch has no GPU it can use (the error that says "
        "why comes after this line)",
        lambda f: fix_text("torch.ui_runs_on_cpu"),
    ),
    "torch_no_nvidia_driver": FaultKind(
        "torch.cuda_no_driver",
        "warning",
        "torch",
        "torch in that environment is a CUDA (NVIDIA) build and no NVIDIA driver answered it: the machine has no "
        "NVIDIA GPU (then this is the wrong torch for its GPU), or the NVIDIA driver is not installed or not loaded",
        _issue_fix,
    ),
    "torch_no_hip_gpu": FaultKind(
        "torch.rocm_no_gpu",
        "warning",
        "torch",
        "torch in that environment is a ROCm (AMD) build and its HIP runtime listed no GPU it can use, so the UI "
        "cannot start on the GPU",
        _issue_fix,
    ),
    "torch_hip_error": FaultKind(
        "torch.hip_error",
        "warning",
        "torch",
        "torch's ROCm (HIP) runtime reported an error while the UI ran work on the GPU; which call failed, and why, "
        "is not in this line (HIP reports errors late, at a later call)",
        lambda f: _issue_fix(f) if issue_answering(f.evidence) else fix_text("torch.hip_error"),
    ),
    "ui_old_torch": FaultKind(
        "torch.older_than_ui_needs",
        "warning",
        "torch",
        "the torch that UI imports lacks what ComfyUI loads .ckpt/.pt files safely with "
        "(torch.serialization.add_safe_globals), so it loads them through pickle, unsafely: that torch is older than "
        "the release the warning names, and ComfyUI supports only that release and newer",
        lambda f: fix_text("torch.older_than_ui_needs", release=f.detail or "2.4"),
    ),
    "ui_memory_state_forced": FaultKind(
        "ui.memory_mode_forced",
        "warning",
        "torch",
        "a launch flag forces the memory mode the UI keeps for cards too small for the model, so every step waits "
        "on system RAM",
        lambda f: _memory_mode_fix(f),
    ),
    "bnb_no_gpu_library": FaultKind(
        "bitsandbytes.no_gpu_library",
        "info",
        "torch",
        "bitsandbytes has no GPU library for the runtime this torch was built for: models loaded in 8-bit/4-bit "
        "(bitsandbytes quantization) and 8-bit optimizers cannot be used; this alone does not stop the UI, which "
        "runs on the GPU without them",
        _issue_fix,
    ),
    "app_not_a_checkout": FaultKind(
        "app.not_a_git_checkout",
        "warning",
        "torch",
        "the app's folder is not a git checkout (unpacked from a ZIP download or a release archive): its setup "
        "updates it and fetches its git submodule with git, which fails here, so the submodule's folder is missing",
        lambda f: fix_text(
            "app.not_a_git_checkout",
            app=f.facts["app"],
            repo=f.facts["repo"],
            folder=f.facts["folder"],
            part_repo=f.facts["part_repo"],
        ),
    ),
    "ui_torch_missing": FaultKind(
        "torch.ui_torch_missing",
        "warning",
        "torch",
        "torch is not installed in the Python environment that UI runs in",
        lambda f: fix_text("torch.ui_torch_missing"),
    ),
    "torch_oom": FaultKind(
        "torch.out_of_memory",
        "warning",
        "torch",
        "the job needed more GPU memory than was free on that GPU; the GPU itself works",
        lambda f: (
            fix_text("torch.out_of_memory", case="other-processes", processes=f.facts["other_processes"])
            if "other_processes" in f.facts
            else fix_text("torch.out_of_memory")
        ),
    ),
    "pip_no_torch": FaultKind(
        "torch.no_matching_build",
        "warning",
        "torch",
        "the index pip searched has no torch of that version and build for this Python and platform, so pip "
        "installed nothing",
        lambda f: pip_torch_fix(f.facts),
    ),
    "torch_build_swap": FaultKind(
        "torch.build_swapped",
        "warning",
        "torch",
        "the UI's installer is replacing the installed torch with a build for another kind of GPU",
        lambda f: fix_text("torch.build_swapped", installed=f.facts["installed"], required=f.facts["required"]),
    ),
    "installer_requirements_vendor": FaultKind(
        "installer.wrong_vendor_requirements",
        "warning",
        "torch",
        "the installer reads the requirements file of another kind of GPU than this machine's, so it installs (or, "
        "where the file is missing, stops before installing) that kind's torch build, which cannot use this GPU",
        lambda f: fix_text(
            "installer.wrong_vendor_requirements",
            case="nvidia-machine" if f.facts["machine"] == "cuda" else "amd-machine",
            requirements=f.facts["requirements"],
        ),
    ),
    "ui_flags_ignored": FaultKind(
        "ui.flags_ignored",
        "info",
        "torch",
        "the UI its version line names does not read these launch arguments (another UI's flags), so they change "
        "nothing",
        lambda f: fix_text(
            "ui.flags_ignored",
            ui=f.facts["ui"],
            ui_id=f.facts["ui_id"],
            flags=f.facts["flags"],
            instead=f.facts["instead"],
        ),
    ),
    "kernel_oom_kill": FaultKind(
        "memory.out_of_ram",
        "warning",
        "memory",
        "the kernel's OOM killer ended a process because RAM and swap ran out (RAM, not GPU memory)",
        lambda f: fix_text("memory.out_of_ram"),
    ),
    "nvidia_smi_no_driver": FaultKind(
        "gpu.nvidia_driver_not_loaded",
        "blocker",
        "drivers",
        "the NVIDIA kernel module is not loaded, so CUDA sees no GPU",
        lambda f: fix_text("gpu.nvidia_driver_not_loaded"),
    ),
    "nvml_version_mismatch": FaultKind(
        "gpu.nvidia_driver_mismatch",
        "blocker",
        "drivers",
        "the loaded NVIDIA kernel module is another version than the installed driver libraries (usually after a "
        "driver update without a reboot)",
        lambda f: fix_text("gpu.nvidia_driver_mismatch"),
    ),
    "nvidia_api_mismatch": FaultKind(
        "gpu.nvidia_driver_mismatch",
        "blocker",
        "drivers",
        "the loaded NVIDIA kernel module is another version than the installed driver libraries",
        lambda f: fix_text("gpu.nvidia_driver_mismatch"),
    ),
    "nvml_failed": FaultKind(
        "gpu.nvml_failed",
        "blocker",
        "drivers",
        "nvidia-smi cannot initialize NVML: the driver is not usable from here",
        lambda f: (
            fix_text("gpu.nvml_failed", case="unknown-error")
            if "Unknown Error" in f.evidence
            else fix_text("gpu.nvml_failed")
        ),
    ),
    "nvidia_smi_no_devices": FaultKind(
        "gpu.nvidia_no_devices",
        "blocker",
        "drivers",
        "the NVIDIA driver is loaded but brought up no GPU, so CUDA sees none",
        lambda f: fix_text("gpu.nvidia_no_devices"),
    ),
    "nvidia_init_failed": FaultKind(
        "gpu.nvidia_no_devices",
        "blocker",
        "drivers",
        "the NVIDIA driver found the GPU but failed to initialize it (RmInitAdapter), so CUDA sees no GPU",
        lambda f: fix_text("gpu.nvidia_no_devices"),
    ),
    "nvidia_gsp_failed": FaultKind(
        "gpu.nvidia_gsp_failed",
        "blocker",
        "drivers",
        "the driver could not start the GPU's GSP firmware (the GPU System Processor that runs the driver's core on "
        "Turing and newer GPUs), so it initialised no GPU and CUDA sees none",
        lambda f: fix_text("gpu.nvidia_gsp_failed"),
    ),
    "nvidia_gfw_boot_failed": FaultKind(
        "gpu.nvidia_gsp_failed",
        "blocker",
        "drivers",
        "the GPU's own firmware boot (GFW, run from its VBIOS at power-on) never finished, so the driver cannot start "
        "it: the GPU is in a bad state (after a resume, a reset or a power fault) or failing, and CUDA sees none",
        lambda f: fix_text("gpu.nvidia_gsp_failed"),
    ),
    "nouveau_holds_nvidia": FaultKind(
        "gpu.nouveau_holds_nvidia",
        "blocker",
        "drivers",
        "nouveau (the open-source driver) owns the NVIDIA card, so NVIDIA's driver, and CUDA, cannot use it",
        lambda f: fix_text("gpu.nouveau_holds_nvidia"),
    ),
    "kfd_unsupported_asic": FaultKind(
        "gpu.kfd_unsupported_asic",
        "blocker",
        "drivers",
        "the kernel's ROCm driver (KFD) does not accept this GPU, so ROCm cannot use it with this kernel",
        lambda f: fix_text("gpu.kfd_unsupported_asic"),
    ),
    "kfd_device_unlisted": FaultKind(
        "gpu.kfd_unsupported_asic",
        "warning",  # it names one device: another GPU KFD added may still work
        "drivers",
        "this kernel's ROCm driver (KFD) does not list that device id, so ROCm cannot use that GPU with this kernel",
        lambda f: fix_text("gpu.kfd_unsupported_asic"),
    ),
    "kfd_open_failed": FaultKind(
        "rocm.kfd_open_failed",
        "blocker",
        "permissions",
        "/dev/kfd exists but the kernel refuses to open it: not a permission problem; KFD is wedged or has no GPU it "
        "accepts",
        lambda f: fix_text("rocm.kfd_open_failed"),
    ),
    "amdgpu_not_loaded": FaultKind(
        "rocm.amdgpu_not_loaded",
        "blocker",
        "drivers",
        "the amdgpu kernel driver is not loaded (or this system's /sys/module does not show it), so ROCm sees no GPU",
        lambda f: fix_text("rocm.amdgpu_not_loaded"),
    ),
    "amdgpu_not_loaded_smi": FaultKind(
        "rocm.amdgpu_not_loaded",
        "blocker",
        "drivers",
        "the amdgpu kernel driver is not loaded (or this system's /sys/module does not show it), so ROCm sees no GPU",
        lambda f: fix_text("rocm.amdgpu_not_loaded"),
    ),
    "hsa_init_failed": FaultKind(
        "rocm.runtime_failed",
        "warning",  # a torch wheel brings its own runtime: the plan may still work; doctor says what is known
        "drivers",
        "the installed ROCm runtime (HSA) could not start, so programs using it see no GPU; this line alone does not "
        "say why",
        lambda f: fix_text("rocm.runtime_failed"),
    ),
    "hsa_invalid_isa": FaultKind(
        "rocm.invalid_isa",
        "warning",
        "drivers",
        "the ROCm runtime was running (it held the GPU and ran work on it) and stopped the program at a GPU kernel "
        "built for another instruction set (ISA) than this GPU executes: the torch build or a library has no code "
        "for the GPU's own gfx, or an HSA_OVERRIDE_GFX_VERSION made it load another gfx's code",
        _issue_fix,
    ),
    "gpu_ring_timeout": FaultKind(
        "gpu.ring_timeout",
        "warning",
        "drivers",
        "a GPU job hung and the driver timed it out; a GPU reset usually follows and kills the running program",
        lambda f: fix_text("gpu.ring_timeout"),
    ),
    "gpu_page_fault": FaultKind(
        "gpu.page_fault",
        "warning",
        "drivers",
        "a program's GPU job touched memory it has no mapping for, and the program was stopped (it reports "
        '"Memory access fault by GPU node")',
        lambda f: fix_text("gpu.page_fault"),
    ),
    "gpu_page_fault_sdma": FaultKind(
        "gpu.page_fault",
        "warning",
        "drivers",
        "a GPU page fault by a copy engine: the program's memory copies failed and it was stopped",
        lambda f: fix_text("gpu.page_fault", case="sdma"),
    ),
    "gpu_reset": FaultKind(
        "gpu.reset",
        "warning",
        "drivers",
        "the driver reset the GPU: whatever ran on it (the UI's torch process) lost its work",
        lambda f: fix_text("gpu.ring_timeout"),
    ),
    "gpu_reset_failed": FaultKind(
        "gpu.reset_failed",
        "blocker",
        "drivers",
        "the driver tried to reset the hung GPU and the reset failed: the GPU stays unusable until the machine "
        "restarts",
        lambda f: fix_text("gpu.reset_failed"),
    ),
    "nvidia_fallen_off_bus": FaultKind(
        "gpu.nvidia_fallen_off_bus",
        "blocker",
        "drivers",
        "the NVIDIA GPU stopped answering on the PCIe bus (Xid 79): power, heat, the slot or a power-saving state",
        lambda f: fix_text("gpu.nvidia_fallen_off_bus"),
    ),
    "gpu_wedged": FaultKind(
        "gpu.wedged",
        "blocker",
        "drivers",
        "the driver gave up on the GPU and blocks all work on it until it is rebound or the machine restarts",
        lambda f: fix_text("gpu.wedged"),
    ),
    "nvidia_smi_compute_prohibited": FaultKind(
        "gpu.nvidia_compute_prohibited",
        "blocker",
        "drivers",
        "the GPU's compute mode is Prohibited: the driver lets no process create a CUDA context on it, so every CUDA "
        "program (torch, ollama, llama.cpp) runs on the CPU or fails with 'all CUDA-capable devices are busy or "
        "unavailable'",
        lambda f: fix_text("gpu.nvidia_compute_prohibited"),
    ),
    "nvidia_smi_compute_prohibited_some": FaultKind(
        "gpu.nvidia_compute_prohibited",
        "warning",
        "drivers",
        "that GPU's compute mode is Prohibited: no CUDA program can use it (the other GPUs can)",
        lambda f: fix_text("gpu.nvidia_compute_prohibited"),
    ),
    "nvidia_gpu_unreachable": FaultKind(
        "gpu.nvidia_gpu_unreachable",
        "blocker",
        "drivers",
        "NVML reaches the driver but not this GPU: it stopped answering (most often it fell off the PCIe bus: power, "
        "heat, a riser or the slot)",
        lambda f: fix_text("gpu.nvidia_gpu_unreachable"),
    ),
    "nvidia_open_module_unsupported": FaultKind(
        "gpu.nvidia_open_module_unsupported",
        "blocker",
        "drivers",
        "the driver's open kernel module runs only GPUs with a GSP (Turing and newer); this GPU needs the "
        "proprietary module of the same driver, and no NVIDIA device was initialised",
        lambda f: fix_text("gpu.nvidia_open_module_unsupported"),
    ),
    "nvidia_release_unsupported": FaultKind(
        "gpu.nvidia_driver_unsupported_gpu",
        "blocker",
        "drivers",
        "the installed NVIDIA driver release does not support this GPU (a GPU newer than the release, or one it no "
        "longer supports), so it initialised none",
        lambda f: fix_text("gpu.nvidia_driver_unsupported_gpu"),
    ),
    "gpu_init_failed": FaultKind(
        "gpu.init_failed",
        "blocker",
        "drivers",
        "the kernel driver gave up initialising the GPU, so nothing (ROCm, Vulkan, the desktop) can use it",
        lambda f: fix_text("gpu.init_failed"),
    ),
    "gpu_vbios_hung": FaultKind(
        "gpu.vbios_hung",
        "warning",  # it stops the GPU's start-up; later, in the display code, it costs a screen mode
        "drivers",
        "the driver ran a table of the card's VBIOS (ATOM BIOS) that never finished and aborted it; at start-up the "
        'GPU then does not initialise ("gpu post error", "Fatal error during GPU init")',
        lambda f: fix_text("gpu.vbios_hung"),
    ),
    "gpu_firmware_missing": FaultKind(
        "gpu.firmware_missing",
        "warning",
        "drivers",
        "a firmware file the GPU driver asked for is not installed",
        lambda f: fix_text("gpu.firmware_missing", file=f.detail or "?"),
    ),
    "nvidia_xid": FaultKind(
        "gpu.nvidia_xid",
        "warning",
        "drivers",
        "the NVIDIA driver logged an Xid error (a GPU fault; its number says which)",
        lambda f: _xid_fix(f.detail),
    ),
}
# a fault said better by another one on the same machine
SUPERSEDED: dict[str, tuple[str, ...]] = {
    "gpu_reset": ("gpu_ring_timeout", "gpu_reset_failed"),
    "gpu_page_fault": ("gpu_page_fault_sdma",),
    "nvidia_xid": ("nvidia_fallen_off_bus",),
    "ui_torch_cpu": ("torch_cuda_init",),
    "ui_torch_device_crash": ("torch_cuda_init",),  # the UI's device call failed at torch's CUDA check, said there
    "nvml_failed": ("nvml_version_mismatch",),
    "kfd_open_failed": ("kfd_unsupported_asic",),
    "nvidia_smi_no_devices": ("nvidia_init_failed", "nvidia_gsp_failed", "nvidia_gfw_boot_failed"),
    "hsa_init_failed": (
        "kfd_open_failed",
        "kfd_unsupported_asic",
        "pcie_atomics_rejected",
        "amdgpu_not_loaded",
        "amdgpu_not_loaded_smi",
    ),
}


# a fault that is one only beside another: the copy engine's client line counts when a program's page fault is there
REQUIRES: dict[str, str] = {"gpu_page_fault_sdma": "gpu_page_fault"}


def _said_by(kind: str) -> str:
    if kind.startswith(("nvidia_smi", "nvml")) or kind == "nvidia_gpu_unreachable":
        return "nvidia-smi says"
    if kind == "ui_rocm_no_agent":
        return "The UI's installer says"
    if kind == "runtime_no_device":
        return "llama.cpp's GPU backend (ollama's runner too) says"
    if kind in ("torch_oom", "torch_no_nvidia_driver", "torch_no_hip_gpu", "torch_hip_error"):
        return "torch says"
    if kind == "torch_cuda_init":
        return "torch says"
    if kind == "pip_no_torch":
        return "pip says"
    if kind in ("torch_build_swap", "installer_requirements_vendor"):
        return "The UI's installer says"
    if kind == "ui_torch_device_crash":
        return "ComfyUI's traceback ends in"
    if kind == "ui_old_torch":
        return "ComfyUI's start-up says"
    if kind in ("ui_memory_state_forced", "ui_flags_ignored"):
        return "The UI's start-up says"
    if kind == "bnb_no_gpu_library":
        return "bitsandbytes says"
    if kind == "app_not_a_checkout":
        return "git says, in the app's start-up,"
    if kind.startswith("ui_torch"):
        return "The UI's start-up says"
    if kind == "amdgpu_not_loaded_smi":
        return "The ROCm SMI tool says"
    if kind == "hsa_invalid_isa":
        return "The ROCm runtime says"
    return (
        "rocminfo says"
        if kind in ("kfd_open_failed", "hsa_init_failed", "amdgpu_not_loaded")
        else "The kernel log says"
    )


def gpu_fault_findings(profile: Profile) -> list[Finding]:
    kinds = {f.kind for f in profile.gpu_faults}
    if any(g.atomics_rejected for g in profile.gpus):
        kinds.add("pcie_atomics_rejected")  # it says why the runtime found no GPU
    findings: dict[str, Finding] = {}
    for fault in profile.gpu_faults:
        kind = FAULTS.get(fault.kind)
        if kind is None or kinds.intersection(SUPERSEDED.get(fault.kind, ())) or kind.finding in findings:
            continue
        if REQUIRES.get(fault.kind, fault.kind) not in kinds:
            continue
        named = _named(fault)
        findings[kind.finding] = Finding(
            id=kind.finding,
            severity=kind.severity,
            blocks="gpu" if kind.severity == "blocker" else None,
            group=kind.group,
            message=f"{_said_by(fault.kind)} '{fault.evidence}': {kind.means}{named}.",
            fix=kind.fix(fault),
        )
    return list(findings.values())


def _override_named(fault: GpuFault) -> str:
    override = fault.facts.get("hsa_override")
    if override is None:
        return " (no HSA_OVERRIDE_GFX_VERSION is set in what was given)"
    return (
        f"; HSA_OVERRIDE_GFX_VERSION={override} is set in what was given: it makes the runtime load the kernels of "
        f"{fault.facts.get('override_gfx') or 'the gfx it names'} on every AMD GPU, the likely cause when the GPU is "
        "not of that family"
    )


def _named(fault: GpuFault) -> str:
    """What the fault's line names, said after its meaning: the Xids' meanings, the killed process and its RAM."""
    if fault.kind == "hsa_invalid_isa":
        return _override_named(fault)
    if fault.kind == "torch_oom" and "other_processes" in fault.facts:
        return f" ({fault.detail}); other processes hold memory on the same GPU: {fault.facts['other_processes']}"
    if fault.kind == "nvidia_xid":
        return _xid_meanings(fault.detail)
    if fault.kind == "kernel_oom_kill":
        return _killed_process(fault)
    if fault.kind == "ui_memory_state_forced":
        return f" ({fault.facts['means']}; this card has {fault.facts['vram_gib']} GiB)"
    if fault.kind == "ui_flags_ignored":
        return f" ({fault.detail} ignores {fault.facts['flags']})"
    if fault.kind == "app_not_a_checkout":
        return f" ({fault.facts['app']}: {fault.facts['folder']}, from {fault.facts['part_repo']})"
    if fault.kind == "torch_cuda_init":
        if fault.detail is None:
            return " (the paste cuts torch's message before the error's number and text, which say why)"
        return f": {status.meaning}" if (status := init_status(fault.detail)) else ""
    return f" ({fault.detail})" if fault.detail else ""


def _killed_process(fault: GpuFault) -> str:
    rss = _ANON_RSS.search(fault.evidence)
    held = f", which held {int(rss[1]) / 2**20:.1f} GiB of RAM (anon-rss)" if rss else ""
    return f": {fault.detail}{held}"


def _xids(detail: str | None) -> list[tuple[int, XidGroup | None]]:
    """The Xid numbers a log names ("43, 31, 94"), each with its group in nvidia_xids.yaml."""
    numbers = [int(n) for n in (detail or "").split(", ") if n.isdigit()]
    return [(n, xid_group(n)) for n in numbers]


def _xid_meanings(detail: str | None) -> str:
    """ "; Xid 43: a program's GPU work failed ...; Xid 94: a GPU memory (ECC) error ..." for the known numbers."""
    numbers: dict[str, list[str]] = {}  # group id -> its Xids in the log, in log order
    groups: dict[str, XidGroup] = {}
    for n, group in _xids(detail):
        if group:
            numbers.setdefault(group.id, []).append(str(n))
            groups[group.id] = group
    known = [f"Xid {', '.join(ns)}: {groups[gid].meaning}" for gid, ns in numbers.items()]
    return "; " + "; ".join(known) if known else ""


def _xid_fix(detail: str | None) -> str:
    """The fix of the gravest Xid group the log names (a memory fault outweighs a program's crash)."""
    xids = _xids(detail)
    grouped = [group for _, group in xids if group]
    worst = max(grouped, key=lambda g: g.rank) if grouped else None
    numbers = ", ".join(str(n) for n, group in xids if group is worst) or detail or "?"
    return _XID_FIXES[worst.case if worst else None](numbers)


# the fix of each nvidia_xids.yaml case (fixes.yaml gpu.nvidia_xid); an Xid in no group gets the generic one
_XID_FIXES: dict[str | None, Callable[[str], str]] = {
    "program": lambda xid: fix_text("gpu.nvidia_xid", case="program", xid=xid),
    "memory": lambda xid: fix_text("gpu.nvidia_xid", case="memory", xid=xid),
    "firmware": lambda xid: fix_text("gpu.nvidia_xid", case="firmware", xid=xid),
    "link": lambda xid: fix_text("gpu.nvidia_xid", case="link", xid=xid),
    None: lambda xid: fix_text("gpu.nvidia_xid", xid=xid),
}
