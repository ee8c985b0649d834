"""nvidia-smi tables pasted with their edges cut off: a selection that started after the leading "| " or stopped
before the Bus-Id column ends. The GPU row is still recognizable by its index, a name and the persistence column;
what was cut (the PCI address, the memory total) stays unknown rather than guessed."""

from __future__ import annotations

from rigfit.lazy_re import later
from rigfit.probe.gpu.nvidia_smi import _MEMORY, NvidiaGpu, NvidiaSmiOutput
from rigfit.probe.gpu.paste import clean_lines, parse_bdf

_CUT_ROW = later(
    r"^\|?\s{0,4}(?P<idx>\d{1,2})\s{1,6}(?P<name>[A-Za-z][\w .()/-]{2,60}?)\s{1,30}(?:On|Off|N/A|TCC|WDDM)\s{0,3}"
    r"(?:\|\s{0,12}(?P<bus>[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d))?"
)


def _drop_cut_versions(parsed: NvidiaSmiOutput, lines: list[str]) -> None:
    """A header line cut at its right edge may end inside the last version number ("Driver Version: 595.71.0" of
    595.71.05): a version that ends the cut line is not trusted. The full line always ends with the table's "|"."""
    for line in lines:
        tail = line.rstrip()
        if "NVIDIA-SMI" not in tail or tail.endswith("|"):
            continue
        has_cuda = "CUDA Version" in tail or "CUDA UMD Version" in tail
        if parsed.cuda_version and has_cuda and tail.endswith(parsed.cuda_version):
            parsed.cuda_version = None
        elif parsed.driver_version and not has_cuda and tail.endswith(parsed.driver_version):
            parsed.driver_version = None


# the paste's last line: a GPU row cut at the bottom edge, after its index and (part of) its name
_LAST_ROW = later(r"^\|\s{1,4}(?P<idx>\d{1,2})\s{1,6}(?P<name>[A-Za-z][\w .()/-]{1,60}?)\s*$")


def _bottom_cut_row(parsed: NvidiaSmiOutput, lines: list[str]) -> None:
    """A table cut at its bottom edge inside the next GPU's row: that GPU is there, its name perhaps cut, its
    address and memory unknown."""
    shown = [ln for ln in lines if ln.strip()]
    last = _LAST_ROW.match(shown[-1].strip()) if shown else None
    if last and int(last["idx"]) == len(parsed.gpus) and int(last["idx"]) not in {g.index for g in parsed.gpus}:
        parsed.gpus.append(NvidiaGpu(int(last["idx"]), last["name"].strip(), name_truncated=True))


def with_cut_rows(parsed: NvidiaSmiOutput, text: str | None) -> NvidiaSmiOutput:
    """`parsed` with what a table cut at its edges still shows: its GPU rows when the full-table parser found none,
    a last row cut at the bottom, and no version read from the cut end of the header line."""
    lines = clean_lines(text)
    _drop_cut_versions(parsed, lines)
    if parsed.gpus and not parsed.error:
        _bottom_cut_row(parsed, lines)
    if parsed.gpus or parsed.error or not text or ("NVIDIA-SMI" not in text and "Persistence-M" not in text):
        return parsed
    pending: NvidiaGpu | None = None
    for line in lines:
        row = _CUT_ROW.match(line.strip())
        if row and "Name" not in row["name"]:
            name = row["name"].strip()
            pending = NvidiaGpu(int(row["idx"]), name, name.endswith(("...", "…")), parse_bdf(row["bus"]))
            parsed.gpus.append(pending)
            continue
        memory = _MEMORY.search(line)
        if pending is not None and memory:
            pending.memory_total_mib = int(memory[2])
            pending = None
    return parsed
