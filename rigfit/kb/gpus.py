"""GPU knowledge: what a PCI id is, and what a gfx target / compute capability implies.

Data: rigfit/kb/gpus.yaml (one `GpuModel` per chip: PCI device ids -> marketing names, family, AMD gfx target or
NVIDIA compute capability, integrated flag) and rigfit/kb/gpu_arch.yaml (one `GpuArch` per gfx target / sm_XY:
APU-only, needs PCIe atomics).

API (what doctor and the planner use):
    lookup_pci("1002", "73ff", "c1")   -> GpuModel | None   (revision-aware: 73ff rev df is a gfx1031 RX 6750 GRE)
    model.name_for("73ff", "c1")       -> "AMD Radeon RX 6600 XT" (most specific name; `model.name` as fallback)
    lookup_name("NVIDIA GeForce RTX 3060 ...") -> list[GpuModel] whose marketing names match (prefix-tolerant)
    lookup_series("A100-SXM-80GB")         -> list[GpuModel] sold under that product number ("A100")
    lookup_chip("... Navi 23 [Radeon RX 6600/6600 XT/6600M]") -> GpuModel | None  (codename in free text:
                                          lspci without -nn, amdgpu firmware names, kernel log asic names)
    gfx_family("gfx1032")              -> GpuArch | None    (.architecture "RDNA2", .apu_only, .requires_pcie_atomics)
    cuda_arch("8.6")                   -> GpuArch | None    (.architecture "Ampere")
    vendor_name("10de")                -> "nvidia"
Ids are lower-case hex without 0x; every function accepts "0x73FF" / "73FF" too.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.kb.typed import FieldError
from rigfit.records import field, record

VENDORS = {"1002": "amd", "10de": "nvidia", "8086": "intel", "1a03": "aspeed", "15ad": "vmware", "1234": "qemu"}


@record(frozen=True, kw_only=True)
class GpuModel(KbEntry):
    """One GPU chip and the PCI ids it is sold under."""

    vendor: Literal["amd", "nvidia", "intel"]
    chip: str
    family: str
    gfx: str | None = None
    compute_capability: str | None = None
    integrated: bool
    name: str  # generic name, used when no device/revision-specific name is known
    devices: list[str]  # "73ff", or "73ff:df" when only that revision is this chip
    # "Navi 23", "Dimgrey Cavefish", "GA106": as lspci / firmware / kernel log spell it
    codenames: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # "73ff:c1" or "73ff" -> marketing name
    # Intel: PyTorch's XPU build (download.pytorch.org/whl/xpu) runs it; False = no torch GPU backend (the CPU)
    xpu: bool = False

    def name_for(self, device: str, revision: str | None = None) -> str:
        """The device's own name; with its revision unknown, the two or three names its revisions carry (67c4 is a
        Radeon Pro WX 7100 or an E9560, never the RX 470-590 the chip-wide name lists), else the chip-wide name."""
        dev, rev = hex_id(device), hex_id(revision, width=2) if revision else None
        named = (rev and self.names.get(f"{dev}:{rev}")) or self.names.get(dev)
        if named:
            return named
        by_revision = list(dict.fromkeys(n for key, n in self.names.items() if key.startswith(f"{dev}:")))
        return " or ".join(by_revision) if rev is None and 0 < len(by_revision) <= 3 else self.name


@record(frozen=True, kw_only=True)
class GpuArch(KbEntry):
    """An instruction-set generation: AMD gfx target ("gfx1032") or NVIDIA compute capability ("sm_86")."""

    vendor: Literal["amd", "nvidia"]
    architecture: str
    apu_only: bool = False
    requires_pcie_atomics: bool = False


def hex_id(value: str | None, width: int = 4) -> str:
    """'0x73FF' / '73FF' / '73ff' -> '73ff' (zero-padded); '' when not hex."""
    text = (value or "").strip().lower().removeprefix("0x")
    return text.zfill(width) if re.fullmatch(r"[0-9a-f]{1,8}", text) else ""


def models() -> tuple[GpuModel, ...]:
    return load_entries("gpus.yaml", GpuModel)


@functools.cache
def _pci_index() -> dict[tuple[str, str], GpuModel]:
    index: dict[tuple[str, str], GpuModel] = {}
    vendor_ids = {v: k for k, v in VENDORS.items()}
    for model in models():
        for device in model.devices:
            index[(vendor_ids[model.vendor], device)] = model
    return index


def lookup_pci(vendor: str, device: str, revision: str | None = None) -> GpuModel | None:
    """The chip behind a PCI vendor:device[:revision], or None when the table does not know it."""
    index = _pci_index()
    ven, dev = hex_id(vendor), hex_id(device)
    rev = hex_id(revision, width=2) if revision else ""
    return (rev and index.get((ven, f"{dev}:{rev}"))) or index.get((ven, dev))


def _words(name: str) -> list[str]:
    text = re.sub(r"(?i)\b(nvidia|amd|ati|geforce|radeon|graphics|series)\b", " ", name)
    return re.findall(r"[a-z0-9]+", text.lower())


def _starts_with(words: list[str], prefix: list[str]) -> bool:
    """Word-wise prefix; the last prefix word may itself be cut ("gtx 105" starts "gtx 1050 ti")."""
    if len(words) < len(prefix):
        return False
    head, last = prefix[:-1], prefix[-1]
    return words[: len(head)] == head and words[len(head)].startswith(last)


def lookup_name(name: str) -> list[GpuModel]:
    """Models whose marketing names match `name` (tools print "NVIDIA GeForce RTX 3060" or a truncated
    "NVIDIA GeForce RTX 3060 ..."). Exact word matches first; a truncated name matches every name it prefixes."""
    truncated = name.rstrip().endswith(("...", "…"))
    wanted = _words(name.rstrip(" .…"))
    if not wanted:
        return []
    exact: list[GpuModel] = []
    prefix: list[GpuModel] = []
    for model in models():
        candidates = [_words(n) for n in model.names.values()]
        if any(c == wanted for c in candidates):
            exact.append(model)
        elif truncated and any(_starts_with(c, wanted) for c in candidates):
            prefix.append(model)
    return exact + prefix if truncated else exact


def lookup_series(name: str) -> list[GpuModel]:
    """Models sold under the name's product number ("A100" of "A100-SXM-80GB", a variant pci.ids spells another
    way): every model one of whose names has the same words up to and including that number, whole words only."""
    words = _words(name.rstrip(" .…"))
    number = next((i for i, w in enumerate(words) if re.search(r"\d", w)), None)
    if number is None:
        return []
    series = words[: number + 1]
    return [m for m in models() if any(_words(n)[: len(series)] == series for n in m.names.values())]


@functools.cache
def _codename_patterns() -> list[tuple[re.Pattern[str], GpuModel]]:
    """(pattern, model), longest codename first so "Strix Halo" wins over "Strix"."""
    found: list[tuple[str, GpuModel]] = [(c, m) for m in models() for c in m.codenames]
    patterns = []
    for code, model in sorted(found, key=lambda cm: -len(cm[0])):
        body = r"[\s_-]?".join(re.escape(part) for part in re.findall(r"[A-Za-z]+|[0-9]+", code))
        suffix = r"(?:m|gl|glm|bm|b)?" if model.vendor == "nvidia" else ""
        patterns.append((re.compile(rf"(?<![a-z0-9]){body}{suffix}(?![a-z0-9])", re.I), model))
    return patterns


def lookup_chip(text: str) -> GpuModel | None:
    """The chip whose codename appears in free text (lspci description, firmware file name, kernel log)."""
    for pattern, model in _codename_patterns():
        if pattern.search(text):
            return model
    return None


@functools.cache
def _arch_index() -> dict[str, GpuArch]:
    return {a.id: a for a in load_entries("gpu_arch.yaml", GpuArch)}


def gfx_family(gfx: str | None) -> GpuArch | None:
    """What a gfx target is ("gfx1032" -> RDNA2); feature suffixes (":sramecc+:xnack-") are ignored."""
    if not gfx:
        return None
    return _arch_index().get(gfx.strip().lower().split(":")[0])


def cuda_arch(compute_capability: str | None) -> GpuArch | None:
    """What a compute capability is ("8.6" -> Ampere)."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", compute_capability or "")
    return _arch_index().get(f"sm_{match[1]}{match[2]}") if match else None


def model_of(pci_id: str | None, name: str | None) -> GpuModel | None:
    """A GPU's KB model by its PCI id ("8086:56a0"), else by its name when one model alone carries it."""
    if pci_id and ":" in pci_id:
        return lookup_pci(*pci_id.split(":", 1))
    candidates = lookup_name(name) if name else []
    return candidates[0] if len(candidates) == 1 else None


def vendor_name(vendor_id: str | None) -> str | None:
    """'0x10de' -> 'nvidia'; None for an id rigfit does not name."""
    return VENDORS.get(hex_id(vendor_id))


@record(frozen=True, kw_only=True)
class PartitionedGpu(KbEntry):
    """An Instinct GPU that amd-smi can split into compute partitions (gpu_partitions.yaml): each partition is listed
    as its own GPU, with its share of the card's compute dies and memory."""

    names: list[str]  # marketing names, as rocm-smi / amd-smi / rocminfo print them
    card_memory_gib: int  # the whole card's memory (HBM)
    compute_modes: dict[str, int]  # compute partition mode ("CPX") -> partitions (listed GPUs) per card

    def _check(self) -> None:
        if any(count < 1 for count in self.compute_modes.values()):
            raise FieldError("compute_modes", "a mode splits a card into 1 or more partitions")


def partitioned_gpus() -> tuple[PartitionedGpu, ...]:
    return load_entries("gpu_partitions.yaml", PartitionedGpu)


def partitioned_gpu(name: str | None) -> PartitionedGpu | None:
    """The partitioning facts of the GPU with this marketing name ("AMD Instinct MI300X"), or None."""
    return next((g for g in partitioned_gpus() if name in g.names), None)


@record(frozen=True, kw_only=True)
class SelectionVariable(KbEntry):
    """An environment variable (id: its name) that selects which GPUs a runtime shows programs
    (device_selection.yaml). Entries are read in order up to the first invalid one, as CUDA documents."""

    vendors: list[Literal["nvidia", "amd"]]  # whose GPUs it hides
    runtime: str  # who reads it ("CUDA", "HIP", "ROCr")


def selection_variables(vendor: str | None) -> list[SelectionVariable]:
    """The variables that can hide this vendor's GPUs, in the order a runtime applies them."""
    return [v for v in load_entries("device_selection.yaml", SelectionVariable) if vendor in v.vendors]
