"""Translate the plan's abstract settings into the chosen UI's own flags (or settings-file keys)."""

from __future__ import annotations

from rigfit.kb.schemas import UiEntry
from rigfit.plan.knowledge import OOM_LOW_MAX_GIB, oom_flag, ui_entry
from rigfit.plan.model import Decision, PlanOptions, Reason

FLAG_PREFIX = "config:"
GIB = 2**30


def settings_file(ui: UiEntry) -> str:
    return "invokeai.yaml" if ui.id == "invokeai" else "config.json (Settings)"


def oom_relief(ui_id: str, vram_bytes: int | None) -> str:
    """The step to take when generation runs out of memory, in the UI's own words (uis.yaml oom_flags)."""
    ui = ui_entry(ui_id)
    if ui.oom_flags is not None:
        if vram_bytes is None:
            return f"relaunch {ui.name} with {ui.oom_flags.medium} ({ui.oom_flags.low} on a card of 4 GB or less)"
        return f"relaunch {ui.name} with {oom_flag(ui.id, vram_bytes / GIB)}"
    small = vram_bytes is not None and vram_bytes / GIB <= OOM_LOW_MAX_GIB
    items = ui.flags.get("memory.low" if small else "memory.medium", [])
    keys = [i[len(FLAG_PREFIX) :].replace("=", ": ", 1) for i in items if i.startswith(FLAG_PREFIX)]
    return f"set {', '.join(keys)} in {settings_file(ui)} and restart {ui.name}"


def settings_for(memory: str, precision_settings: list[str], attention: str, options: PlanOptions) -> list[str]:
    """The abstract settings (uis.yaml keys) this plan needs, in launch-line order."""
    settings = ["install.skip"]
    settings.append("device.cpu" if memory == "cpu" else f"memory.{memory}")
    settings += precision_settings
    settings.append(f"attention.{attention}")
    if options.listen:
        settings.append("net.listen")
    return settings


def translate(settings: list[str], options: PlanOptions) -> tuple[list[str], dict[str, str], Decision]:
    ui = ui_entry(options.ui)
    flags: list[str] = []
    config: dict[str, str] = {}
    for flag in ui.keep_torch_flags:
        if flag not in flags:
            flags.append(flag)
    for setting in settings:
        for item in ui.flags.get(setting, []):
            if item.startswith(FLAG_PREFIX):
                key, _, value = item[len(FLAG_PREFIX) :].partition("=")
                config[key] = value
            elif item not in flags or not item.startswith("--"):
                flags.append(item)
    reasons = [
        Reason(
            text=f"{ui.name}'s own vocabulary for: {', '.join(settings)}.",
            kb=[ui.id],
        ),
        Reason(text=ui.keep_torch_note, kb=[ui.id]),
    ]
    if ui.ignores:
        reasons.append(
            Reason(text=f"{ui.name} does not read {', '.join(ui.ignores)}: passing them changes nothing.", kb=[ui.id])
        )
    if config:
        reasons.append(
            Reason(text=f"Some settings are not flags in {ui.name}: set them in {settings_file(ui)}.", kb=[ui.id])
        )
    choice = " ".join(flags) or "(no flags: the UI's defaults fit)"
    return flags, config, Decision(topic="ui_flags", choice=choice, reasons=reasons)
