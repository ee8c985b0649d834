"""A ComfyUI custom node stops on `NameError: name 'X' is not defined` in its own files. Nodes import what they use
from ComfyUI's core and from libraries inside try/except and carry on when an import fails (printing a line, or
nothing), so the name is missing where it is used, at load time ("Cannot import ... module for custom nodes") or when
the node runs. The real failure is that import: a node release newer than this ComfyUI (the name comes from a newer
core), a dependency its requirements did not install, or a bug of that node release, which its update fixes."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, first, last
from rigfit.explain.analyzers.context import Context

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = ("custom-node-name-undefined",)

SIGNALS = ("nameerror",)
KEYWORDS = ("is not defined", "module for custom nodes")
CONTEXT = ("custom_nodes", "comfyui version", "version:**")  # the last: the Error Report's "**ComfyUI Version:**"

NAME_ERROR = re.compile(
    r"(?:NameError:|Exception Message:\**|module for custom nodes:|!!! Exception during processing !!!)\s*"
    r"name '(?P<name>\w+)' is not defined"
)
# a traceback frame in a node's files, or ComfyUI's line for a node it could not load (not the import-times list)
NODE_FRAME = re.compile(r"(?:File \"|Cannot import )[^\"\n]*?custom_nodes[\\/](?P<node>[^\\/\"'\s]+)")
COMFY_VERSION = re.compile(r"ComfyUI Version:\**\s*v?(?P<version>\d+\.\d+\.\d+)", re.I)
LOAD_TIME = re.compile(r"module for custom nodes|load_custom_node|IMPORT FAILED")
SOURCE = [
    "https://docs.python.org/3/library/exceptions.html#NameError",
    "https://github.com/cardenluo/ComfyUI-Apt_Preset/issues/42 (maintainer: the node needs an updated ComfyUI)",
    "https://docs.comfy.org/troubleshooting/custom-node-issues",
]


def analyze(ctx: Context) -> list[Finding]:
    hit = last(ctx.lines, NAME_ERROR)
    if hit is None:
        return []
    line, m = hit
    # the node: its last frame above the error (a traceback), else below it (the Error Report's stack trace)
    frames = [ln for ln in ctx.lines if NODE_FRAME.search(ln.text)]
    above = [ln for ln in frames if ln.number <= line.number]
    frames = above or frames
    if not frames:
        return []
    node_match = NODE_FRAME.search(frames[-1].text)
    assert node_match is not None
    node, name = node_match.group("node"), m.group("name")
    facts = {"name": name, "custom_node": node}
    version = first(ctx.lines, COMFY_VERSION)
    if version:
        facts["comfyui_version"] = version[1].group("version")
    at_load = any(LOAD_TIME.search(ln.text) for ln in ctx.lines)
    when = "so ComfyUI could not load the node" if at_load else "so the node fails when it runs"
    core = f" (this ComfyUI is {facts['comfyui_version']})" if "comfyui_version" in facts else ""
    cause = (
        f"The custom node {node} uses `{name}`, which is not defined where it runs, {when}. Nodes import such names "
        "inside try/except (from ComfyUI's core or a library) and carry on when the import fails, so the real failure "
        f"is that import: usually a node release newer than this ComfyUI{core}, whose core does not have the name yet, "
        "or a dependency the node's requirements did not install; else a bug of that node release."
    )
    fix = (
        "Update ComfyUI itself (`git pull` in its folder, or the Manager's / launcher's Update ComfyUI) and the node "
        f"(the Manager, or `git pull` in custom_nodes/{node}) together, install the node's requirements with ComfyUI's "
        f"own Python (`{ctx.pip()} install -r custom_nodes/{node}/requirements.txt`), then restart. If it persists, "
        f"the start-up log names the import the node skipped: search it for {node}."
    )
    evidence = [line] + ([frames[-1]] if frames[-1] is not line else [])
    return [
        Finding(
            "custom-node-name-undefined",
            f"The custom node {node} uses a name its skipped import never defined ({name})",
            cause,
            fix,
            evidence,
            facts,
            SOURCE,
        )
    ]
