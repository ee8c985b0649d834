"""Knowledge is data: code looks KB entries up by criteria (kind, backend, version...), never by a hard-coded id, and
picks probe commands by name, never by position."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from rigfit.kb.loader import KB_DIR
from rigfit.plan.knowledge import newest_first, newest_wheel, source_build, wheel_lines
from tests.conftest import REPO

RIGFIT = REPO / "rigfit"
# KB files whose entries code must find by criteria (ids of these never appear in code outside rigfit/kb/).
LOOKED_UP_BY_CRITERIA = ["torch_wheels.yaml", "rocm.yaml", "gpus.yaml", "gpu_arch.yaml"]


def kb_ids(relpath: str) -> set[str]:
    data = yaml.safe_load((KB_DIR / relpath).read_text(encoding="utf-8"))
    return {entry["id"] for entry in data["entries"]}


def code_files() -> list[Path]:
    return sorted(p for p in RIGFIT.rglob("*.py") if not {"kb", "workers"} & set(p.relative_to(RIGFIT).parts))


def string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.parametrize("relpath", LOOKED_UP_BY_CRITERIA)
def test_no_kb_id_is_written_into_code(relpath: str) -> None:
    ids = kb_ids(relpath)
    assert ids
    found = [
        f"{path.relative_to(REPO)}:{line}: {value!r}"
        for path in code_files()
        for line, value in string_literals(path)
        if value in ids
    ]
    assert found == [], f"ids of {relpath} in code: look the entry up by what it is instead\n" + "\n".join(found)


def test_the_id_check_sees_a_hard_coded_wheel_id(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('line = wheel("torch-2.13-cpu")\n')
    assert (1, "torch-2.13-cpu") in string_literals(sample) and "torch-2.13-cpu" in kb_ids("torch_wheels.yaml")


def test_probe_commands_are_picked_by_name() -> None:
    """`source.run(COMMANDS[5])` hides which tool runs: name the CommandSpec."""
    found = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in code_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "COMMANDS"
    ]
    assert found == []


def test_wheel_lines_found_by_criteria() -> None:
    cpu = newest_wheel("cpu")
    assert cpu.kind == "cpu" and cpu.index_url and cpu.index_url.endswith("/cpu")
    rocm = newest_wheel("rocm", needs_avx=True)
    assert rocm.kind == "rocm" and rocm.needs_avx
    assert rocm is newest_first([w for w in wheel_lines() if w.kind == "rocm"])[0]
    source = source_build("rocm")
    assert source.kind == "source" and source.backend == "rocm"
    with pytest.raises(KeyError, match="no source-build line for cuda"):
        source_build("cuda")
    with pytest.raises(KeyError, match="no rocm line"):
        newest_wheel("rocm", needs_avx=False)
