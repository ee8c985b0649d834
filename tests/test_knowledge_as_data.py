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
LOOKED_UP_BY_CRITERIA = [
    "torch_wheels.yaml",
    "rocm.yaml",
    "gpus.yaml",
    "gpu_arch.yaml",
    "fixes.yaml",
    "qemu_cpus.yaml",
    "pins.yaml",
]


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


# ---- fix texts live in rigfit/kb/fixes.yaml -------------------------------------------------------------------------


def _constants(node: ast.expr | None) -> list[str | None] | None:
    """The values a `finding`/`case` argument can take: a literal, or a conditional between literals."""
    if node is None:
        return [None]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _constants(node.body), _constants(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def fix_text_calls() -> list[tuple[str, str | None, set[str], str]]:
    """(finding, case, fields given, where) for every fix_text(...) call in rigfit/."""
    calls = []
    for path in code_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "fix_text"):
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
            findings, cases = _constants(node.args[0]), _constants(keywords.pop("case", None))
            assert findings is not None and cases is not None, f"{where}: name the finding and case literally"
            calls += [(f, c, set(keywords), where) for f in findings for c in cases if f is not None]
    return calls


def test_every_fix_the_code_asks_for_exists_with_its_fields() -> None:
    from rigfit.kb.fixes import fix_texts, template_fields

    entries = {(e.finding, e.case): e for e in fix_texts()}
    calls = fix_text_calls()
    assert len(calls) >= 30
    for finding, case, fields, where in calls:
        entry = entries.get((finding, case))
        assert entry is not None, f"{where}: fixes.yaml has no fix for {finding} (case {case})"
        assert template_fields(entry.text) == fields, f"{where}: {entry.id} fills {template_fields(entry.text)}"
    unused = set(entries) - {(f, c) for f, c, _, _ in calls}
    assert unused == set(), f"fixes.yaml entries no code asks for: {unused}"


def test_probe_and_plan_write_no_fix_text_inline() -> None:
    """`fix="..."` in probe/ or plan/ is knowledge in code: put the text in rigfit/kb/fixes.yaml."""

    def literal(node: ast.expr) -> bool:
        if isinstance(node, ast.BinOp):
            return literal(node.left) or literal(node.right)
        return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))

    found = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for stage in ("probe", "plan")
        for path in sorted((RIGFIT / stage).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.keyword) and node.arg == "fix" and literal(node.value)
    ]
    assert found == []


def test_fix_text_fills_the_template_and_refuses_a_mismatch() -> None:
    from rigfit.kb.fixes import fix_text
    from rigfit.kb.loader import KbError

    assert fix_text("stale-override", name="HSA_OVERRIDE_GFX_VERSION").startswith("`unset HSA_OVERRIDE_GFX_VERSION`")
    assert "--device /dev/kfd" in fix_text("kfd-missing", case="container")
    with pytest.raises(KbError, match=r"fills \['name'\], the code gives \[\]"):
        fix_text("stale-override")
    with pytest.raises(KbError, match="no fix for no-such-finding"):
        fix_text("no-such-finding")


def test_bench_reads_model_flops_and_resolution_from_models_yaml() -> None:
    from rigfit.verify.benchmark import BenchReport, bench_model

    sd15, sdxl = bench_model("sd15"), bench_model("sdxl")
    assert (sd15.resolution, sd15.cfg_step_flops, sd15.vae_decode_flops) == (512, 1.61e12, 2.52e12)
    assert (sdxl.resolution, sdxl.cfg_step_flops) == (1024, 2 * 6.76e12)
    report = BenchReport(device="cpu", model="sd15", size=512, reduced=False)
    assert report.image_flops() == pytest.approx(34.72e12)  # "a 20-step 512x512 SD1.5 image is about 34.7 TFLOP"
    assert not BenchReport(device="cpu", model="sdxl", size=512, reduced=False).comparable()
    with pytest.raises(KeyError, match="no model sd9"):
        bench_model("sd9")


def test_emulated_cpus_name_the_openblas_core_that_fits_them() -> None:
    """verify --cpu retries numpy's OpenBLAS with OPENBLAS_CORETYPE from qemu_cpus.yaml, never from a table in code."""
    from rigfit.kb.host import qemu_cpus

    cores = {q.qemu: q.openblas_core for q in qemu_cpus()}
    assert cores["Westmere"] == "Nehalem" and cores["Conroe"] == "Core2" and cores["SandyBridge"] == "Sandybridge"
    assert cores["Haswell"] is None  # its own kernels fit: nothing to force
