"""ComfyUI's own execution and validation messages (a checkpoint without a text encoder, a model file it cannot
detect, a link of the wrong type, a node without a type or not installed, a node's own validation error): the last
message of rigfit/kb/comfyui_errors.yaml in the log, with the node and the file it names. Below every specific rule
(VOCABULARY_CONFIDENCE): "Value not in list" for a model file is the known issue comfyui-model-not-in-list, and
"!!! Exception during processing !!!" is answered by the rule for the error that follows it; a state_dict error
whose size mismatches the shapes analyzer reads is its answer."""

from __future__ import annotations

from rigfit.explain.analyzers import shapes
from rigfit.explain.analyzers.base import Finding
from rigfit.explain.analyzers.context import Context
from rigfit.explain.analyzers.messages import analyze_table, plugin_facts, table
from rigfit.explain.scan import LogLine

# one of each entry's `signals` (tests/test_explain_tool_messages.py checks that every entry's are here)
SIGNALS = (
    "clip input is invalid", "could not detect model type", "return type mismatch between linked nodes",
    "exception when validating", "missing the class_type property", "the custom node may not be installed",
    "error(s) in loading state_dict for", "no such file or directory",
)  # fmt: skip
KEYWORDS = ("missing key(s) in state_dict", "unexpected key(s) in state_dict")
CONTEXT = ('file "', "custom_nodes")


def analyze(ctx: Context) -> list[Finding]:
    found = analyze_table(ctx, "comfyui_errors.yaml", "comfyui", _more, SIGNALS)
    if found and found[0].id == "comfyui-state-dict-keys" and shapes.analyze(ctx):
        return []  # a size mismatch of two model widths: the shapes analyzer names both models
    return found


def ids() -> tuple[str, ...]:
    """The ids of the findings this module returns (one per table entry)."""
    return tuple(f"comfyui-{m.entry.id}" for m in table("comfyui_errors.yaml"))


def _more(ctx: Context, at: LogLine, read: dict[str, str]) -> dict[str, str]:
    return plugin_facts(ctx, at)
