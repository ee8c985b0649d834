"""The planner's KB files are consistent with each other (what the rules rely on), and their schemas bite."""

from __future__ import annotations

import pytest

from rigfit.kb.schemas import UI_SETTINGS, Pin, UiEntry, WheelLine
from rigfit.kb.typed import ValidationError, dump, load_as
from rigfit.plan.knowledge import gfx_targets, models, override_target, pins, ui_entry, wheel_lines
from rigfit.plan.model import UIS


def test_every_override_borrows_an_isa_some_wheel_ships() -> None:
    shipped = {g for w in wheel_lines() for g in w.rocm_archs}
    for entry in gfx_targets().values():
        if entry.override and entry.override_reliability != "broken":
            assert override_target(entry.override) in shipped, entry.id


def test_known_facts_the_plans_rest_on() -> None:
    g = gfx_targets()
    assert (g["gfx1032"].override, g["gfx1032"].override_reliability) == ("10.3.0", "good")
    assert (g["gfx1012"].override, g["gfx1012"].override_reliability) == ("10.3.0", "unreliable")
    assert (g["gfx1103"].override, g["gfx1103"].override_reliability) == ("11.0.0", "broken")
    assert g["gfx803"].pcie_atomics_required and g["gfx803"].env == {"ROC_ENABLE_PRE_VEGA": "1"}
    assert not any("gfx1032" in w.rocm_archs for w in wheel_lines())  # never in official wheels


def test_cuda_lines_have_archs_drivers_and_indexes() -> None:
    for w in wheel_lines():
        if w.kind == "cuda":
            assert w.cuda_archs and w.min_driver and w.index_url and w.index_url.endswith(w.variant or "?")
        if w.kind == "rocm":
            assert w.needs_avx and w.rocm_archs  # bundled rocBLAS executes AVX (pytorch#125310)


def test_every_ui_translates_every_setting_the_planner_emits() -> None:
    for ui in UIS:
        assert set(UI_SETTINGS) <= set(ui_entry(ui).flags), ui


def test_forge_and_a1111_vocabularies_differ() -> None:
    forge, a1111 = ui_entry("forge"), ui_entry("a1111")
    assert "--medvram" in forge.ignores and "--no-half" in forge.ignores
    assert forge.flags["memory.low"] == ["--always-low-vram"] and a1111.flags["memory.low"] == ["--lowvram"]


def test_ui_advice_data_points_at_real_entries() -> None:
    downloads = {m.id: m.download for m in models()}
    for ui in UIS:
        entry = ui_entry(ui)
        if entry.flux_model is not None:
            assert downloads.get(entry.flux_model), f"{ui}: flux_model {entry.flux_model} has no models.yaml download"
        if entry.oom_flags is None:  # the advice falls back to the UI's settings-file keys
            assert any(i.startswith("config:") for i in entry.flags["memory.medium"]), ui
    assert ui_entry("forge").oom_flags.medium not in ui_entry("forge").ignores


def test_pins_and_models_cover_the_seed_cases() -> None:
    by_id = {p.id: p for p in pins()}
    assert by_id["pin-hf-hub-cached-download"].spec == "<0.26"
    assert by_id["extra-pytorch3d"].requires_torch == "==2.1.0"
    assert by_id["pin-numpy-x86-64-v2"].applies_if_x86_level_below == 2
    assert {m.family for m in models()} == {"sd15", "sdxl", "flux"}


def test_schemas_reject_bad_entries() -> None:
    """Each schema refuses one bad field for that field's reason: real, valid entries with one field broken."""
    wheel, ui, pin = dump(wheel_lines()[0]), dump(ui_entry("forge")), dump(pins()[0])
    cases = [
        (WheelLine, {**wheel, "python": "not a range"}, "python", "not a version range"),
        (
            UiEntry,
            {**ui, "flags": {**ui["flags"], "memory.huge": []}},
            "flags",
            r"unknown setting\(s\) \['memory.huge'\]",
        ),
        (Pin, {**pin, "source": " "}, "source", "non-empty source"),
    ]
    for model, data, field, reason in cases:
        with pytest.raises(ValidationError, match=reason) as exc:
            load_as(model, data)
        assert [e["loc"] for e in exc.value.errors()] == [(field,)], exc.value
