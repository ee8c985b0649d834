"""The machine profile: what doctor found out. Every fact may be None (unknown); none is ever guessed.

This is the typed contract between the stages: probe fills it, plan/explain/verify read it.
Its JSON form is public (schema "rigfit.doctor/1", see docs/doctor.md): keys may be added, never renamed.
"""

from __future__ import annotations

from typing import Literal

from rigfit.records import field, record

Severity = Literal["blocker", "warning", "info"]
Access = Literal["ok", "permission_denied", "missing"]


@record(kw_only=True)
class Finding:
    """One check's outcome. Every problem carries the exact fix (a command or a concrete step)."""

    id: str
    severity: Severity
    message: str
    fix: str | None = None
    group: str = "system"  # report section: cpu, memory, gpus, drivers, permissions, python, torch, plan
    kb: list[str] = field(default_factory=list)  # knowledge-base entry ids this finding relies on
    # what a blocker stops: "gpu" (SD can still run on the CPU), "cpu", or "all". Doctor exits 1 when nothing is left.
    blocks: Literal["gpu", "cpu", "all"] | None = None


@record(kw_only=True)
class CpuInfo:
    """The CPU: model, topology and the instruction-set extensions wheels assume."""

    arch: str | None = None  # "x86_64", "aarch64", ...
    vendor: str | None = None
    model: str | None = None
    sockets: int | None = None
    cores: int | None = None  # physical cores, all sockets
    threads: int | None = None  # logical CPUs
    threads_at_least: int | None = None  # a pasted /proc/cpuinfo that may be cut shows this many (threads unknown)
    flags: list[str] | None = None  # raw x86 `flags` / ARM `Features`, lower case
    sse4_1: bool | None = None
    sse4_2: bool | None = None
    popcnt: bool | None = None
    avx: bool | None = None
    avx2: bool | None = None
    fma: bool | None = None
    f16c: bool | None = None
    avx512f: bool | None = None
    avx512_bf16: bool | None = None
    avx512_vnni: bool | None = None
    amx_bf16: bool | None = None
    x86_64_level: int | None = None  # 1..4; None off x86 or when flags are unknown


@record(kw_only=True)
class MemoryInfo:
    """RAM, swap and the free disk where rigfit would install."""

    total_bytes: int | None = None
    available_bytes: int | None = None
    swap_total_bytes: int | None = None
    swap_free_bytes: int | None = None
    disk_path: str | None = None  # where rigfit would install
    disk_free_bytes: int | None = None


@record(kw_only=True)
class PcieLink:
    """A GPU's PCIe link as negotiated, its maximum, and the slot's maximum."""

    speed_gts: float | None = None  # current, GT/s (2.5 = gen1, 5 = gen2, 8 = gen3, 16 = gen4, 32 = gen5)
    width: int | None = None
    max_speed_gts: float | None = None
    max_width: int | None = None
    # the port the card is plugged into (root port / switch port above the card): caps what the card can negotiate
    slot_max_speed_gts: float | None = None
    slot_max_width: int | None = None


@record(kw_only=True)
class GpuInfo:
    """One physical GPU, merged across sysfs, KFD, lspci, rocminfo, rocm-smi and nvidia-smi."""

    vendor: str | None = None  # "amd" | "nvidia" | "intel" | other lower-case name
    name: str | None = None  # marketing name
    pci_id: str | None = None  # "1002:73ff"
    pci_revision: str | None = None  # "0xc1"
    subsystem_id: str | None = None  # "1da2:e445"
    bdf: str | None = None  # "0000:03:00.0"
    gfx: str | None = None  # "gfx1032"
    compute_capability: str | None = None  # "8.6"
    family: str | None = None  # "RDNA2 Navi23", "Ampere"...
    vram_bytes: int | None = None
    gtt_bytes: int | None = None
    integrated: bool | None = None
    driver: str | None = None  # bound kernel driver: amdgpu, nvidia, nouveau, radeon, i915...
    driver_bound: bool | None = None  # False: known to have no driver bound (sysfs, or a verbose lspci); None: unknown
    driver_error: str | None = None  # what the vendor tool said when it could not reach the driver (nvidia-smi)
    kfd_node: int | None = None  # KFD topology node; None when KFD does not list this GPU
    pcie: PcieLink | None = None
    atomics_rejected: bool | None = None  # KFD logged "PCI rejects atomics" for this device
    atomics_path_ok: bool | None = None  # AtomicOps routing on the PCIe path per lspci -vvv
    runtime_gfx: str | None = None  # gfx the ROCm runtime reports (rocminfo); differs from gfx under an override
    # one partition of a partitioned Instinct GPU (rocm-smi / amd-smi): compute mode "SPX".."CPX", memory mode
    # "NPS1"/"NPS4", and its number on its card (0 = the partition that carries the card's ids)
    compute_partition: str | None = None
    memory_partition: str | None = None
    partition_id: int | None = None
    sources: list[str] = field(default_factory=list)  # which probes saw it


@record(kw_only=True)
class DisplayOnlyAdapter:
    """A display adapter that computes nothing (a VM's virtual VGA, a server's BMC graphics): not one of the GPUs."""

    name: str  # as the listing names it: "VMware SVGA II Adapter"
    adapter: str  # its rigfit/kb/display_adapters.yaml id


def sm_name(compute_capability: str) -> str:
    """NVIDIA's name for the kernels a compute capability runs: "8.6" -> "sm_86"."""
    return f"sm_{compute_capability.replace('.', '')}"


def isa_name(gfx: str | None, compute_capability: str | None) -> str | None:
    """The instruction set a GPU's kernels are built for: its gfx target (AMD) or sm_XY (NVIDIA); None if unknown."""
    return gfx or (sm_name(compute_capability) if compute_capability else None)


@record(kw_only=True)
class RocmInfo:
    """The host ROCm: versions, and the GPU agents its runtime lists."""

    version: str | None = None  # /opt/rocm/.info/version
    hip_version: str | None = None  # hipconfig
    runtime_version: str | None = None  # rocminfo "Runtime Version"
    gpu_agents: list[str] = field(default_factory=list)  # gfx names rocminfo lists
    hsa_override: str | None = None  # HSA_OVERRIDE_GFX_VERSION as set in the environment
    override_suspected: bool = False  # an agent reports a gfx its hardware cannot natively be
    agents_listed: bool = False  # rocminfo reached its agent list: an empty gpu_agents then means "no GPU agent"
    error: str | None = None  # why rocminfo stopped: kfd_permission_denied, kfd_missing, no_kfd, hsa_init_failed


@record(kw_only=True)
class PermissionsInfo:
    """Who runs rigfit and whether they can open the GPU device files."""

    user: str | None = None  # redacted in captures
    uid: int | None = None
    groups: list[str] | None = None
    kfd_access: Access | None = None
    render_nodes: dict[str, Access] = field(default_factory=dict)  # /dev/dri/renderD128 -> access
    # numeric group id owning each device file (/dev/kfd, /dev/dri/renderD*): what a container needs in group_add,
    # since group names differ between the host and an image
    device_gids: dict[str, int] = field(default_factory=dict)


@record(kw_only=True)
class PythonInfo:
    """The Python running rigfit and where it runs (venv, container, WSL)."""

    version: str | None = None
    executable: str | None = None
    in_venv: bool | None = None
    externally_managed: bool | None = None  # PEP 668 marker on the base interpreter
    container: str | None = None  # "docker", "podman", ... or None when not in one / unknown
    wsl: bool | None = None


@record(kw_only=True)
class OsInfo:
    """The operating system, kernel and C library."""

    system: str | None = None  # "Linux"
    distro_id: str | None = None  # os-release ID
    distro_version: str | None = None  # os-release VERSION_ID
    pretty_name: str | None = None
    kernel: str | None = None
    glibc: str | None = None


@record(kw_only=True)
class TorchInfo:
    """An installed torch, first read from torch/version.py, then imported in a subprocess."""

    location: str | None = None
    version: str | None = None
    cuda: str | None = None  # torch.version.cuda
    hip: str | None = None  # torch.version.hip
    import_status: str | None = None  # "ok" | "sigill" | "segfault" | "timeout" | "error" | "skipped"
    import_error: str | None = None
    missing_cpu_feature: str | None = None  # with sigill: the extension this CPU lacks ("avx", "sse4_2"...)
    gpu_available: bool | None = None
    device_names: list[str] | None = None
    arch_list: list[str] | None = None
    # torch's own capability warning in a paste: the range of compute capabilities it supports ("7.5", "12.0")
    cc_min: str | None = None
    cc_max: str | None = None
    # the capabilities its "with CUDA capability sm_N is not compatible" warning names ("12.0"), even cut before the
    # list of what it supports
    rejected_ccs: list[str] | None = None
    python: str | None = None  # the interpreter this torch belongs to
    # a listed torch whose version carries no build tag ("2.7.1" in pip's lines: PyPI's default build, CUDA on Linux,
    # CPU on Windows and macOS): its build is unknown, never "CPU-only" for want of cuda/hip
    build_unknown: bool = False
    cpu_capability: str | None = None  # torch.backends.cpu.get_cpu_capability(): DEFAULT, AVX2, AVX512...
    # what a UI's lines say of a torch whose version they do not print (ComfyUI's comfy_kitchen lines): a CUDA build
    # older than this CUDA ("13.0", ComfyUI's cu130 warning), not a ROCm build (torch.version.hip unset)
    cuda_below: str | None = None
    not_rocm: bool = False


@record(kw_only=True)
class GpuFault:
    """A broken GPU state a tool or the kernel log shows (driver not reachable, KFD refusing the chip, a reset)."""

    kind: str  # "nvidia_smi_no_driver", "kfd_unsupported_asic", "gpu_ring_timeout", ... (rigfit/probe/gpu/faults.py)
    evidence: str  # the line that shows it, as printed
    detail: str | None = None  # what the line names: the chip ("PITCAIRN"), the errno text, the Xid number
    # what other lines of the same output add (pip: the torch asked, the index searched, what it offers)
    facts: dict[str, str] = field(default_factory=dict)


@record(kw_only=True)
class Profile:
    """Everything doctor found out about a machine (or a capture of one)."""

    cpu: CpuInfo = field(default_factory=CpuInfo)
    memory: MemoryInfo = field(default_factory=MemoryInfo)
    gpus: list[GpuInfo] = field(default_factory=list)
    display_only: list[DisplayOnlyAdapter] = field(default_factory=list)  # listed like GPUs, computing nothing
    nvidia_driver: str | None = None  # "550.40.07"
    cuda_driver_version: str | None = None  # highest CUDA the driver supports, "12.4"
    cuda_toolkit: str | None = None  # the system CUDA toolkit's release (nvcc --version), "12.4"; not the driver's
    # GPU-selection variables as set in the environment (CUDA_VISIBLE_DEVICES...: kb/device_selection.yaml)
    device_selection: dict[str, str] = field(default_factory=dict)
    pcie_atomics_rejected: list[str] = field(default_factory=list)  # "1002:67df" ids KFD skipped
    kfd_access: Access | None = None
    rocm: RocmInfo = field(default_factory=RocmInfo)
    gpu_faults: list[GpuFault] = field(default_factory=list)
    permissions: PermissionsInfo = field(default_factory=PermissionsInfo)
    python: PythonInfo = field(default_factory=PythonInfo)
    os: OsInfo = field(default_factory=OsInfo)
    torch: TorchInfo | None = None
    source: str | None = None  # "this machine" or "capture <path>"
    # False when the source shows only part of the machine (a paste, a capture assembled from pastes): a GPU it does
    # not list is unknown, not absent
    whole: bool = True
    warnings: list[str] = field(default_factory=list)  # facts that could not be read, and why
