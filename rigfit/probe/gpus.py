"""GPUs before any driver stack is known to work: what is on the PCI bus, which driver holds it, what ROCm / CUDA
see of it, how it is linked to the CPU.

Sources: sysfs PCI and DRM, KFD topology, lspci, rocminfo, rocm-smi, nvidia-smi, the kernel log, version files.
The parsers live in rigfit/probe/gpu/ (one module per tool) and the merge in rigfit/probe/gpu/merge.py; this module
reads through the Source, fills the profile and turns what it found into findings.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rigfit.kb.display_adapters import display_adapter, display_adapters
from rigfit.kb.fixes import fix_text
from rigfit.kb.gpus import gfx_family, model_of
from rigfit.kb.loader import by_id
from rigfit.kb.rocm_support import rocm_support
from rigfit.kb.schemas import xpu_ui_names
from rigfit.probe.gpu import kfd, sysfs
from rigfit.probe.gpu.faults import (
    kernel_faults,
    nvidia_smi_faults,
    rocm_smi_faults,
    rocminfo_faults,
    runtime_faults,
    ui_torch_faults,
)
from rigfit.probe.gpu.id_listings import parse_id_listings
from rigfit.probe.gpu.installer_swap import torch_swap_faults
from rigfit.probe.gpu.kernel_log import parse_kernel_log
from rigfit.probe.gpu.kernel_only import gpus_only_in_kernel_log
from rigfit.probe.gpu.lspci import parse_lspci
from rigfit.probe.gpu.merge import Evidence, merge
from rigfit.probe.gpu.nvidia_smi import NvidiaGpu, NvidiaSmiOutput, parse_nvidia_smi
from rigfit.probe.gpu.nvidia_smi_cut import with_cut_rows
from rigfit.probe.gpu.pip_output import pip_torch_faults
from rigfit.probe.gpu.renderers import NamedGpu, clinfo_cuda_platform, parse_named_gpus
from rigfit.probe.gpu.rocm_smi import parse_rocm_smi, without_other_cards
from rigfit.probe.gpu.rocminfo import parse_rocminfo
from rigfit.probe.gpu.rocminfo_grep import with_grepped_agents
from rigfit.probe.gpu.runtimes import (
    hip_version,
    nvidia_module_loaded,
    nvidia_module_version,
    override_gfx,
    rocm_version,
)
from rigfit.probe.gpu.torch_reports import TorchReport, parse_torch_report
from rigfit.probe.gpu.ui_console import ui_console_faults
from rigfit.probe.gpu.wheel_build import wheel_build
from rigfit.probe.gpu_partitions import partition_findings
from rigfit.probe.pcie_slots import atomics_slot_advice, faster_slot_advice, slow_link
from rigfit.probe.profile import CpuInfo, DisplayOnlyAdapter, Finding, GpuFault, GpuInfo, Profile, TorchInfo, isa_name
from rigfit.probe.source import CommandSpec, Source
from rigfit.records import replace

NVIDIA_QUERY = "index,name,pci.bus_id,memory.total,driver_version,compute_cap"
LSPCI = CommandSpec("lspci", ("lspci", "-Dnnvvv"))
ROCMINFO = CommandSpec("rocminfo", ("rocminfo",), timeout=5.0)
ROCM_SMI = CommandSpec(
    "rocm-smi", ("rocm-smi", "--showid", "--showproductname", "--showbus", "--showmeminfo", "vram"), 5.0
)
NVIDIA_SMI = CommandSpec("nvidia-smi", ("nvidia-smi",), timeout=5.0)
NVIDIA_SMI_QUERY = CommandSpec(
    "nvidia-smi-query", ("nvidia-smi", f"--query-gpu={NVIDIA_QUERY}", "--format=csv"), timeout=5.0
)
DMESG = CommandSpec("dmesg", ("dmesg",), fallback=("journalctl", "-k", "-b", "--no-pager", "-q"))
HIPCONFIG = CommandSpec("hipconfig", ("hipconfig", "--version"))
COMMANDS = (LSPCI, ROCMINFO, ROCM_SMI, NVIDIA_SMI, NVIDIA_SMI_QUERY, DMESG, HIPCONFIG)
# When dmesg exists but refuses (kernel.dmesg_restrict=1, the default on Ubuntu), the journal may still be readable.
JOURNAL = CommandSpec("journalctl-k", ("journalctl", "-k", "-b", "--no-pager", "-q"))
KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"

Warn = Callable[[str], None]


def _output(source: Source, spec: CommandSpec) -> str | None:
    return source.run(spec).output


def _kernel_log(source: Source) -> str | None:
    result = source.run(DMESG)
    log = parse_kernel_log(result.output)
    if (result.output is None and not result.timed_out) or log.not_readable:  # a hung dmesg: no second wait
        journal = source.run(JOURNAL)
        if journal.output and not parse_kernel_log(journal.output).not_readable:
            return journal.output
    return result.output


def _kfd_nodes(source: Source) -> list[kfd.KfdNode]:
    nodes = []
    for path in source.glob(f"{KFD_NODES}/*"):
        name = os.path.basename(path)
        if name.isdigit():
            node = kfd.parse_node(int(name), source.read_text(f"{path}/properties").text)
            if node is not None:
                nodes.append(node)
    return nodes


def _nvidia_smi(source: Source) -> str | None:
    """The table and the CSV query together (one parser reads both)."""
    parts = [_output(source, NVIDIA_SMI), _output(source, NVIDIA_SMI_QUERY)]
    query = parts[1] or ""
    if "not a valid field" in query or "Invalid combination" in query:  # drivers older than 510: no compute_cap
        parts[1] = None
    return "\n".join(p for p in parts if p) or None


def _pasted_nvidia_driver(ev: Evidence) -> str | None:
    """The NVIDIA driver's version as a pasted inxi -G ("driver: nvidia v: 430.40"), glxinfo ("OpenGL version
    string: 4.6.0 NVIDIA 535.183.01") or clinfo names it."""
    versions = [d.driver_version for d in ev.lspci if d.driver == "nvidia" and d.driver_version]
    versions += [n.driver_version for n in ev.named if n.vendor_id == "10de" and n.driver_version]
    return versions[0] if versions else None


def _torch_reports(ev: Evidence, texts: tuple[str | None, ...]) -> TorchInfo | None:
    """A pasted collect_env, A1111 sysinfo or ComfyUI start-up names the GPUs torch sees and the NVIDIA driver: its
    NVIDIA GPUs are `nvidia-smi -L`'s lines (collect_env runs it), the others are GPUs known by name. Returns the
    torch the paste shows (it imported: it printed the report). A text given twice (one paste holding a collect_env
    and lspci is served to both readers) is one report."""
    seen: TorchInfo | None = None
    for text in dict.fromkeys(texts):
        report = parse_torch_report(text)
        if report is None:
            continue
        if not (ev.nvidia_smi.gpus and ev.nvidia_smi.driver_version):  # nvidia-smi's own table, pasted too, says more
            ev.nvidia_smi = _as_nvidia_smi(report)
        ev.named += [
            NamedGpu(
                "torch",
                g.name,
                g.vendor_id,
                g.device_id,
                bdf=g.bdf,
                memory_total_mib=g.memory_total_mib,
                gfx=g.gfx,
                integrated=g.integrated,
            )
            for g in report.gpus
            if g.vendor_id != "10de"
        ]
        seen = seen or _pasted_torch(report)
    return seen


def _as_nvidia_smi(report: TorchReport) -> NvidiaSmiOutput:
    """The NVIDIA GPUs and driver a report names, as nvidia-smi would list them."""
    return NvidiaSmiOutput(
        driver_version=report.nvidia_driver,
        cuda_version=report.cuda_driver,
        gpus=[
            NvidiaGpu(
                index=g.index,
                name=g.name,
                bdf=g.bdf,
                memory_total_mib=g.memory_total_mib,
                compute_capability=g.compute_capability,
            )
            for g in report.gpus
            if g.vendor_id == "10de"
        ],
        windows=report.windows,
        wsl=report.wsl,
    )


def _unversioned_torch(report: TorchReport, warned: bool) -> TorchInfo | None:
    """A torch a report does not name: what its capability warning, ComfyUI's cu130 warning or comfy_kitchen's
    backend lines say of it (supported capabilities, a CUDA below 13, not ROCm, whether it sees a GPU); None when
    nothing does."""
    said = bool(report.cuda_below or report.not_rocm) or report.cuda_available is not None
    if not (warned or said):
        return None
    return TorchInfo(
        arch_list=report.torch_archs or None,
        cc_min=report.torch_cc_min,
        cc_max=report.torch_cc_max,
        rejected_ccs=report.torch_rejects or None,
        gpu_available=report.cuda_available,
        cuda_below=report.cuda_below,
        not_rocm=report.not_rocm,
    )


def _pasted_torch(report: TorchReport) -> TorchInfo | None:
    """The torch a report shows; None when its build (CUDA, ROCm or CPU) is not shown. A torch known only from its
    capability warning (which GPUs it supports) is a CUDA torch of unknown version."""
    warned = bool(report.torch_cc_min or report.torch_archs or report.torch_rejects)
    if report.torch_version is None:
        return _unversioned_torch(report, warned)
    plus = report.torch_version.partition("+")[2]
    tag_cuda, tag_hip = wheel_build(report.torch_version)
    cuda, hip = report.cuda_build or tag_cuda, report.rocm_build or tag_hip
    if not (cuda or hip or report.build_listed or plus == "cpu" or warned):
        return None
    return TorchInfo(
        version=report.torch_version,
        cuda=cuda,
        hip=hip,
        import_status="ok",
        gpu_available=report.cuda_available,
        device_names=[g.name for g in report.gpus if g.name] or None,
        arch_list=report.torch_archs or None,
        cc_min=report.torch_cc_min,
        cc_max=report.torch_cc_max,
        rejected_ccs=report.torch_rejects or None,
    )


def probe_gpus(source: Source, profile: Profile, warn: Warn) -> None:
    """Fill profile.gpus, nvidia_driver, cuda_driver_version, pcie_atomics_rejected and rocm."""
    override = source.env("HSA_OVERRIDE_GFX_VERSION")
    ev = Evidence(hsa_override_gfx=override_gfx(override))
    ev.sysfs, ev.pci_devices = sysfs.pci_gpus(source, warn)
    ev.drm = sysfs.drm_cards(source)
    ev.kfd = _kfd_nodes(source)
    lspci_text = _output(source, LSPCI)
    ev.lspci = parse_lspci(lspci_text)
    ev.named = parse_named_gpus(lspci_text)
    if not ev.named and not any(d.is_gpu for d in ev.lspci):
        ev.named = parse_id_listings(lspci_text)
    rocminfo_text = _output(source, ROCMINFO)
    ev.rocminfo = with_grepped_agents(parse_rocminfo(rocminfo_text), rocminfo_text)
    rocm_smi_text = _output(source, ROCM_SMI)
    ev.rocm_smi = parse_rocm_smi(rocm_smi_text)
    for note in without_other_cards(ev.rocm_smi):
        warn(note)
    nvidia_text = _nvidia_smi(source)
    ev.nvidia_smi = with_cut_rows(parse_nvidia_smi(nvidia_text), nvidia_text)
    profile.torch = _torch_reports(ev, (nvidia_text, lspci_text))
    kernel_text = _kernel_log(source)
    ev.kernel = parse_kernel_log(kernel_text)
    profile.gpus = merge(ev)
    profile.gpus += gpus_only_in_kernel_log(profile.gpus, ev.kernel)
    profile.gpus, profile.display_only = _without_display_only(profile.gpus)
    nvidia_reports = any(g.vendor == "nvidia" and g.driver_error for g in profile.gpus)
    profile.gpu_faults = [
        *kernel_faults(kernel_text),
        *_without_bound_amdgpu(rocminfo_faults(rocminfo_text) + rocm_smi_faults(rocm_smi_text), profile.gpus),
        *nvidia_smi_faults(ev.nvidia_smi, nvidia_reports),
        *runtime_faults(nvidia_text),
        *ui_torch_faults(nvidia_text),
        *ui_console_faults(nvidia_text),
        *pip_torch_faults(nvidia_text),
        *torch_swap_faults(nvidia_text),
    ]
    _with_override(profile.gpu_faults, override, ev.hsa_override_gfx)

    ev.clinfo_cuda = clinfo_cuda_platform(lspci_text)
    _nvidia_versions(source, ev, kernel_text, profile)
    profile.pcie_atomics_rejected = list(ev.kernel.atomics_rejected)

    rocm = profile.rocm
    rocm_root = source.env("ROCM_PATH") or "/opt/rocm"
    rocm.version = rocm_version(source.read_text(f"{rocm_root}/.info/version").text)
    rocm.hip_version = hip_version(_output(source, HIPCONFIG))
    rocm.runtime_version = ev.rocminfo.runtime_version
    rocm.gpu_agents = [a.gfx or a.name or "?" for a in ev.rocminfo.gpus]
    rocm.agents_listed = ev.rocminfo.listed_agents and ev.rocminfo.done and ev.rocminfo.error is None
    rocm.error = ev.rocminfo.error
    rocm.hsa_override = override
    rocm.override_suspected = any(_override_shows(g) for g in profile.gpus)

    _not_known(ev, profile, override, warn)
    _clinfo_platform_only(ev, profile, warn)


def _with_override(faults: list[GpuFault], override: str | None, gfx: str | None) -> None:
    """A kernel the runtime could not execute, said beside the HSA override in effect (the gfx it makes GPUs load)."""
    for fault in faults:
        if fault.kind == "hsa_invalid_isa" and override:
            fault.facts |= {"hsa_override": override, **({"override_gfx": gfx} if gfx else {})}


def _without_bound_amdgpu(faults: list[GpuFault], gpus: list[GpuInfo]) -> list[GpuFault]:
    """A ROCm tool's "amdgpu not loaded" is its own check failing when amdgpu is seen bound (built into the kernel,
    which rocm-smi's module check misses): no fault then."""
    bound = any(g.driver == "amdgpu" and g.driver_bound for g in gpus)
    return [f for f in faults if not (bound and f.kind.startswith("amdgpu_not_loaded"))]


def _nvidia_versions(source: Source, ev: Evidence, kernel_text: str | None, profile: Profile) -> None:
    """The NVIDIA driver's version and CUDA level, from the best source that says them; Windows from nvidia-smi."""
    module = (
        nvidia_module_version(source.read_text("/sys/module/nvidia/version").text)
        or nvidia_module_version(source.read_text("/proc/driver/nvidia/version").text)
        or nvidia_module_loaded(kernel_text)
    )
    profile.nvidia_driver = ev.nvidia_smi.driver_version or module or _pasted_nvidia_driver(ev)
    profile.cuda_driver_version = ev.nvidia_smi.cuda_version or ev.clinfo_cuda
    if ev.nvidia_smi.windows and profile.os.system is None:
        profile.os.system = "Windows"  # nvidia-smi.exe's driver model (WDDM/TCC): no Linux nvidia-smi prints one
    if ev.nvidia_smi.wsl and profile.python.wsl is None:
        profile.python.wsl = True  # WSL's nvidia-smi: the Linux-side tool's version beside the Windows driver's


def _without_display_only(gpus: list[GpuInfo]) -> tuple[list[GpuInfo], list[DisplayOnlyAdapter]]:
    """Take the display adapters that compute nothing (display_adapters.yaml) out of the GPU list."""
    kept: list[GpuInfo] = []
    display_only: list[DisplayOnlyAdapter] = []
    for gpu in gpus:
        adapter = display_adapter(gpu.pci_id, gpu.name)
        if adapter is None:
            kept.append(gpu)
        else:
            # a listing that names it only by id gets the id, not the "unknown vendor's GPU 1234:1111" placeholder
            named = gpu.name if gpu.name and (gpu.pci_id is None or gpu.pci_id not in gpu.name) else None
            label = named or f"PCI device {gpu.pci_id}" if gpu.pci_id else (gpu.name or adapter.id)
            display_only.append(DisplayOnlyAdapter(name=label, adapter=adapter.id))
    return kept, display_only


def _not_known(ev: Evidence, profile: Profile, override: str | None, warn: Warn) -> None:
    """What the GPU evidence leaves unknown or ignored, for the report's "Not known"."""
    amd = any(g.vendor == "amd" for g in profile.gpus)
    if override and ev.hsa_override_gfx is None:
        warn(f"HSA_OVERRIDE_GFX_VERSION={override!r} is not of the form major.minor.stepping (e.g. 10.3.0): ignored")
    if amd and ev.kernel.not_readable and not ev.kernel.atomics_rejected:
        warn(
            "the kernel log is not readable by this user, so a KFD 'PCI rejects atomics' refusal would go unseen: "
            "run `sudo dmesg | grep -i kfd` to check"
        )
    for gpu in profile.gpus:
        if gpu.vendor == "nvidia" and gpu.compute_capability is None and (gpu.name or "").endswith(("...", "…")):
            warn(
                f"nvidia-smi cut the GPU's name ('{gpu.name}'): its model and compute capability are unknown; "
                "`nvidia-smi --query-gpu=name,compute_cap --format=csv` prints them whole"
            )
    if any(d.is_wsl_adapter for d in ev.lspci) and not profile.gpus:
        warn(
            "lspci shows only WSL's virtual GPU adapter (Microsoft Corporation): under WSL the real GPU is reached "
            "through the Windows driver and lspci cannot name it; `nvidia-smi` lists an NVIDIA GPU, and AMD/Intel "
            "GPUs need their vendor's WSL runtime"
        )
    if ev.nvidia_smi.error and not any(g.vendor == "nvidia" for g in profile.gpus):
        warn(f"nvidia-smi: {ev.nvidia_smi.error_line}")
    _cut_outputs(ev, warn)


def _clinfo_platform_only(ev: Evidence, profile: Profile, warn: Warn) -> None:
    """clinfo cut after NVIDIA's platform: the driver is there, a GPU is not known to be (a driver lists its platform
    without one)."""
    if ev.clinfo_cuda and not any(g.vendor == "nvidia" for g in profile.gpus):
        warn(
            f"clinfo lists NVIDIA's OpenCL platform (a driver for CUDA {ev.clinfo_cuda}) but none of its devices "
            "(the output stops before them): whether an NVIDIA GPU is there is unknown; `nvidia-smi` lists it"
        )


def _cut_outputs(ev: Evidence, warn: Warn) -> None:
    """A tool's output that stops before it says all: what it does not reach is unknown, not absent."""
    info = ev.rocminfo
    if info.listed_agents and not info.done and not info.gpus and info.error is None:
        warn(
            f"the rocminfo output stops after {len(info.agents)} agent(s), none of them a GPU, before its end "
            "(\"*** Done ***\"): whether ROCm sees a GPU is unknown; `rocminfo | grep -E 'Name|Device Type'` "
            "lists every agent in a few lines"
        )
    shown, attached = len(ev.nvidia_smi.gpus), ev.nvidia_smi.attached
    if attached and attached > shown:
        warn(
            f"nvidia-smi -q says {attached} GPUs are attached but the output shows {shown}: the other "
            f"{attached - shown} are unknown; `nvidia-smi -L` lists them all"
        )


def _override_shows(gpu: GpuInfo) -> bool:
    """The runtime reports a gfx this card cannot natively be."""
    if not gpu.runtime_gfx:
        return False
    if gpu.gfx and gpu.runtime_gfx != gpu.gfx:
        return True
    arch = gfx_family(gpu.runtime_gfx)
    return arch is not None and gpu.integrated is not None and arch.apu_only != gpu.integrated


# findings ---------------------------------------------------------------------------------------------------------


def _label(gpu: GpuInfo) -> str:
    ident = isa_name(gpu.gfx, gpu.compute_capability)
    where = f" at {gpu.bdf}" if gpu.bdf else ""
    return f"{gpu.name or 'GPU'}{f' ({ident})' if ident else ''}{where}"


def _atomics(gpu: GpuInfo, cpu: CpuInfo) -> Finding | None:
    rejected = gpu.atomics_rejected is True
    arch = gfx_family(gpu.gfx)
    needs_atomics = arch is not None and arch.requires_pcie_atomics and not gpu.integrated
    if not rejected and not (gpu.atomics_path_ok is False and needs_atomics):
        return None
    seen = (
        f"the kernel logged 'kfd: skipped device {gpu.pci_id}, PCI rejects atomics'"
        if rejected
        else "lspci shows a PCIe port between it and the CPU that does not route AtomicOps"
    )
    return Finding(
        id="gpu.pcie_atomics_rejected",
        severity="blocker",
        blocks="gpu",
        group="gpus",
        message=f"ROCm cannot use {_label(gpu)}: {seen}. This GPU generation needs PCIe atomics on every port up to "
        "the CPU, which this slot/board does not provide (PCIe 2.0 boards and chipset-attached slots).",
        fix=fix_text("gpu.pcie_atomics_rejected", slot=atomics_slot_advice(cpu)),
        kb=[gpu.gfx] if gpu.gfx else [],
    )


def _rocm_dropped(gpu: GpuInfo) -> Finding | None:
    """An AMD GPU whose ISA current ROCm and PyTorch no longer ship kernels for (gfx8 and older), from the same KB
    answer the plan uses (rigfit/kb/rocm_support.py)."""
    support = rocm_support(gpu.gfx) if gpu.vendor == "amd" else None
    if support is None or not support.dropped:
        return None
    blocks = support.route == "none"
    return Finding(
        id="gpu.rocm_dropped",
        severity="blocker" if blocks else "warning",
        blocks="gpu" if blocks else None,
        group="gpus",
        message=f"{_label(gpu)}: {support.dropped_text()}",
        fix=fix_text("gpu.rocm_dropped", case="none") if blocks else fix_text("gpu.rocm_dropped", case="community"),
        kb=[support.gfx],
    )


def _intel_xpu(gpu: GpuInfo) -> Finding | None:
    """An Intel GPU PyTorch's XPU build runs (Arc, Core Ultra iGPUs): say so, since the plan uses the CPU; a
    discrete one it does not validate (DG1, Data Center GPU Flex): say why the plan leaves it idle."""
    model = model_of(gpu.pci_id, gpu.name) if gpu.vendor == "intel" else None
    if model is None:
        return None
    if not model.xpu:
        return _intel_no_xpu(gpu, model.id) if model.integrated is False else None
    return Finding(
        id="gpu.intel_xpu",
        severity="info",
        group="gpus",
        message=f"{_label(gpu)}: PyTorch's XPU build runs this GPU; rigfit plans it for the UIs that run on torch.xpu "
        f"({xpu_ui_names()}), the others use the CPU.",
        fix=fix_text("gpu.intel_xpu", uis=xpu_ui_names()),
        kb=[model.id],
    )


def _intel_no_xpu(gpu: GpuInfo, model_id: str) -> Finding:
    return Finding(
        id="gpu.intel_no_xpu",
        severity="info",
        group="gpus",
        message=f"{_label(gpu)}: PyTorch's XPU build does not list this GPU as validated, so the plan runs Stable "
        "Diffusion on the CPU.",
        fix=fix_text("gpu.intel_no_xpu"),
        kb=[model_id],
    )


def _driver_blocker(finding_id: str, message: str, fix: str) -> Finding:
    """A kernel-driver problem that keeps every GPU runtime off this card."""
    return Finding(id=finding_id, severity="blocker", blocks="gpu", group="drivers", message=message, fix=fix)


def _driver(gpu: GpuInfo) -> Finding | None:
    label = _label(gpu)
    if gpu.vendor == "nvidia" and gpu.driver == "nouveau":
        return _driver_blocker(
            "gpu.nvidia_on_nouveau",
            f"{label} is driven by nouveau, the open-source driver: CUDA needs NVIDIA's own driver.",
            "Install NVIDIA's driver (Ubuntu: `sudo ubuntu-drivers install`; Debian: enable non-free and "
            "`sudo apt install nvidia-driver`; Fedora: RPM Fusion `akmod-nvidia`), which blacklists nouveau; reboot.",
        )
    if gpu.vendor == "amd" and gpu.driver == "radeon":
        return _driver_blocker(
            "gpu.amd_on_radeon",
            f"{label} is driven by the old radeon driver: ROCm (KFD) only works with amdgpu.",
            "For GCN 1 cards add `radeon.si_support=0 amdgpu.si_support=1`, for GCN 2 cards "
            "`radeon.cik_support=0 amdgpu.cik_support=1` to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run "
            "`sudo update-grub` and reboot. Current ROCm does not support these generations anyway: plan for the CPU "
            "or a Vulkan-based engine.",
        )
    if gpu.vendor == "nvidia" and (gpu.driver_bound is False or gpu.driver_error):
        reason = gpu.driver_error or "no kernel driver is bound to it"
        return _driver_blocker(
            "gpu.nvidia_no_driver",
            f"{label}: {reason}.",
            "Install NVIDIA's driver for this kernel (Ubuntu: `sudo ubuntu-drivers install`; Debian: "
            "`sudo apt install nvidia-driver linux-headers-$(uname -r)`) and reboot. If it is installed: a driver/"
            "library mismatch is cured by a reboot; with Secure Boot on, enroll the module key (Ubuntu: "
            "`sudo mokutil --import /var/lib/shim-signed/mok/MOK.der`) or the module will not load.",
        )
    if gpu.vendor == "amd" and gpu.driver_bound is False:
        return _driver_blocker(
            "gpu.amd_no_driver",
            f"{label} has no kernel driver bound: neither ROCm nor Vulkan can use it.",
            "Load amdgpu (`sudo modprobe amdgpu`) and read why it did not bind: `sudo dmesg | grep -i amdgpu`. "
            "Missing firmware is the usual cause: install linux-firmware (Debian: firmware-amd-graphics from "
            "non-free-firmware) and reboot.",
        )
    return None


def _no_agent(profile: Profile, gpu: GpuInfo) -> Finding | None:
    rocm = profile.rocm
    if gpu.vendor != "amd" or not rocm.agents_listed or rocm.gpu_agents or gpu.atomics_rejected or gpu.integrated:
        return None
    arch = gfx_family(gpu.gfx)
    why = (
        f"{gpu.gfx} ({arch.architecture}) is a generation current ROCm releases dropped or never supported"
        if arch is not None and arch.architecture.startswith(("GCN3", "GCN4"))
        else "KFD did not register it"
    )
    return Finding(
        id="gpu.rocm_no_agent",
        severity="blocker",
        blocks="gpu",
        group="drivers",
        message=f"rocminfo lists no GPU agent although {_label(gpu)} is on the PCI bus: {why}.",
        fix=fix_text("gpu.rocm_no_agent"),
        kb=[gpu.gfx] if gpu.gfx else [],
    )


def _slow_link(gpu: GpuInfo, cpu: CpuInfo) -> Finding | None:
    slow = slow_link(gpu)
    link = gpu.pcie
    if slow is None or link is None:
        return None
    slow_speed, narrow = slow.slow_speed, slow.narrow
    now = (
        f"{link.speed_gts:g} GT/s" + (f" x{link.width}" if link.width else "") if link.speed_gts else "an unknown speed"
    )
    can = (
        f" (card supports {link.max_speed_gts:g} GT/s" + (f" x{link.max_width}" if link.max_width else "") + ")"
        if link.max_speed_gts
        else ""
    )
    idle = (
        " A GPU at idle may drop its link speed to save power: check while it generates."
        if link.speed_gts and link.max_speed_gts and link.speed_gts < link.max_speed_gts
        else ""
    )
    check = f"`sudo lspci -vv -s {gpu.bdf} | grep -E 'LnkCap|LnkSta'`" if gpu.bdf else "`sudo lspci -vv | grep LnkSta`"
    return Finding(
        id="gpu.pcie_slow_link",
        severity="warning",
        group="gpus",
        message=f"{_label(gpu)} is linked at {now}{can}: PCIe {'2.0 or older' if slow_speed else ''}"
        f"{' and ' if slow_speed and narrow else ''}{'x4 or narrower' if narrow else ''} makes loading models into "
        f"the GPU slow and any CPU<->GPU offload very slow; generation speed once loaded is unaffected.{idle}",
        fix=fix_text("gpu.pcie_slow_link", check=check, slot=faster_slot_advice(cpu)),
    )


def _override_set(profile: Profile, amd: list[GpuInfo]) -> Finding:
    """HSA_OVERRIDE_GFX_VERSION is set in this shell: which GPUs it fools, and whether that can break them."""
    rocm = profile.rocm
    target = override_gfx(rocm.hsa_override)
    arch = gfx_family(target)
    pretend = f"{target} ({arch.architecture})" if arch else (target or "an invalid gfx")
    mismatched = [g for g in amd if g.gfx and target and g.gfx[:-2] != target[:-2]]
    redundant = [g for g in amd if g.gfx and g.gfx == target]
    who = ", ".join(_label(g) for g in amd) or "every AMD GPU"
    return Finding(
        id="rocm.hsa_override_set",
        severity="warning" if mismatched or target is None else "info",
        group="drivers",
        message=f"HSA_OVERRIDE_GFX_VERSION={rocm.hsa_override} is set: ROCm makes {who} pretend to be "
        f"{pretend}."
        + (
            f" {', '.join(_label(g) for g in mismatched)} belongs to another generation: kernels built for "
            f"{target} may crash or compute garbage on it."
            if mismatched
            else ""
        )
        + (" The card already is that gfx: the override does nothing." if redundant and not mismatched else ""),
        fix=fix_text("rocm.hsa_override_set"),
        kb=[g for g in (target,) if g],
    )


def _override_suspected(amd: list[GpuInfo]) -> Finding:
    """rocminfo (run elsewhere) reports a gfx the card is not: an override is set in some shell."""
    shown = [g for g in amd if _override_shows(g)]
    return Finding(
        id="rocm.override_suspected",
        severity="info",
        group="drivers",
        message="rocminfo reports "
        + ", ".join(f"{_label(g)} as {g.runtime_gfx}" for g in shown)
        + ": an HSA_OVERRIDE_GFX_VERSION is active in the shell that ran rocminfo (not in this one).",
        fix=fix_text("rocm.override_suspected"),
    )


def _override(profile: Profile) -> list[Finding]:
    rocm = profile.rocm
    amd = [g for g in profile.gpus if g.vendor == "amd"]
    if rocm.hsa_override:
        return [_override_set(profile, amd)]
    if rocm.override_suspected:
        return [_override_suspected(amd)]
    return []


def _model_key(gpu: GpuInfo) -> tuple[str | None, ...]:
    return (gpu.vendor, gpu.name, gpu.pci_id, gpu.gfx, gpu.compute_capability, gpu.driver)


def _once_per_model(per_gpu: list[tuple[GpuInfo, Finding]]) -> list[Finding]:
    """One finding per problem and GPU model: four identical cards with the same problem are one finding naming
    the four ("4x Tesla K80 (sm_37) at ..."), not four copies of it."""
    groups: dict[tuple[object, ...], list[tuple[GpuInfo, Finding]]] = {}
    for gpu, finding in per_gpu:
        groups.setdefault((finding.id, *_model_key(gpu)), []).append((gpu, finding))
    found = []
    for members in groups.values():
        first, finding = members[0]
        if len(members) > 1:
            where = ", ".join(g.bdf for g, _ in members if g.bdf)
            ident = isa_name(first.gfx, first.compute_capability)
            many = f"{len(members)}x {first.name or 'GPU'}{f' ({ident})' if ident else ''}"
            finding = replace(
                finding, message=finding.message.replace(_label(first), many + (f" at {where}" if where else ""), 1)
            )
        found.append(finding)
    return found


def _display_only(profile: Profile) -> Finding | None:
    """No GPU, only a display adapter that computes nothing: say what it is and how a GPU gets into this machine."""
    if profile.gpus or not profile.display_only:
        return None
    shown = profile.display_only[0]
    entry = by_id(display_adapters())[shown.adapter]
    what = f"the virtual display adapter of {entry.platform}" if entry.kind == "virtual" else entry.platform
    return Finding(
        id="gpu.display_only",
        severity="warning",
        group="gpus",
        message=f"the only display adapter listed is {shown.name}, {what}: it draws the screen and computes "
        "nothing, so Stable Diffusion has no GPU here and the plan runs on the CPU.",
        fix=fix_text("gpu.display_only", case="virtual" if entry.kind == "virtual" else "bmc"),
        kb=[entry.id],
    )


def gpu_findings(profile: Profile) -> list[Finding]:
    per_gpu: list[tuple[GpuInfo, Finding]] = []
    for gpu in profile.gpus:
        checks = (
            _atomics(gpu, profile.cpu),
            _rocm_dropped(gpu),
            _driver(gpu),
            _no_agent(profile, gpu),
            _slow_link(gpu, profile.cpu),
            _intel_xpu(gpu),
        )
        for check in checks:
            if check is not None:
                per_gpu.append((gpu, check))
    blocked = {id(gpu) for gpu, f in per_gpu if f.blocks == "gpu"}
    others = [g for g in profile.gpus if id(g) not in blocked and g.vendor in ("amd", "nvidia") and not g.integrated]
    found = _once_per_model(per_gpu)
    if blocked and others:  # another GPU still works: what blocks one GPU is a warning for the machine
        found = [replace(f, severity="warning", blocks=None) if f.blocks else f for f in found]
    display_only = _display_only(profile)
    return found + _override(profile) + partition_findings(profile) + ([display_only] if display_only else [])
