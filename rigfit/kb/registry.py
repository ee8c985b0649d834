"""Which schema validates which KB file, so one check (tests/test_kb_all.py) can load every YAML under rigfit/kb/.

KB OWNERS: when you add a YAML file (or a folder of them) under rigfit/kb/, add one line to SCHEMAS below:
a glob relative to rigfit/kb/ -> "module:Class" of its KbEntry subclass (e.g. "gpus.yaml": "rigfit.kb.gpus:GpuEntry",
"issues/*.yaml": "rigfit.kb.issues:IssueEntry"). Schemas live in rigfit/kb/ (the bottom layer), never in a stage that
uses them: a target outside rigfit.kb is refused. The model is imported lazily, so registering costs nothing at import
time. A YAML file no pattern matches fails tests/test_kb_all.py with a message that points here.
"""

from __future__ import annotations

import fnmatch
import importlib
from pathlib import Path

from rigfit.kb.loader import KB_DIR, KbEntry, KbError, load_entries

SCHEMA_PACKAGE = "rigfit.kb"

SCHEMAS: dict[str, str] = {
    "rocm.yaml": "rigfit.kb.schemas:GfxTarget",
    "torch_wheels.yaml": "rigfit.kb.schemas:WheelLine",
    "pins.yaml": "rigfit.kb.schemas:Pin",
    "uis.yaml": "rigfit.kb.schemas:UiEntry",
    "models.yaml": "rigfit.kb.schemas:ModelEntry",
    "precision.yaml": "rigfit.kb.schemas:PrecisionRule",
    "bench_refs.yaml": "rigfit.kb.host:BenchRef",
    "qemu_cpus.yaml": "rigfit.kb.host:QemuCpu",
    "cpu_requirements.yaml": "rigfit.kb.host:CpuRequirement",
    "gpus.yaml": "rigfit.kb.gpus:GpuModel",
    "gpu_arch.yaml": "rigfit.kb.gpus:GpuArch",
    "gpu_partitions.yaml": "rigfit.kb.gpus:PartitionedGpu",
    "device_selection.yaml": "rigfit.kb.gpus:SelectionVariable",
    "host.yaml": "rigfit.kb.host:HostRule",
    "issues/*.yaml": "rigfit.kb.issues:IssueEntry",
    "model_shapes.yaml": "rigfit.kb.model_shapes:ModelWidth",
    "fixes.yaml": "rigfit.kb.fixes:FixText",
    "torch_build/releases.yaml": "rigfit.kb.torch_source:TorchRelease",
    "torch_build/frontends.yaml": "rigfit.kb.torch_source:BuildFrontend",
    "torch_build/isa_targets.yaml": "rigfit.kb.torch_source:IsaTarget",
    "torch_build/switches.yaml": "rigfit.kb.torch_source:BuildSwitch",
    "torch_build/caveats.yaml": "rigfit.kb.torch_source:BuildCaveat",
    "torch_build/resources.yaml": "rigfit.kb.torch_source:BuildResources",
    "containers_images.yaml": "rigfit.kb.recipes:BaseImage",
    "k8s_gpus.yaml": "rigfit.kb.recipes:GpuClass",
    "python_modules.yaml": "rigfit.kb.diagnosis:PythonModule",
    "python_names.yaml": "rigfit.kb.diagnosis:PythonName",
    "python_stdlib_removed.yaml": "rigfit.kb.diagnosis:RemovedStdlibModule",
    "native_libs.yaml": "rigfit.kb.diagnosis:NativeLibrary",
    "gpu_errors.yaml": "rigfit.kb.error_codes:GpuError",
    "gpu_error_kinds.yaml": "rigfit.kb.error_codes:GpuErrorKind",
    "os_errors.yaml": "rigfit.kb.error_codes:OsError",
    "hf_errors.yaml": "rigfit.kb.error_codes:ToolMessage",
    "torch_errors.yaml": "rigfit.kb.error_codes:ToolMessage",
    "comfyui_errors.yaml": "rigfit.kb.error_codes:ToolMessage",
    "video_models.yaml": "rigfit.kb.diagnosis:VideoModel",
    "ui_log_prefixes.yaml": "rigfit.kb.diagnosis:UiLogPrefix",
    "ui_memory_states.yaml": "rigfit.kb.diagnosis:UiMemoryState",
    "ui_installs.yaml": "rigfit.kb.installs:UiInstall",
    "install_sizes.yaml": "rigfit.kb.installs:InstallSize",
    "patches.yaml": "rigfit.kb.patches:PatchEntry",
    "lscpu_labels.yaml": "rigfit.kb.lscpu_labels:LscpuLanguage",
    "pasted_tools.yaml": "rigfit.kb.pasted_tools:PastedTool",
    "display_adapters.yaml": "rigfit.kb.display_adapters:DisplayAdapter",
    "nvidia_xids.yaml": "rigfit.kb.nvidia_xids:XidGroup",
    "xformers_torch.yaml": "rigfit.kb.xformers:XformersBuild",
    "torch_published.yaml": "rigfit.kb.torch_published:PublishedLine",
    "app_parts.yaml": "rigfit.kb.app_parts:AppPart",
}


def schema_for(relpath: str) -> type[KbEntry] | None:
    """The model registered for a KB file (path relative to rigfit/kb/), or None when nobody registered it."""
    for pattern, target in SCHEMAS.items():
        if fnmatch.fnmatch(relpath, pattern):
            module, _, name = target.partition(":")
            if not module.startswith(SCHEMA_PACKAGE + "."):
                raise KbError(f"registry: {target} (for {pattern}) is outside {SCHEMA_PACKAGE}: move the schema there")
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
        # a class is hashable; mypy reads the frozen dataclass's instance __hash__ as the class's
        counts[relpath] = len(load_entries(relpath, model))  # type: ignore[arg-type]
    return counts
