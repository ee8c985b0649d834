"""ComfyUI's own execution and validation messages (a checkpoint without a text encoder, a model file it cannot
detect, a link of the wrong type, a node without a type or not installed, a node's own validation error): the last
message of rigfit/kb/comfyui_errors.yaml in the log, with the node and the file it names. Below every specific rule
(VOCABULARY_CONFIDENCE): "Value not in list" for a model file is the known issue comfyui-model-not-in-list, and
"!!! Exception during processing !!!" is answered by the rule for the error that follows it."""

from __future__ import annotations

from rigfit.explain.analyzers.base import Finding
from rigfit.explain.analyzers.context import Context
from rigfit.explain.analyzers.messages import analyze_table, plugin_facts
from rigfit.explain.scan import LogLine

# one of each entry's `signals` (tests/test_explain_tool_messages.py checks that every entry's are here)
SIGNALS = (
    "clip input is invalid", "could not detect model type", "return type mismatch between linked nodes",
    "exception when validating node", "missing the class_type property", "the custom node may not be installed",
)  # fmt: skip
KEYWORDS: tuple[str, ...] = ()
CONTEXT = ('file "', "custom_nodes")


def analyze(ctx: Context) -> list[Finding]:
    return analyze_table(ctx, "comfyui_errors.yaml", "comfyui", _more)


def _more(ctx: Context, at: LogLine, read: dict[str, str]) -> dict[str, str]:
    return plugin_facts(ctx, at)
