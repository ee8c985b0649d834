"""torch's own runtime errors when a model, a LoRA or a custom node mixes dtypes or devices, and when an attention
kernel, fp8, torch.compile/Triton or torch.load's weights-only unpickler refuses: the last message of
rigfit/kb/torch_errors.yaml in the log, with the op, the dtypes, the devices, the custom node or extension whose file
raised it and the GPU's compute capability. Below every specific rule (VOCABULARY_CONFIDENCE); an entry another rule
answers (`answered_by`) gets nothing here."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding
from rigfit.explain.analyzers.context import Context
from rigfit.explain.analyzers.messages import analyze_table, gpu_facts, plugin_facts, table
from rigfit.explain.scan import LogLine

# one of each entry's `signals` (tests/test_explain_tool_messages.py checks that every entry's are here)
SIGNALS = (
    "expected scalar type", "to have the same dtype", "must have the same dtype", "and bias type", "and weight type",
    "mixed dtype (cpu)", "to be on the same device", "not implemented for '", "device type for generator",
    "tensor from a generator of type",
    "got unsupported scalartype", "flashattention only supports ampere", "no available kernel",
    "_scaled_mm is only supported", "to the mps backend but it does not have support", "is only supported for rocm",
    "backendcompilerfailed", "working triton installation", "triton error [cuda]", "weights only load failed",
)  # fmt: skip
KEYWORDS = ("unsupported global", "unsupported operand")
CONTEXT = ('file "', "custom_nodes", "geforce", "quadro", "tesla", "nvidia rtx")


def analyze(ctx: Context) -> list[Finding]:
    return analyze_table(ctx, "torch_errors.yaml", "torch", _more, SIGNALS)


def ids() -> tuple[str, ...]:
    """The ids of the findings this module returns (one per table entry)."""
    return tuple(f"torch-{m.entry.id}" for m in table("torch_errors.yaml"))


# the names torch prints for a dtype (c10::Half, struct c10::Half, Half, torch.cuda.HalfTensor) -> the usual one
DTYPE_NAMES = (
    (re.compile(r"BFloat16", re.I), "bfloat16"),
    (re.compile(r"\bHalf|float16", re.I), "float16"),
    (re.compile(r"^(?:float|Float|c10::Float|float32)$"), "float32"),
)
DTYPE_FACTS = ("want", "got", "input", "ptype")


def _more(ctx: Context, at: LogLine, read: dict[str, str]) -> dict[str, str]:
    """The plugin in the traceback, dtypes by their usual names, and the GPU where the message is about its
    generation (FlashAttention, fp8 matrix products)."""
    facts = plugin_facts(ctx, at)
    for name in DTYPE_FACTS:
        if name in read and not read[name].startswith("torch."):  # torch.cuda.HalfTensor also names the device
            facts[name] = next((usual for p, usual in DTYPE_NAMES if p.search(read[name])), read[name])
    if any(kind in at.text.lower() for kind in ("flashattention", "_scaled_mm")):
        facts.update(gpu_facts(ctx))
    return facts
