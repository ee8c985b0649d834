"""The UI's own torch floor against the torch the plan picked for the device (uis.yaml torch_min): a UI whose current
release needs a newer torch than the card runs must be said, with the routes that work."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.plan.knowledge import in_range, ui_entries, ui_entry, version
from rigfit.plan.model import Advice, TorchChoice


def ui_torch_floor(ui_id: str, torch: TorchChoice) -> Advice | None:
    """A warning when the chosen torch is older than what the UI needs; None when it fits or either is unknown."""
    ui = ui_entry(ui_id)
    have = version(torch.version)
    if ui.torch_min is None or have is None or in_range(str(have), f">={ui.torch_min}") is not False:
        return None
    others = [
        u
        for u in ui_entries().values()
        if u.id != ui.id and u.torch_min is not None and in_range(str(have), f">={u.torch_min}")
    ]
    routes = [f"`rigfit plan --ui {u.id}` ({u.name} runs on torch {u.torch_min}+: {u.torch_min_why})" for u in others]
    return Advice(
        id="ui-needs-newer-torch",
        message=f"{ui.name} needs torch >= {ui.torch_min} ({ui.torch_min_why}), but the torch that runs on this GPU "
        f"is {torch.version}{'+' + torch.variant if torch.variant else ''}: {ui.name} will not work with it.",
        fix=fix_text("ui-needs-newer-torch", routes="; or ".join(routes) or "another UI"),
        kb=[ui.id, *(u.id for u in others), *([torch.kb] if torch.kb else [])],
    )
