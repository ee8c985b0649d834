"""rigfit/kb/typed.py: file data checked against dataclass type hints, one clear error, and the JSON form back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.env.record import EnvRecord, ProtectedPackage, load_record, record_path, save_record
from rigfit.kb.issues import IssueEntry, Range
from rigfit.kb.schemas import UiEntry
from rigfit.kb.typed import ValidationError, dump, load_as
from rigfit.launch.state import RunState, load_state, save_state
from rigfit.plan.knowledge import ui_entry
from rigfit.probe.profile import CpuInfo, GpuInfo, PcieLink, Profile

ISSUE = {
    "id": "x",
    "title": "X",
    "keywords": ["out of memory"],
    "any_of": ["out of memory"],
    "cause": "c",
    "fix": "f",
    "source": "https://example.org/1",
}


def test_error_names_where_the_field_path_what_was_found_and_what_was_expected() -> None:
    ui = dump(ui_entry("forge"))
    ui["container"]["mounts"]["models"] = 3
    with pytest.raises(ValidationError) as info:
        load_as(UiEntry, ui, "uis.yaml: entry 'forge'")
    assert str(info.value) == "uis.yaml: entry 'forge': container.mounts.models: expected a string, found 3 (int)"
    assert info.value.errors() == [
        {"loc": ("container", "mounts", "models"), "msg": "expected a string, found 3 (int)"}
    ]


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        ({"keywords": "out of memory"}, "keywords", "expected a list"),
        ({"keywords": ["out of memory", 7]}, "keywords.1", "expected a string, found 7 (int)"),
        ({"confidence": "high"}, "confidence", "expected a number, found 'high' (str)"),
        ({"confidence": 2}, "confidence", "from 0.05 to 1"),
        ({"when": {"vram_gib": {"max": "8"}}}, "when.vram_gib.max", "expected a number or null"),
        (
            {"when": {"vram_gib": {"most": 8}}},
            "when.vram_gib.most",
            "extra key 'most' is not allowed; known keys: min, max",
        ),
        ({"when": {"cpu_avx": None}}, "when.cpu_avx", "expected true or false or an integer"),
        ({"source": ["ok", 1]}, "source.1", "expected a string, found 1"),
    ],
)
def test_each_kind_of_bad_value_is_named_at_its_path(change: dict, path: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_as(IssueEntry, {**ISSUE, **change}, "issues/x.yaml: entry 'x'")
    assert str(info.value).startswith(f"issues/x.yaml: entry 'x': {path}: "), info.value
    assert says in str(info.value)


def test_a_missing_field_is_named_and_defaults_apply() -> None:
    with pytest.raises(ValidationError, match="title: missing: IssueEntry needs `title`"):
        load_as(IssueEntry, {k: v for k, v in ISSUE.items() if k != "title"})
    entry = load_as(IssueEntry, ISSUE)
    assert (entry.confidence, entry.all_of, entry.variants) == (0.8, [], [])


def test_union_values_keep_their_type_and_ints_become_floats() -> None:
    when = {"cpu_avx": False, "vram_gib": 8, "gfx": ["gfx1030", 3.5], "cc": {"min": 7, "max": 8.6}}
    entry = load_as(IssueEntry, {**ISSUE, "when": when})
    assert entry.when == {"cpu_avx": False, "vram_gib": 8, "gfx": ["gfx1030", 3.5], "cc": Range(min=7.0, max=8.6)}
    assert type(entry.when["vram_gib"]) is int and type(entry.when["cc"].min) is float  # type: ignore[union-attr]


def test_own_json_files_skip_unknown_keys_and_the_kb_refuses_them() -> None:
    profile = load_as(Profile, {"cpu": {"cores": 4, "from_the_future": 1}, "new_key": []}, extra="ignore")
    assert profile.cpu == CpuInfo(cores=4)
    with pytest.raises(ValidationError, match="extra key 'colour'"):
        load_as(IssueEntry, {**ISSUE, "colour": "red"})


def test_dump_gives_fields_in_order_nested_and_round_trips() -> None:
    profile = Profile(gpus=[GpuInfo(vendor="amd", pcie=PcieLink(speed_gts=8.0, width=16))], warnings=["w"])
    data = dump(profile)
    assert list(data)[:3] == ["cpu", "memory", "gpus"]
    assert data["gpus"][0]["pcie"] == {
        "speed_gts": 8.0,
        "width": 16,
        "max_speed_gts": None,
        "max_width": None,
        "slot_max_speed_gts": None,
        "slot_max_width": None,
    }
    assert load_as(Profile, json.loads(json.dumps(data)), extra="ignore") == profile


def test_env_record_file_keeps_its_schema_key_and_reads_back(tmp_path: Path) -> None:
    record = EnvRecord(
        ui="forge",
        env_dir=str(tmp_path),
        ui_dir=str(tmp_path / "ui"),
        python=str(tmp_path / "bin" / "python"),
        protected=[ProtectedPackage(name="torch", version="2.13.0", files={"torch/a.py": "sha256=x"})],
        launch_env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
    )
    save_record(record)
    text = record_path(tmp_path).read_text(encoding="utf-8")
    assert text.startswith('{\n  "schema": "rigfit.env/1",\n  "ui": "forge",')
    assert load_record(tmp_path) == record
    record_path(tmp_path).write_text(text.replace('"complete": false', '"complete": "no"'))
    with pytest.raises(Exception, match=r"unreadable \(ValidationError\)"):
        load_record(tmp_path)


def test_run_state_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path))
    state = RunState(
        ui="forge",
        env_dir=str(tmp_path / "env"),
        pid=123,
        start_ticks=456,
        port=7860,
        urls=["http://127.0.0.1:7860"],
        command=["python", "launch.py"],
        cwd="/x",
        log="/x/log",
        started_at="now",
    )
    path = save_state(state)
    assert json.loads(path.read_text())["schema"] == "rigfit.run/1"
    assert load_state(path) == state
    path.write_text(path.read_text().replace('"pid": 123', '"pid": "123"'))
    assert load_state(path) is None  # a broken file is as good as none


def test_a_broken_kb_file_names_file_entry_field_found_and_expected(tmp_path: Path) -> None:
    from rigfit.kb.fixes import FixText
    from rigfit.kb.loader import KbError, load_entries

    bad = tmp_path / "fixes.yaml"
    bad.write_text(
        "entries:\n  - {id: a, source: s, finding: f, text: ok}\n  - {id: b, source: s, finding: 3, text: t}\n"
    )
    with pytest.raises(KbError) as info:
        load_entries(str(bad), FixText)
    assert str(info.value) == f"{bad}: entry 'b': finding: expected a string, found 3 (int)"
