"""GPUs that a device-selection variable (CUDA_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES) hides from
every program started with it, while nvidia-smi / rocm-smi still list them: torch then sees no GPU."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.kb.gpus import selection_variables
from rigfit.probe.profile import Finding, Profile
from rigfit.probe.source import Source

UUID_PREFIXES = ("GPU-", "MIG-")
VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD"}


def read_device_selection(source: Source) -> dict[str, str]:
    """The selection variables set in the source's environment ("" counts: it hides every GPU)."""
    names = {v.id for vendor in VENDOR_NAMES for v in selection_variables(vendor)}
    return {name: value for name in sorted(names) if (value := source.env(name)) is not None}


def visible_count(value: str, present: int) -> int | None:
    """How many of `present` GPUs the variable leaves visible: entries count up to the first invalid one (CUDA's
    rule: "0,2,-1,1" shows two). None when an entry is a UUID, which a capture cannot check."""
    shown: set[int] = set()
    for entry in (e.strip() for e in value.split(",")):
        if entry.upper().startswith(UUID_PREFIXES):
            return None
        if not entry.isdigit() or int(entry) >= present:
            break
        shown.add(int(entry))
    return len(shown)


def hiding_variable(profile: Profile, vendor: str) -> tuple[str, str] | None:
    """The first selection variable that hides every GPU of this vendor the machine lists, with its value."""
    present = sum(1 for g in profile.gpus if g.vendor == vendor)
    if not present:
        return None
    for variable in selection_variables(vendor):
        value = profile.device_selection.get(variable.id)
        if value is not None and visible_count(value, present) == 0:
            return variable.id, value
    return None


def hidden_gpu_findings(profile: Profile) -> list[Finding]:
    found = []
    for vendor, vendor_name in VENDOR_NAMES.items():
        hidden = hiding_variable(profile, vendor)
        if hidden is None:
            continue
        name, value = hidden
        count = sum(1 for g in profile.gpus if g.vendor == vendor)
        found.append(
            Finding(
                id="gpu.hidden-by-selection-variable",
                severity="warning",
                message=f"{name}={value!r} is set {'here' if profile.whole else 'in what was given'}: it hides every "
                f"{vendor_name} GPU ({count} listed above) from "
                "torch and from every UI started from this environment, so they run on the CPU or stop with "
                "'No CUDA GPUs are available'.",
                fix=fix_text("gpu.hidden-by-selection-variable", variable=name),
                group="gpus",
            )
        )
    return found
