"""Which schema validates which KB file, so one check (tests/test_kb_all.py) can load every YAML under rigfit/kb/.

KB OWNERS: when you add a YAML file (or a folder of them) under rigfit/kb/, add one line to SCHEMAS below:
a glob relative to rigfit/kb/ -> "module:Class" of its KbEntry subclass (e.g. "gpus.yaml": "rigfit.kb.gpus:GpuEntry",
"issues/*.yaml": "rigfit.kb.issues:IssueEntry"). The model is imported lazily, so registering costs nothing at import
time. A YAML file no pattern matches fails tests/test_kb_all.py with a message that points here.
"""

from __future__ import annotations

import fnmatch
import importlib
from pathlib import Path

from rigfit.kb.loader import KB_DIR, KbEntry, KbError, load_entries

SCHEMAS: dict[str, str] = {
    "rocm.yaml": "rigfit.kb.schemas:GfxTarget",
    "torch_wheels.yaml": "rigfit.kb.schemas:WheelLine",
    "pins.yaml": "rigfit.kb.schemas:Pin",
    "uis.yaml": "rigfit.kb.schemas:UiEntry",
    "models.yaml": "rigfit.kb.schemas:ModelEntry",
    "precision.yaml": "rigfit.kb.schemas:PrecisionRule",
    "bench_refs.yaml": "rigfit.verify.kb_schemas:BenchRef",
    "qemu_cpus.yaml": "rigfit.verify.kb_schemas:QemuCpu",
    "cpu_requirements.yaml": "rigfit.verify.kb_schemas:CpuRequirement",
    "gpus.yaml": "rigfit.kb.gpus:GpuModel",
    "gpu_arch.yaml": "rigfit.kb.gpus:GpuArch",
    "host.yaml": "rigfit.probe.host_rules:HostRule",
    "issues/*.yaml": "rigfit.kb.issues:IssueEntry",
    "ui_installs.yaml": "rigfit.env.kb_schemas:UiInstall",
    "patches.yaml": "rigfit.kb.patches:PatchEntry",
}


def schema_for(relpath: str) -> type[KbEntry] | None:
    """The model registered for a KB file (path relative to rigfit/kb/), or None when nobody registered it."""
    for pattern, target in SCHEMAS.items():
        if fnmatch.fnmatch(relpath, pattern):
            module, _, name = target.partition(":")
            model = getattr(importlib.import_module(module), name)
            if not (isinstance(model, type) and issubclass(model, KbEntry)):
                raise KbError(f"registry: {target} (for {pattern}) is not a KbEntry subclass")
            return model
    return None


def all_kb_files() -> list[str]:
    """Every YAML file under rigfit/kb/, relative to it."""
    return sorted(str(p.relative_to(KB_DIR)) for p in Path(KB_DIR).rglob("*.yaml"))


def validate_all() -> dict[str, int]:
    """Load every KB file with its registered schema: {file: entry count}. Raises KbError on the first problem."""
    counts: dict[str, int] = {}
    for relpath in all_kb_files():
        model = schema_for(relpath)
        if model is None:
            raise KbError(f"{relpath} has no schema: register it in rigfit/kb/registry.py (SCHEMAS)")
        counts[relpath] = len(load_entries(relpath, model))
    return counts
