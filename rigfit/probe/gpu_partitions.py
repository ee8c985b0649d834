"""Partitioned Instinct GPUs (MI300X in DPX/QPX/CPX compute mode, NPS4 memory mode): rocm-smi and amd-smi list every
partition as a GPU, so 8 cards read as 64 GPUs. Say how many physical cards and partitions there are, what one
partition holds (what a process gets), and how to go back to one GPU per card (rigfit/kb/gpu_partitions.yaml)."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.kb.gpus import PartitionedGpu, partitioned_gpu
from rigfit.probe.profile import Finding, GpuInfo, Profile

UNSPLIT = {None, "SPX", "NPS1"}


def _is_partition(gpu: GpuInfo) -> bool:
    split_mode = gpu.compute_partition not in UNSPLIT or gpu.memory_partition not in UNSPLIT
    return gpu.vendor in ("amd", None) and (split_mode or (gpu.partition_id or 0) > 0)


def _per_card(parts: list[GpuInfo], kb: PartitionedGpu | None, mode: str | None) -> int | None:
    """Partitions per card: the KB's count for the mode amd-smi reports, else what the listing shows (the highest
    partition number rocm-smi printed after a card, plus one)."""
    if kb and mode in kb.compute_modes:
        return kb.compute_modes[mode]
    counted = max((g.partition_id for g in parts if g.partition_id is not None), default=None)
    return counted + 1 if counted else None


def _mode(kb: PartitionedGpu | None, explicit: str | None, per_card: int | None) -> str | None:
    if explicit or kb is None:
        return explicit
    return next((mode for mode, count in kb.compute_modes.items() if count == per_card), None)


def _share(kb: PartitionedGpu | None, per_card: int | None) -> str:
    """What one partition holds, when the KB knows the card's memory and the partitions per card are known."""
    if kb is None or per_card is None:
        return (
            "a process that uses one of them gets one partition's compute and memory, not the card's; rocm-smi and "
            "amd-smi may show the whole card's memory on every partition (rocminfo shows a partition's own)"
        )
    memory = kb.card_memory_gib / per_card
    return (
        f"a process that uses one of them gets one partition: about {memory:g} GiB of the card's "
        f"{kb.card_memory_gib} GiB and 1/{per_card} of its compute units (rocm-smi and amd-smi may show the whole "
        "card's memory on every partition; rocminfo shows a partition's own)"
    )


def _cards(amd: list[GpuInfo], name: str | None) -> str:
    """ "of 3 physical MI300X cards", counted only when every GPU listed says which partition of its card it is (a
    cut paste may not)."""
    firsts = [g for g in amd if g.partition_id == 0]
    if not firsts or any(g.partition_id is None for g in amd):
        return "of fewer cards"
    return f"of {len(firsts)} physical {name or 'Instinct'} card{'s' if len(firsts) != 1 else ''}"


def _first(values: list[str | None]) -> str | None:
    return next((v for v in values if v), None)


def partition_findings(profile: Profile) -> list[Finding]:
    if not any(_is_partition(g) for g in profile.gpus):
        return []
    amd = [g for g in profile.gpus if g.vendor in ("amd", None)]
    name = _first([g.name for g in amd])
    kb = partitioned_gpu(name)
    explicit = _first([g.compute_partition for g in amd])
    memory_mode = _first([g.memory_partition for g in amd])
    per_card = _per_card(amd, kb, explicit)
    mode = _mode(kb, explicit, per_card)
    split = (
        f"{per_card} per card" if per_card else None,
        f"{mode} compute mode" if mode else None,
        f"{memory_mode} memory mode" if memory_mode else None,
    )
    listed = f"The {len(amd)} GPUs listed are compute partitions {_cards(amd, name)}"
    return [
        Finding(
            id="gpu.partitioned",
            severity="info",
            group="gpus",
            message=f"{listed} ({', '.join(p for p in split if p)}), not {len(amd)} cards: {_share(kb, per_card)}.",
            fix=fix_text("gpu.partitioned"),
            kb=[kb.id] if kb else [],
        )
    ]
