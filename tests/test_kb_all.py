"""Every YAML file under rigfit/kb/ has a registered schema and validates (rigfit/kb/registry.py)."""

from __future__ import annotations

import pytest

from rigfit.kb.loader import KbError, load_entries
from rigfit.kb.registry import all_kb_files, schema_for, validate_all


def test_every_kb_file_is_registered_and_valid() -> None:
    counts = validate_all()
    assert set(counts) == set(all_kb_files())
    assert all(n > 0 for n in counts.values()), counts


@pytest.mark.parametrize("relpath", all_kb_files())
def test_each_entry_names_a_source(relpath: str) -> None:
    model = schema_for(relpath)
    assert model is not None, f"{relpath}: register its schema in rigfit/kb/registry.py"
    for entry in load_entries(relpath, model):
        assert entry.sources and all(s.strip() for s in entry.sources)


def test_an_unregistered_file_is_reported(tmp_path, monkeypatch) -> None:
    import rigfit.kb.registry as registry

    (tmp_path / "stray.yaml").write_text("entries: []\n")
    monkeypatch.setattr(registry, "KB_DIR", tmp_path)
    with pytest.raises(KbError, match="register it"):
        registry.validate_all()


def test_the_login_file_flag_is_one_fact_the_recipes_read_from_the_flags() -> None:
    """uis.yaml says once which flag takes a file of logins (`net.auth_file`); a UI without one says what instead."""
    from rigfit.kb.schemas import UiEntry
    from rigfit.kb.typed import FieldError
    from rigfit.records import replace

    uis = {ui.id: ui for ui in load_entries("uis.yaml", UiEntry)}
    assert uis["forge"].auth_file_flag == "--gradio-auth-path" and uis["sdnext"].auth_file_flag == "--auth-file"
    assert uis["comfyui"].auth_file_flag is None and uis["comfyui"].container.auth_note
    with pytest.raises(FieldError, match=r"needs container\.auth_note"):
        replace(uis["comfyui"], container=replace(uis["comfyui"].container, auth_note=None))
