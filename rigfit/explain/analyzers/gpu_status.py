"""GPU runtime and library statuses no more specific rule explains: the first CUDA/HIP error text or status name
(cudaErrorX, CUDA_ERROR_X, hipErrorX, CUBLAS_STATUS_X, CUDNN_STATUS_X, HIPBLAS_STATUS_X, rocblas_status_x,
miopenStatusX) in the log, looked up in rigfit/kb/gpu_errors.yaml, with what to look at and do from
rigfit/kb/gpu_error_kinds.yaml and the GPU and op the log names. The first status is the cause: later ones
(CUBLAS_STATUS_EXECUTION_FAILED after a fault) follow from it. A status a known issue or another analyzer answers
(gpu_errors.yaml `answered_by`) gets nothing here."""

from __future__ import annotations

import functools
import re

from rigfit.explain.analyzers.base import VOCABULARY_CONFIDENCE, Finding, answered_elsewhere, every
from rigfit.explain.analyzers.context import Context
from rigfit.explain.scan import LogLine
from rigfit.kb.error_codes import GpuError, GpuErrorKind
from rigfit.kb.loader import by_id, load_entries

SIGNALS = (
    "cuda error", "hip error", "cudaerror", "hiperror", "cuda_error_", "cublas_status_", "cudnn_status_",
    "hipblas_status_", "rocblas_status_", "miopenstatus",
)  # fmt: skip
KEYWORDS = ("when calling", "in function", "triggered internally", "userwarning")
CONTEXT = ("geforce", "quadro", "tesla", "titan", "radeon", "instinct", 'file "')

STATUS_NAME = re.compile(
    r"\b(?P<name>cudaError[A-Z]\w*|hipError[A-Z]\w*|CUDA_ERROR_[A-Z_]+|(?:CUBLAS|CUDNN|HIPBLAS)_STATUS_[A-Z_]+|"
    r"rocblas_status_[a-z_]+|miopenStatus[A-Z]\w*)"
)
STATUS_TEXT = re.compile(
    r"\b(?P<api>CUDA error|HIP error|CUDA driver error)(?: \(?\d+\)?)?(?: at \S+)?: (?P<text>.+)", re.I
)
OP = re.compile(
    r"when calling `(?P<call>\w+)|in function (?P<function>\w+)|"
    r"File \"[^\"]*?(?P<file>[\w.-]+)\", line \d+, in (?P<frame>\w+)"
)
GPU = re.compile(
    r"(?P<gpu>(?:NVIDIA |AMD )?(?:GeForce|Quadro|Tesla|TITAN|Radeon|Instinct)\b(?: [\w-]+){0,4}?"
    r" ?(?:[A-Z]{0,3}\d{2,4}\w*)(?: (?:Ti|SUPER|XT|XTX|GRE|Laptop GPU|Max-Q|\d+GB))*)"
)
# torch's warnings (TORCH_WARN: "... (Triggered internally at ...)") name statuses it recovered from
WARNING = re.compile(r"UserWarning|\bWarning:|\(Triggered internally at ")
AMD_STATUS = ("hip", "HIP", "rocblas", "miopen")
API_LABEL = {
    "cuda": "CUDA", "cublas": "cuBLAS", "cudnn": "cuDNN", "hip": "HIP", "hipblas": "hipBLAS", "rocblas": "rocBLAS",
    "miopen": "MIOpen",
}  # fmt: skip


@functools.cache
def statuses() -> tuple[dict[str, GpuError], tuple[tuple[str, GpuError], ...]]:
    """Every status by each of its names, and the texts (longest first, so a text that starts another loses)."""
    by_name: dict[str, GpuError] = {}
    texts: list[tuple[str, GpuError]] = []
    for entry in load_entries("gpu_errors.yaml", GpuError):
        if entry.start_only:
            continue
        for name in (entry.id, *entry.names):
            by_name[name.lower()] = entry
        if entry.text:
            texts.append((entry.text, entry))
    return by_name, tuple(sorted(texts, key=lambda t: -len(t[0])))


@functools.cache
def kinds() -> dict[str, GpuErrorKind]:
    return by_id(load_entries("gpu_error_kinds.yaml", GpuErrorKind))


def ids() -> tuple[str, ...]:
    """The ids of the findings this module returns (one per kind of status)."""
    return tuple(f"gpu-status-{kind}" for kind in kinds())


def status_named(name: str) -> GpuError | None:
    """The entry for a status name, or for the longest name it starts with (cuDNN 9's CUDNN_STATUS_X_SUBCODE)."""
    by_name, _ = statuses()
    key = name.lower()
    while key:
        if key in by_name:
            return by_name[key]
        key = key.rpartition("_")[0]
    return None


@functools.lru_cache(maxsize=256)
def status_with_text(text: str) -> GpuError | None:
    """The entry whose message starts `text` (what follows "CUDA error: " on the line); a log repeats its errors
    (~300 such lines, each read against ~45 messages, in a 50 MB log with a timestamp on every line)."""
    lowered = text.strip().lower()
    return next((entry for message, entry in statuses()[1] if lowered.startswith(message)), None)


def analyze(ctx: Context) -> list[Finding]:
    found = _first_status(ctx)
    if found is None:
        return []
    line, entry, printed, amd = found
    if answered_elsewhere(entry.answered_by, entry.answered_when, ctx.lines, line):
        return []
    return [_finding(ctx, line, entry, printed, amd)]


def _first_status(ctx: Context) -> tuple[LogLine, GpuError, str, bool] | None:
    """The first line with a status the table knows, not a warning: its entry, the name or text printed, and whether
    it is AMD's."""
    hits: dict[int, tuple[LogLine, GpuError, str, bool]] = {}
    for line, m in every(ctx.lines, STATUS_TEXT):
        if (entry := status_with_text(m.group("text"))) is not None:
            amd = m.group("api").upper().startswith("HIP")
            hits.setdefault(line.number, (line, entry, m.group("text").strip().rstrip("."), amd))
    for line, m in every(ctx.lines, STATUS_NAME):
        name = m.group("name")
        if line.number not in hits and (entry := status_named(name)) is not None:
            hits[line.number] = (line, entry, name, name.startswith(AMD_STATUS))
    for number in [n for n, hit in hits.items() if WARNING.search(hit[0].text)]:
        del hits[number]
    return hits[min(hits)] if hits else None


def _finding(ctx: Context, line: LogLine, entry: GpuError, printed: str, amd: bool) -> Finding:
    amd = amd or "rocm" in str(ctx.torch) or ctx.facts.get("gpu_vendor") == "amd"
    kind = kinds()[entry.kind]
    facts = _facts(ctx, line, entry, _shown_name(entry, printed, amd), amd)
    look = kind.look_amd if amd else kind.look_nvidia
    fix = " ".join(part for part in (entry.fix, kind.fix, f"To see the cause: {look}") if part)
    title = f"{facts['api']} error {facts['status']}" + (f": {entry.text}" if entry.text else "")
    return Finding(
        f"gpu-status-{entry.kind}",
        title,
        _cause(entry, facts, printed),
        fix,
        [line],
        facts,
        [*entry.sources, *kind.sources[:1]],
        confidence=VOCABULARY_CONFIDENCE,
    )


def _facts(ctx: Context, line: LogLine, entry: GpuError, shown: str, amd: bool) -> dict[str, str]:
    """The status as printed, the API and vendor, and what the log says of the op and the GPU."""
    api = "HIP" if amd and entry.api == "cuda" else API_LABEL[entry.api]
    facts = {"status": shown, "api": api, "vendor": "amd" if amd else "nvidia"}
    if entry.text:
        facts["message"] = entry.text
    if op := _op(ctx, line):
        facts["op"] = op
    if gpu := _gpu(ctx):
        facts["gpu"] = gpu
    if amd and ctx.facts.get("gfx"):
        facts["gfx"] = str(ctx.facts["gfx"])
    return facts


def _shown_name(entry: GpuError, printed: str, amd: bool) -> str:
    """The status name as the log printed it (a cuDNN 9 sub-code included), else the table's name for the vendor."""
    names = (entry.id, *entry.names)
    if printed.lower() in (n.lower() for n in names) or STATUS_NAME.fullmatch(printed):
        return printed
    if amd:  # HIP's own name; a CUDA name would be wrong on an AMD GPU, so the message as printed if HIP has none
        return next((n for n in names if n.startswith("hip")), printed)
    return entry.id


def _cause(entry: GpuError, facts: dict[str, str], printed: str) -> str:
    shown = facts["status"]
    said = f' ("{entry.text}")' if entry.text and shown != printed else ""
    return (
        f"The {facts['api']} call failed with {shown}{said}"
        + (f" in {facts['op']}" if "op" in facts else "")
        + (f" on the {facts['gpu']}" if "gpu" in facts else "")
        + (f" (the table's {entry.id})" if shown.lower().startswith(entry.id.lower() + "_") else "")
        + f": {entry.meaning}"
        + (_only_reported(facts["op"]) if "op" in facts else "")
    )


# torch calls that launch no kernel of their own: an asynchronous kernel error surfaces at them (a UI's VRAM monitor
# thread calls mem_get_info every few seconds), so the op that failed ran before
QUERY_CALLS = re.compile(
    r"^(?:mem_get_info|cudaMemGetInfo|memory_stats|memory_allocated|memory_reserved|synchronize|empty_cache)\b"
)


def _only_reported(op: str) -> str:
    if not QUERY_CALLS.match(op):
        return ""
    return (
        f". {op.split()[0]} only queries the GPU: it reports the fault of a kernel that ran before it (kernel "
        "errors are reported asynchronously), so the op that failed is not in this traceback"
    )


def _op(ctx: Context, at: LogLine) -> str | None:
    """The library call the line names (when calling `cublasGemmEx`), or the last Python frame before it."""
    found = None
    for line, m in every(ctx.lines, OP):
        if line.number > at.number + 3:
            break
        call = m.group("call") or m.group("function")
        if call and line.number >= at.number:
            return call
        if line.number < at.number:
            found = call or f"{m.group('frame')} ({m.group('file')})"
    return found


def _gpu(ctx: Context) -> str | None:
    hits = every(ctx.lines, GPU)
    return hits[0][1].group("gpu").strip() if hits else None
