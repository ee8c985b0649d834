"""The kernel log (dmesg, journalctl -k): what the GPU drivers said at boot.

- KFD refusing a card: "kfd kfd: amdgpu: skipped device 1002:67df, PCI rejects atomics 730<0" (gfx8 without
  PCIe atomics end to end), and accepting one: "kfd kfd: amdgpu: added device 1002:73ff".
- Which driver owns which PCI address: "amdgpu 0000:0a:00.0: ...", "nouveau 0000:01:00.0: ...".
- What chip it is when nothing else was pasted: amdgpu firmware file names ("amdgpu/navi14_sos.bin",
  "amdgpu/gc_11_0_1_pfp.bin") and the KMS line "[drm] initializing kernel modesetting (NAVI14 0x1002:0x7340 ...)";
  xe's "[drm] Found BATTLEMAGE (device ID e20b)"; NVRM's "The NVIDIA GPU 0000:b3:00.0 / (PCI ID: 10de:26b5)",
  which newer drivers print over several lines when a GPU fails; the running driver's "NVRM: GPU at
  PCI:0000:01:00: GPU-<uuid>" and "NVRM: Xid (PCI:0000:01:00): 31, ..." name a GPU it drives (bus:device, function 0).
- Memory sizes amdgpu reports at init: "amdgpu 0000:01:00.0: VRAM: 4096M 0x...", "[drm] Detected VRAM RAM=4096M",
  "[drm] amdgpu: 512M of VRAM memory ready" / "7695M of GTT memory ready" (the last two name no PCI address: they
  belong to the device whose init is under way, which "[drm] Initialized amdgpu ... for 0000:44:00.0" closes).
"""

from __future__ import annotations

import re

from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines, gfx_from_version, parse_bdf
from rigfit.records import field, record

_REJECTED = later(r"skipped device ([0-9a-fA-F]{4}):([0-9a-fA-F]{4}), PCI rejects atomics")
_ADDED = later(r"kfd kfd: (?:amdgpu: )?added device ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_DRIVER_LINE = later(
    r"\b(amdgpu|radeon|nouveau|nvidia|i915|xe)\s+((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]):"
)
_KMS = later(
    r"initializing kernel modesetting \((?P<asic>[A-Z0-9_ ]+?) 0x(?P<ven>[0-9a-fA-F]{4}):0x(?P<dev>[0-9a-fA-F]{4})"
    r"(?: 0x[0-9a-fA-F]{4}:0x[0-9a-fA-F]{4} 0x(?P<rev>[0-9a-fA-F]{2}))?"
)
_FIRMWARE = later(r"amdgpu/([a-z0-9_]+?)_[a-z0-9]+\.bin")
_XE_FOUND = later(r"\[drm\] Found (?P<asic>[A-Z][A-Z0-9_]+) \(device ID (?P<dev>[0-9a-fA-F]{4})\)")
_NVRM_GPU = later(r"NVRM: The NVIDIA GPU ((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])")
_NVRM_AT = later(r"NVRM: (?:GPU at PCI|Xid \(PCI):((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2})\b")
_NVRM_PCI_ID = later(r"\(PCI ID: (10de):([0-9a-fA-F]{4})\)")
_NOUVEAU_CHIP = later(r": NVIDIA (G[A-Z]{1,2}\d{2,3}[A-Z]?) \([0-9a-f]{8}\)")
_VRAM = later(r"\bVRAM: (\d+)M 0x|Detected VRAM RAM=(\d+)M|amdgpu: (\d+)M of VRAM memory ready")
_GTT = later(r"amdgpu: (\d+)M of GTT memory ready")
_INITIALIZED = later(r"Initialized amdgpu \S+ \d+ for ((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])")
_GC_FIRMWARE = later(r"gc_(\d+)_(\d+)_(\d+)")
_NOT_PERMITTED = later(r"read kernel buffer failed|Operation not permitted|No journal files were", re.I)


@record
class KernelGpu:
    """A GPU the kernel log talks about."""

    bdf: str | None  # None when only the KMS line (which older kernels print without it) was pasted
    driver: str
    pci_id: str | None = None  # from the KMS line
    revision: str | None = None
    asic: str | None = None  # "NAVI14", firmware prefix "navi14", "gc_11_0_1"
    gfx: str | None = None  # from a gc_X_Y_Z firmware name
    bound: bool = True  # False for a GPU only NVRM's failure report names: the driver's probe did not take it
    vram_bytes: int | None = None
    gtt_bytes: int | None = None
    initialized: bool = False  # "[drm] Initialized amdgpu ... for <bdf>": lines after it are about another device


@record
class KernelLog:
    atomics_rejected: list[str] = field(default_factory=list)  # "1002:67df"
    kfd_added: list[str] = field(default_factory=list)
    gpus: list[KernelGpu] = field(default_factory=list)
    not_readable: bool = False  # dmesg refused (kernel.dmesg_restrict) or the journal is not readable


def _kfd_lines(line: str, log: KernelLog) -> None:
    """KFD's verdicts: devices it skipped for lack of PCIe atomics, devices it added; a refused log read."""
    if _NOT_PERMITTED.search(line):
        log.not_readable = True
    for match in _REJECTED.finditer(line):
        ident = f"{match[1]}:{match[2]}".lower()
        if ident not in log.atomics_rejected:
            log.atomics_rejected.append(ident)
    for match in _ADDED.finditer(line):
        ident = f"{match[1]}:{match[2]}".lower()
        if ident not in log.kfd_added:
            log.kfd_added.append(ident)


def _nvrm_gpu(line: str, log: KernelLog, by_bdf: dict[str, KernelGpu]) -> KernelGpu | None:
    """NVRM's report on a GPU: its address, and "(PCI ID: 10de:26b5)" on the same line or (wrapped) the next."""
    named = _NVRM_GPU.search(line)
    driven = None if named else _NVRM_AT.search(line)
    slot = parse_bdf(named[1]) if named else (parse_bdf(f"{driven[1]}.0") if driven else None)
    ident = _NVRM_PCI_ID.search(line)
    if slot:
        lost = "fallen off" in line or bool(re.search(r"\): 79\b", line))  # Xid 79: the bus lost the GPU
        gpu = by_bdf.get(slot) or KernelGpu(bdf=slot, driver="nvidia", bound=driven is not None)
        gpu.bound = gpu.bound and not lost
        if slot not in by_bdf:
            log.gpus.append(gpu)
            by_bdf[slot] = gpu
        if ident:
            gpu.pci_id = gpu.pci_id or f"{ident[1]}:{ident[2]}".lower()
        return gpu
    last = log.gpus[-1] if log.gpus and log.gpus[-1].driver == "nvidia" else None
    if ident and last is not None:
        last.pci_id = last.pci_id or f"{ident[1]}:{ident[2]}".lower()
        return last
    return None


def _line_gpu(line: str, log: KernelLog, by_bdf: dict[str, KernelGpu]) -> KernelGpu | None:
    """The GPU a driver or KMS line is about (a new one when first seen); None for other lines."""
    if "NVRM:" in line:
        return _nvrm_gpu(line, log, by_bdf)
    driver = _DRIVER_LINE.search(line)
    kms = _KMS.search(line)
    slot = parse_bdf(driver[2]) if driver else None
    if slot is None and not kms:
        return None
    gpu = by_bdf.get(slot) if slot else None
    if gpu is None and slot is None:  # older kernels print the KMS line without the PCI address
        gpu = next((g for g in reversed(log.gpus) if g.driver == "amdgpu" and g.pci_id is None), None)
        gpu = None if gpu is not None and gpu.initialized else gpu
    if gpu is None:
        gpu = KernelGpu(bdf=slot, driver=driver[1] if driver else "amdgpu")
        log.gpus.append(gpu)
        if slot:
            by_bdf[slot] = gpu
    _line_ids(line, gpu, kms)
    return gpu


def _line_ids(line: str, gpu: KernelGpu, kms: re.Match[str] | None) -> None:
    """The PCI id and chip a KMS line (amdgpu) or xe's "Found" line gives."""
    found = _XE_FOUND.search(line) if gpu.driver == "xe" else None
    if found:
        gpu.pci_id, gpu.asic = f"8086:{found['dev'].lower()}", gpu.asic or found["asic"]
    if kms:
        gpu.pci_id = f"{kms['ven']}:{kms['dev']}".lower()
        gpu.revision = kms["rev"].lower() if kms["rev"] else None
        if kms["asic"].strip() != "IP DISCOVERY":
            gpu.asic = gpu.asic or kms["asic"].strip()


def _firmware(line: str, gpu: KernelGpu) -> None:
    """A firmware file name: the GC version gives the gfx target, other names the ASIC. nouveau names the chip
    outright ("nouveau 0000:02:00.0: NVIDIA GA102 (b72000a1)")."""
    chip = _NOUVEAU_CHIP.search(line) if gpu.driver == "nouveau" else None
    if chip:
        gpu.asic = gpu.asic or chip[1]
    firmware = _FIRMWARE.search(line)
    if firmware:
        gc = _GC_FIRMWARE.fullmatch(firmware[1])
        if gc:
            gpu.gfx = gfx_from_version(int(gc[1]), int(gc[2]), int(gc[3]))
        elif not re.match(r"(?:psp|sdma|vcn|smu|dcn|mes|imu|isp|umsch|vpe)_\d", firmware[1]):
            gpu.asic = gpu.asic or firmware[1]


def _open_amdgpu(log: KernelLog) -> KernelGpu:
    """The amdgpu device whose init the log is in: the last one not yet initialized, or a new one."""
    last = log.gpus[-1] if log.gpus else None
    if last is not None and last.driver == "amdgpu" and not last.initialized:
        return last
    gpu = KernelGpu(bdf=None, driver="amdgpu")
    log.gpus.append(gpu)
    return gpu


def _memory_lines(line: str, log: KernelLog, gpu: KernelGpu | None, by_bdf: dict[str, KernelGpu]) -> None:
    """VRAM and GTT sizes, and the end of a device's init (which may be the only line naming its address)."""
    vram, gtt, done = _VRAM.search(line), _GTT.search(line), _INITIALIZED.search(line)
    if not (vram or gtt or done):
        return
    target = gpu if gpu is not None and gpu.driver == "amdgpu" else _open_amdgpu(log)
    if vram:
        target.vram_bytes = target.vram_bytes or int(next(g for g in vram.groups() if g)) << 20
    if gtt:
        target.gtt_bytes = target.gtt_bytes or int(gtt[1]) << 20
    if done:
        slot = parse_bdf(done[1])
        if slot and slot in by_bdf and by_bdf[slot] is not target:
            target = by_bdf[slot]
        target.bdf = target.bdf or slot
        if slot:
            by_bdf.setdefault(slot, target)
        target.initialized = True


def parse_kernel_log(text: str | None) -> KernelLog:
    log = KernelLog()
    by_bdf: dict[str, KernelGpu] = {}
    for line in clean_lines(text):
        _kfd_lines(line, log)
        gpu = _line_gpu(line, log, by_bdf)
        if gpu is not None:
            _firmware(line, gpu)
        _memory_lines(line, log, gpu, by_bdf)
    return log
