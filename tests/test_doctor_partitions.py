"""Partitioned Instinct GPUs (issue 10): rocm-smi / amd-smi list every compute partition of an MI300X as a GPU.
Doctor says how many physical cards and partitions there are, what one partition holds, and how to go back to
SPX/NPS1, on real pastes (tests/fixtures/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.rocm_smi import parse_rocm_smi
from tests.doctor_helpers import pasted, read


def _partitioned(tmp_path: Path, fixture: str) -> list[str]:
    profile = pasted(tmp_path, "rocm-smi", read(fixture))
    return [f"{f.message} FIX: {f.fix}" for f in findings_for(profile) if f.id == "gpu.partitioned"]


def test_rocm_smi_i_partitions_after_each_card_are_counted_as_partitions_of_three_cards(tmp_path: Path) -> None:
    # ROCm 6.4.1: the card's first partition has its Device ID, the next one "Device ID: N/A"
    out = parse_rocm_smi(read("rocm-smi-i-partitions-cut--mi300x-74a1.txt"))
    assert [g.partition_id for g in out.gpus] == [0, 1, 0, 1, 0, 1]
    (message,) = _partitioned(tmp_path, "rocm-smi-i-partitions-cut--mi300x-74a1.txt")
    assert "The 6 GPUs listed are compute partitions of 3 physical AMD Instinct MI300X cards" in message
    assert "2 per card, DPX compute mode" in message
    assert "about 96 GiB of the card's 192 GiB and 1/2 of its compute units" in message
    assert "sudo amd-smi set --gpu all --compute-partition SPX" in message
    assert "sudo amd-smi set --memory-partition NPS1" in message


def test_amd_smi_static_partition_names_the_modes_without_counting_cards_it_cannot_see(tmp_path: Path) -> None:
    out = parse_rocm_smi(read("amd-smi-static-partition-cpx-nps4-cut--mi300x.txt"))
    assert (out.gpus[0].compute_partition, out.gpus[0].memory_partition, out.gpus[0].partition_id) == ("CPX", "NPS4", 0)
    (message,) = _partitioned(tmp_path, "amd-smi-static-partition-cpx-nps4-cut--mi300x.txt")
    assert "CPX compute mode, NPS4 memory mode" in message
    assert "physical" not in message  # the paste is cut ("..."): the card count is not known
    assert "GiB" not in message  # no name, so the card's memory is unknown


def test_the_concise_table_in_spx_nps1_is_four_whole_cards(tmp_path: Path) -> None:
    out = parse_rocm_smi(read("rocm-smi-concise-partitions-spx-nps1-cut--mi300x-74a1.txt"))
    assert [(g.device_id, g.compute_partition, g.memory_partition) for g in out.gpus] == [("74a1", "SPX", "NPS1")] * 4
    assert _partitioned(tmp_path, "rocm-smi-concise-partitions-spx-nps1-cut--mi300x-74a1.txt") == []


def test_plain_amd_smi_table_in_dpx_reads_partitions_by_pci_function(tmp_path: Path) -> None:
    # ROCm 7.0.2's `amd-smi`: the first partition shows "DPX/NPS1", the second sits at function .1 with "N/A"
    out = parse_rocm_smi(read("amd-smi-default-table-dpx-cut--mi300x.txt"))
    assert [(g.bdf, g.card_series, g.partition_id, g.compute_partition) for g in out.gpus] == [
        ("0000:05:00.0", "AMD Instinct MI300X", 0, "DPX"),
        ("0000:05:00.1", "AMD Instinct MI300X", 1, None),
        ("0000:26:00.0", "AMD Instinct MI300X", 0, "DPX"),
    ]
    # its memory column shows the whole card (196592 MB) on a first partition: not taken as the partition's VRAM
    assert all(g.vram_total_bytes is None for g in out.gpus)
    (message,) = _partitioned(tmp_path, "amd-smi-default-table-dpx-cut--mi300x.txt")
    assert "The 3 GPUs listed are compute partitions of 2 physical AMD Instinct MI300X cards" in message
    assert "2 per card, DPX compute mode, NPS1 memory mode" in message and "about 96 GiB" in message
