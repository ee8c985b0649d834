"""Analyzers of classes of failures, one small module per class (like thefuck's rules).

The known-issue catalogue (rigfit/kb/issues/) recognises specific failures; these read any log of a class, pull its
facts out and write the cause and fix from them. Both run on the lines the scanner kept; a known issue that matched
ranks above the class answer for the same lines.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import ModuleType

from rigfit.explain.analyzers import (
    app_parts,
    comfyui_errors,
    cuda_init,
    fetch,
    gpu_code,
    gpu_status,
    hf_errors,
    imports,
    memory,
    node_names,
    os_errors,
    resolver,
    runtime,
    shapes,
    sigill,
    stdlib_shadow,
    torch_errors,
)
from rigfit.explain.analyzers.base import Finding
from rigfit.explain.analyzers.context import Context
from rigfit.explain.facts import Facts
from rigfit.explain.scan import LogScan

ANALYZERS: tuple[ModuleType, ...] = (
    resolver, imports, gpu_code, cuda_init, runtime, memory, sigill, fetch, hf_errors, gpu_status, os_errors, shapes,
    stdlib_shadow, node_names, torch_errors, comfyui_errors, app_parts,
)  # fmt: skip


def keywords() -> set[str]:
    """A few words that show a failure of some class: the scanner looks for them everywhere (SIGNALS)."""
    return {k for module in ANALYZERS for k in module.SIGNALS}


def context_keywords() -> set[str]:
    """The lines an analyzer reads (KEYWORDS) and the facts around a failure (CONTEXT: paths, models, versions):
    looked for only in the blocks of the log where a signal or a known issue's keyword was found."""
    return {k for module in ANALYZERS for k in module.KEYWORDS + module.CONTEXT} - keywords()


def class_ids() -> frozenset[str]:
    """Every id a class finding can have: each module's IDS, or its ids() where a table names them (the known-issue
    catalogue may supersede these ids; tests check every finding's id is among them)."""
    return frozenset(i for module in ANALYZERS for i in (module.ids() if hasattr(module, "ids") else module.IDS))


def analyze(scan: LogScan, facts: Facts) -> list[Finding]:
    """Every class finding in the log, in analyzer order."""
    ctx = Context(sorted(scan.lines.values(), key=operator.attrgetter("number")), facts)
    found: list[Finding] = []
    for module in ANALYZERS:
        run: Callable[[Context], list[Finding]] = module.analyze
        found.extend(run(ctx))
    return found


__all__ = ["ANALYZERS", "Finding", "analyze", "class_ids", "context_keywords", "keywords"]
