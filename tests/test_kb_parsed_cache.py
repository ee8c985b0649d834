"""The KB's parse cache: a hit gives the data parsed before; new text, a corrupt or a stale cache parse again."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import yaml

from rigfit.kb.loader import KB_DIR, KbError, _cache_file, _read_yaml
from rigfit.kb.parsed_cache import parsed


class CountingParser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> object:
        self.calls += 1
        return yaml.safe_load(text)


def test_second_read_of_same_text_comes_from_cache(tmp_path: Path) -> None:
    cache, parse = tmp_path / "kb" / "x.json", CountingParser()
    assert parsed("entries: [{id: a}]", cache, parse) == {"entries": [{"id": "a"}]}
    assert parsed("entries: [{id: a}]", cache, parse) == {"entries": [{"id": "a"}]}
    assert parse.calls == 1


def test_changed_text_is_parsed_again(tmp_path: Path) -> None:
    cache, parse = tmp_path / "x.json", CountingParser()
    parsed("entries: [{id: a}]", cache, parse)
    assert parsed("entries: [{id: b}]", cache, parse) == {"entries": [{"id": "b"}]}
    assert parse.calls == 2
    assert parsed("entries: [{id: b}]", cache, parse) == {"entries": [{"id": "b"}]}
    assert parse.calls == 2


@pytest.mark.parametrize("content", ["{not json", '{"format": 2, "key": "0", "data": 1}', "[1, 2]", ""])
def test_corrupt_or_stale_cache_falls_back_to_parsing(tmp_path: Path, content: str) -> None:
    cache, parse = tmp_path / "x.json", CountingParser()
    cache.write_text(content)
    assert parsed("a: 1", cache, parse) == {"a": 1}
    assert parse.calls == 1
    assert json.loads(cache.read_text())["data"] == {"a": 1}  # and the cache is rewritten


def test_data_json_cannot_give_back_is_never_cached(tmp_path: Path) -> None:
    cache, parse = tmp_path / "x.json", CountingParser()
    assert parsed("day: 2024-01-02\n1: one", cache, parse) == {"day": datetime.date(2024, 1, 2), 1: "one"}
    assert parsed("1: one", cache, parse) == {1: "one"}  # int keys would come back as strings
    assert not cache.exists()


def test_unwritable_cache_dir_still_parses(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert parsed("a: 1", tmp_path / "file" / "x.json", CountingParser()) == {"a": 1}


def test_kb_files_are_cached_under_rigfit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path))
    assert _cache_file(KB_DIR / "issues" / "amd.yaml") == tmp_path / "cache" / "kb" / "issues" / "amd.json"
    assert _cache_file(tmp_path / "elsewhere.yaml") is None


def test_yaml_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries: [unclosed")
    with pytest.raises(KbError, match=r"bad\.yaml: cannot be read as YAML"):
        _read_yaml(bad)
