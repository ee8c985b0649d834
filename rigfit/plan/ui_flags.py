"""Translate the plan's abstract settings into the chosen UI's own flags (or settings-file keys)."""

from __future__ import annotations

from rigfit.plan.knowledge import ui_entry
from rigfit.plan.model import Decision, PlanOptions, Reason

FLAG_PREFIX = "config:"


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
        where = "invokeai.yaml" if ui.id == "invokeai" else "config.json (Settings)"
        reasons.append(Reason(text=f"Some settings are not flags in {ui.name}: set them in {where}.", kb=[ui.id]))
    choice = " ".join(flags) or "(no flags: the UI's defaults fit)"
    return flags, config, Decision(topic="ui_flags", choice=choice, reasons=reasons)
