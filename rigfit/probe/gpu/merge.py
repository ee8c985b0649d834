"""One GpuInfo per physical GPU, merged from every source that saw it.

Sources are matched by PCI address first; when a source has none (a pasted rocm-smi, an old rocminfo, nvidia-smi -L)
by PCI id, then by order among the GPUs of that vendor still unmatched by that source. A source that matches nothing
adds a GPU: a capture may hold only a pasted rocminfo or nvidia-smi. Facts are then resolved with a fixed priority
(the kernel's view first, then the vendor tools, then the knowledge table), and nothing is filled in by guessing.
"""

from __future__ import annotations

from rigfit.kb.gpus import (
    GpuModel,
    cuda_arch,
    gfx_family,
    lookup_chip,
    lookup_name,
    lookup_pci,
    lookup_series,
    vendor_name,
)
from rigfit.lazy_re import later
from rigfit.probe.gpu.kernel_log import KernelLog
from rigfit.probe.gpu.kfd import KfdNode
from rigfit.probe.gpu.lspci import LspciDevice, atomics_path_ok
from rigfit.probe.gpu.nvidia_smi import NvidiaGpu, NvidiaSmiOutput
from rigfit.probe.gpu.renderers import NamedGpu
from rigfit.probe.gpu.rocm_smi import RocmSmiGpu, RocmSmiOutput
from rigfit.probe.gpu.rocminfo import RocmAgent, RocmInfoOutput
from rigfit.probe.gpu.sysfs import DrmCard, SysfsPciDevice
from rigfit.probe.profile import GpuInfo, PcieLink
from rigfit.records import field, record

GENERIC_MARKETING = ("AMD Radeon Graphics", "AMD Radeon(TM) Graphics", "")
NVIDIA_DRIVER_ERRORS = {
    "no_driver": "nvidia-smi cannot communicate with the NVIDIA driver (kernel module not loaded)",
    "version_mismatch": "the loaded NVIDIA kernel module and the installed user-space driver differ in version",
    "nvml_failed": "nvidia-smi could not initialize NVML",
}


def _gpu_error(smi: NvidiaSmiOutput) -> str | None:
    """nvidia-smi's failure as the NVIDIA GPUs' own, except NVML's "Unknown Error": most often a container that lost
    /dev/nvidia* while the host's driver works; it is said by itself (gpu.nvml_failed), with the container's fix."""
    if smi.error == "nvml_failed" and "Unknown Error" in (smi.error_line or ""):
        return None
    return smi.error


@record
class Evidence:
    """Everything the parsers read, for one machine."""

    sysfs: list[SysfsPciDevice] = field(default_factory=list)
    pci_devices: dict[str, SysfsPciDevice] = field(default_factory=dict)  # every device sysfs showed, bridges too
    drm: list[DrmCard] = field(default_factory=list)
    kfd: list[KfdNode] = field(default_factory=list)
    lspci: list[LspciDevice] = field(default_factory=list)
    rocminfo: RocmInfoOutput = field(default_factory=RocmInfoOutput)
    rocm_smi: RocmSmiOutput = field(default_factory=RocmSmiOutput)
    nvidia_smi: NvidiaSmiOutput = field(default_factory=NvidiaSmiOutput)
    kernel: KernelLog = field(default_factory=KernelLog)
    named: list[NamedGpu] = field(default_factory=list)  # glxinfo / clinfo / xpu-smi pasted where lspci goes
    clinfo_cuda: str | None = None  # the CUDA level of clinfo's NVIDIA platform ("12.8"), devices or not
    hsa_override_gfx: str | None = None  # the gfx HSA_OVERRIDE_GFX_VERSION makes every AMD GPU report


@record
class _Gpu:
    """A GPU being assembled: what each source said about it."""

    bdf: str | None = None
    vendor: str | None = None
    vendor_id: str | None = None
    device_id: str | None = None
    revision: str | None = None
    sysfs: SysfsPciDevice | None = None
    drm: DrmCard | None = None
    lspci: LspciDevice | None = None
    kfd: KfdNode | None = None
    agent: RocmAgent | None = None
    smi: RocmSmiGpu | None = None
    nv: NvidiaGpu | None = None
    named: NamedGpu | None = None
    kernel_driver: str | None = None
    kernel_asic: str | None = None
    kernel_gfx: str | None = None
    kernel_vram: int | None = None
    kernel_gtt: int | None = None
    sources: list[str] = field(default_factory=list)

    def ids(self, vendor_id: str | None, device_id: str | None, revision: str | None = None) -> None:
        self.vendor_id = self.vendor_id or vendor_id
        self.device_id = self.device_id or device_id
        self.revision = self.revision or revision
        self.vendor = self.vendor or vendor_name(vendor_id) or vendor_id

    def saw(self, source: str) -> None:
        if source not in self.sources:
            self.sources.append(source)


def _same_slot(a: str | None, b: str | None) -> bool:
    """Same PCI address; the domain is compared only when both sides know it (rocminfo and lspci without -D
    print none, and are read as domain 0000)."""
    if not a or not b:
        return False
    return a == b or (a[-7:] == b[-7:] and "0000" in (a[:4], b[:4]))


class _Gpus:
    def __init__(self) -> None:
        self.items: list[_Gpu] = []

    def find(self, slot: str | None, pci_id: str | None, vendor: str | None, taken: set[int]) -> _Gpu | None:
        """The GPU a record from another source describes; `taken` holds GPUs that source already matched."""
        free = [g for g in self.items if id(g) not in taken]
        if slot:
            hit = next((g for g in free if _same_slot(g.bdf, slot)), None)
            if hit or any(g.bdf for g in free if g.vendor in (vendor, None)):
                return hit
        if pci_id:
            ven, dev = pci_id.split(":")
            hit = next((g for g in free if g.vendor_id == ven and g.device_id == dev), None)
            if hit:
                return hit
        same_vendor = [g for g in free if g.vendor == vendor and (not pci_id or g.device_id is None)]
        return same_vendor[0] if same_vendor else None

    def match(self, slot: str | None, pci_id: str | None, vendor: str | None, taken: set[int]) -> _Gpu:
        gpu = self.find(slot, pci_id, vendor, taken)
        if gpu is None:
            gpu = _Gpu(bdf=slot, vendor=vendor)
            self.items.append(gpu)
        gpu.bdf = gpu.bdf or slot
        if pci_id:
            gpu.ids(*pci_id.split(":"))
        gpu.vendor = gpu.vendor or vendor
        taken.add(id(gpu))
        return gpu


def _add_named(gpus: _Gpus, named_gpus: list[NamedGpu]) -> None:
    """GPUs glxinfo, clinfo or xpu-smi name: matched by bus address or ids where they print them."""
    taken: set[int] = set()
    for named in named_gpus:
        pci_id = f"{named.vendor_id}:{named.device_id}" if named.vendor_id and named.device_id else None
        gpu = gpus.match(named.bdf, pci_id, vendor_name(named.vendor_id), taken)
        gpu.vendor_id = gpu.vendor_id or named.vendor_id
        gpu.named = named
        gpu.saw(named.source)


def _collect(ev: Evidence) -> list[_Gpu]:
    gpus = _Gpus()
    for dev in ev.sysfs:
        gpu = gpus.match(dev.bdf, dev.pci_id, vendor_name(dev.vendor_id) or dev.vendor_id, set())
        gpu.ids(dev.vendor_id, dev.device_id, dev.revision)
        gpu.sysfs = dev
        gpu.saw("sysfs")
    taken: set[int] = set()
    for card in ev.drm:
        vendor = vendor_name(card.pci_id.split(":")[0]) if card.pci_id else None
        gpu = gpus.match(card.bdf, card.pci_id, vendor, taken)
        gpu.drm = card
        gpu.saw("drm")
    taken = set()
    for pci in (d for d in ev.lspci if d.is_gpu):
        gpu = gpus.match(pci.slot, pci.pci_id, pci.vendor, taken)
        gpu.ids(pci.vendor_id, pci.device_id, pci.revision)
        gpu.lspci = pci
        gpu.saw("lspci")
    taken = set()
    for kgpu in ev.kernel.gpus:
        vendor = {"amdgpu": "amd", "radeon": "amd", "nouveau": "nvidia", "nvidia": "nvidia", "xe": "intel"}.get(
            kgpu.driver
        )
        if vendor is None:
            continue
        gpu = gpus.match(kgpu.bdf, kgpu.pci_id, vendor, taken)
        gpu.revision = gpu.revision or kgpu.revision
        gpu.kernel_driver = kgpu.driver if kgpu.bound else None
        gpu.kernel_asic, gpu.kernel_gfx = kgpu.asic, kgpu.gfx
        gpu.kernel_vram, gpu.kernel_gtt = kgpu.vram_bytes, kgpu.gtt_bytes
        gpu.saw("kernel log")
    taken = set()
    for node in ev.kfd:
        gpu = gpus.match(node.bdf, node.pci_id, vendor_name(node.vendor_id) or "amd", taken)
        gpu.kfd = node
        gpu.saw("kfd")
    taken = set()
    for agent in ev.rocminfo.gpus:
        gpu = gpus.match(agent.bdf, f"1002:{agent.chip_id}" if agent.chip_id else None, "amd", taken)
        gpu.agent = agent
        gpu.saw("rocminfo")
    taken = set()
    for smi in ev.rocm_smi.gpus:
        gpu = gpus.match(smi.bdf, f"1002:{smi.device_id}" if smi.device_id else None, "amd", taken)
        gpu.smi = smi
        gpu.saw("rocm-smi")
    _add_named(gpus, ev.named)
    taken = set()
    for nv in ev.nvidia_smi.gpus:
        gpu = gpus.match(nv.bdf, nv.pci_id, "nvidia", taken)
        gpu.nv = nv
        gpu.saw("nvidia-smi")
    return gpus.items


def _model(gpu: _Gpu) -> GpuModel | None:
    if gpu.vendor_id and gpu.device_id:
        model = lookup_pci(gpu.vendor_id, gpu.device_id, gpu.revision)
        if model:
            return model
    for text in _chip_texts(gpu):
        model = lookup_chip(text) if text else None
        if model and (gpu.vendor is None or model.vendor == gpu.vendor):
            return model
    names = [
        n
        for n in (
            gpu.nv.name if gpu.nv else None,
            gpu.agent.marketing_name if gpu.agent else None,
            gpu.named.name if gpu.named else None,
            gpu.smi.card_series if gpu.smi else None,
        )
        if n
    ]
    for name in names:
        candidates = lookup_name(name)
        if len(candidates) == 1:
            return candidates[0]
    return None


def _chip_texts(gpu: _Gpu) -> tuple[str | None, ...]:
    """What may name the chip: lspci's description, the kernel's ASIC, rocm-smi's card series, and the line of an
    inxi paste that gave no bus address ("AMD Ellesmere [Radeon RX ...]"; lspci's name line without its address
    reads the same way)."""
    return (
        gpu.lspci.description if gpu.lspci else None,
        gpu.kernel_asic,
        gpu.smi.card_series if gpu.smi else None,
        gpu.named.name if gpu.named and gpu.named.source == "inxi" else None,
    )


def _compute_capability(gpu: _Gpu, model: GpuModel | None) -> str | None:
    if gpu.nv and gpu.nv.compute_capability:
        return gpu.nv.compute_capability
    if model and model.compute_capability:
        return model.compute_capability
    if gpu.nv and gpu.nv.name:  # several chips share a name ("RTX 3060" is GA104 and GA106): fine if they agree
        ccs = {m.compute_capability for m in lookup_name(gpu.nv.name)}
        if len(ccs) == 1:
            return ccs.pop()
        ccs = {m.compute_capability for m in lookup_series(gpu.nv.name)}  # a variant name: its product number
        if len(ccs) == 1:
            return ccs.pop()
    return None


def _marketing(gpu: _Gpu) -> str | None:
    """rocminfo's Marketing Name, unless it is a generic placeholder or only the gfx name."""
    marketing = gpu.agent.marketing_name if gpu.agent else None
    return None if (marketing or "").strip() in GENERIC_MARKETING or (marketing or "").startswith("gfx") else marketing


def _name(gpu: _Gpu, model: GpuModel | None) -> str | None:
    specific = None
    if model and gpu.device_id:
        named = model.name_for(gpu.device_id, gpu.revision)
        specific = named if named != model.name else None
    marketing = _marketing(gpu)
    nv_full = gpu.nv.name if gpu.nv and not gpu.nv.name_truncated else None
    # without a PCI id the KB model was found by name: the pasted name, even cut ("Tesla V100-SXM2..."), says more
    # than the KB's chip family ("NVIDIA GV100 (Volta)")
    nv_cut = gpu.nv.name if gpu.nv and gpu.device_id is None else None
    # likewise rocm-smi's "Device Name" on an entry without a Device ID (a partition of a partitioned MI300)
    smi_cut = gpu.smi.card_series if gpu.smi and gpu.device_id is None else None
    candidates = (
        nv_full,
        marketing,
        specific,
        gpu.lspci.product_name if gpu.lspci else None,  # pci.ids names the product; the KB's chip name is wider
        nv_cut,
        smi_cut,
        gpu.named.name if gpu.named else None,
        _model_name(gpu, model),
        gpu.smi.card_series if gpu.smi else None,
        gpu.lspci.device_name if gpu.lspci and not _UNNAMED_DEVICE.fullmatch(gpu.lspci.device_name) else None,
        gpu.nv.name if gpu.nv else None,
        gpu.agent.marketing_name if gpu.agent else None,
        _xe_chip(gpu),
        _unnamed(gpu),
    )
    return next((c for c in candidates if c), None)


def _model_name(gpu: _Gpu, model: GpuModel | None) -> str | None:
    """The KB's name for the chip; found by a codename alone (a firmware file "amdgpu/polaris12_mc.bin", a KMS
    line) it is the chip, never the products sold with it ("Radeon 540/550" is not the WX 2100 it may be)."""
    if model is None:
        return None
    found_by_id = gpu.device_id is not None or gpu.nv is not None or gpu.agent is not None or gpu.named is not None
    if found_by_id or len(set(model.names.values())) <= 1:
        return model.name
    return f"{_VENDOR_WORD.get(model.vendor, '')} {model.chip} GPU".strip()


_VENDOR_WORD = {"amd": "AMD", "nvidia": "NVIDIA", "intel": "Intel"}
# lspci's placeholder when its pci.ids does not know the id ("Intel Corporation Device [8086:3e9b]"): no name
_UNNAMED_DEVICE = later(r"Device(?: [0-9a-fA-F]{4})?")


def _unnamed(gpu: _Gpu) -> str | None:
    """What a GPU no source names but its PCI id is: its vendor's GPU, by id ("Intel GPU 8086:3e9b"), never the
    word "Device"."""
    if not (gpu.vendor_id and gpu.device_id):
        return None
    vendor = {"amd": "AMD", "nvidia": "NVIDIA", "intel": "Intel"}.get(gpu.vendor or "", "unknown vendor's")
    return f"{vendor} GPU {gpu.vendor_id}:{gpu.device_id}"


def _xe_chip(gpu: _Gpu) -> str | None:
    """xe names the chip family it found ("[drm] Found BATTLEMAGE (device ID e20b)"); the KB has no Intel GPUs."""
    return f"Intel {gpu.kernel_asic.title()}" if gpu.kernel_driver == "xe" and gpu.kernel_asic else None


def _native_gfx(gpu: _Gpu, model: GpuModel | None, override: str | None) -> str | None:
    """The card's own gfx: KFD and the kernel see the hardware; rocminfo sees it through any override."""
    for gfx in (gpu.kfd.gfx if gpu.kfd else None, gpu.kernel_gfx, model.gfx if model else None):
        if gfx:
            return gfx
    runtime = next((g for g in (gpu.agent, gpu.smi, gpu.named) if g is not None and g.gfx), None)
    gfx = runtime.gfx if runtime else None
    return None if gfx and gfx == override else gfx


def _pcie(gpu: _Gpu, devices: dict[str, SysfsPciDevice]) -> PcieLink | None:
    dev = gpu.sysfs
    if dev is not None and (dev.link_speed or dev.max_link_speed):
        # AMD cards from Navi on sit behind their own PCIe switch (vendor 1002 bridges): the card's real link is
        # the one of its topmost on-card port; the port above that is the slot.
        top = dev
        parents = [devices.get(p) for p in dev.parents]
        while parents and (parent := parents[-1]) is not None and parent.vendor_id == "1002":
            top = parent
            parents.pop()
        slot = parents[-1] if parents and parents[-1] is not None else None
        return PcieLink(
            speed_gts=top.link_speed,
            width=top.link_width,
            max_speed_gts=top.max_link_speed,
            max_width=top.max_link_width,
            slot_max_speed_gts=slot.max_link_speed if slot else None,
            slot_max_width=slot.max_link_width if slot else None,
        )
    if gpu.lspci is not None and (gpu.lspci.link_sta or gpu.lspci.link_cap):
        sta, cap = gpu.lspci.link_sta or (None, None), gpu.lspci.link_cap or (None, None)
        return PcieLink(speed_gts=sta[0], width=sta[1], max_speed_gts=cap[0], max_width=cap[1])
    return None


def _integrated(model: GpuModel | None, gfx: str | None, gpu: _Gpu, vendor: str | None) -> bool | None:
    if model is not None:
        return model.integrated
    arch = gfx_family(gfx)
    if arch is not None and arch.apu_only:
        return True
    if vendor == "nvidia":
        return False
    if gpu.named is not None and gpu.named.integrated is not None:
        return gpu.named.integrated
    vram = gpu.drm.vram_bytes if gpu.drm else gpu.kernel_vram
    gtt = gpu.drm.gtt_bytes if gpu.drm else gpu.kernel_gtt
    if vram and gtt:  # an APU carve-out: small VRAM, large GTT (ollama)
        return vram <= 1 << 30 and gtt > 4 * vram
    return None


def _ids_from_kernel(gpu: _Gpu, model: GpuModel | None, ev: Evidence) -> None:
    """lspci without -nn names the chip; the kernel's "skipped device 1002:67ef" gives the id."""
    if model and gpu.vendor_id is None and ev.kernel.atomics_rejected:
        ids = [i for i in ev.kernel.atomics_rejected if i.split(":")[1] in model.devices]
        if len(ids) == 1:
            gpu.ids(*ids[0].split(":"))


def _driver(gpu: _Gpu) -> tuple[str | None, bool | None]:
    """The kernel driver bound to the card, and whether one is (None: no source says)."""
    driver = (
        (gpu.sysfs.driver if gpu.sysfs else None)
        or (gpu.drm.driver if gpu.drm else None)
        or (gpu.lspci.driver if gpu.lspci else None)
        or gpu.kernel_driver
    )
    bound: bool | None = True if driver else None
    if driver is None and (gpu.sysfs is not None or (gpu.lspci is not None and gpu.lspci.verbose)):
        bound = False
    return driver, bound


def _vram(gpu: _Gpu) -> int | None:
    return (
        (gpu.drm.vram_bytes if gpu.drm else None)
        or (gpu.nv.memory_total_mib * 2**20 if gpu.nv and gpu.nv.memory_total_mib else None)
        or (gpu.smi.vram_total_bytes if gpu.smi else None)
        or (gpu.agent.vram_bytes if gpu.agent else None)
        or gpu.kernel_vram
        or (gpu.named.memory_total_mib * 2**20 if gpu.named and gpu.named.memory_total_mib else None)
    )


def _atomics_rejected(gpu: _Gpu, pci_id: str | None, ev: Evidence) -> bool | None:
    in_kfd = gpu.kfd is not None or gpu.agent is not None or (pci_id in ev.kernel.kfd_added)
    return True if pci_id and pci_id in ev.kernel.atomics_rejected else (False if in_kfd else None)


def _gpu_info(gpu: _Gpu, ev: Evidence) -> GpuInfo:
    """One GPU, from every source that saw it."""
    model = _model(gpu)
    vendor = gpu.vendor or (model.vendor if model else None)
    _ids_from_kernel(gpu, model, ev)
    pci_id = f"{gpu.vendor_id}:{gpu.device_id}" if gpu.vendor_id and gpu.device_id else None
    gfx = _native_gfx(gpu, model, ev.hsa_override_gfx) if vendor == "amd" else None
    cc = _compute_capability(gpu, model) if vendor == "nvidia" else None
    arch = gfx_family(gfx) or cuda_arch(cc)
    driver, bound = _driver(gpu)
    nv_error = _gpu_error(ev.nvidia_smi) if vendor == "nvidia" else None
    smi = gpu.smi or RocmSmiGpu(index=-1)
    return GpuInfo(
        vendor=vendor,
        name=_name(gpu, model),
        pci_id=pci_id,
        pci_revision=f"0x{gpu.revision}" if gpu.revision else None,
        subsystem_id=gpu.sysfs.subsystem_id if gpu.sysfs else None,
        bdf=gpu.bdf,
        gfx=gfx,
        compute_capability=cc,
        family=model.family if model else (arch.architecture if arch else None),
        vram_bytes=_vram(gpu),
        gtt_bytes=gpu.drm.gtt_bytes if gpu.drm else None,
        integrated=_integrated(model, gfx, gpu, vendor),
        driver=driver,
        driver_bound=bound,
        driver_error=NVIDIA_DRIVER_ERRORS.get(nv_error or ""),
        kfd_node=gpu.kfd.node if gpu.kfd else (gpu.agent.node if gpu.agent else None),
        pcie=_pcie(gpu, ev.pci_devices),
        atomics_rejected=_atomics_rejected(gpu, pci_id, ev),
        atomics_path_ok=atomics_path_ok(gpu.lspci, ev.lspci) if gpu.lspci else None,
        runtime_gfx=gpu.agent.gfx if gpu.agent else None,
        # which partition of a partitioned Instinct card it is (rocm-smi / amd-smi)
        compute_partition=smi.compute_partition,
        memory_partition=smi.memory_partition,
        partition_id=smi.partition_id,
        sources=gpu.sources,
    )


def merge(ev: Evidence) -> list[GpuInfo]:
    return [_gpu_info(gpu, ev) for gpu in _collect(ev)]
