"""Imports point down only: every `import` in rigfit/ (module level or inside a function, TYPE_CHECKING included) is
checked against the layer table below; the KB registry names only schemas in rigfit/kb/.

A new package or base module must be placed in LAYERS (or BASE) here: an unknown module fails with that message.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Top to bottom. A module may import its own layer and any layer below it, never one above.
LAYERS = ["cli", "recipes", "launch", "env", "verify", "explain", "plan", "probe", "kb", "base"]

# Base modules: no rigfit imports but other base modules.
BASE = {
    "rigfit",
    "rigfit.paths",
    "rigfit.terminal",
    "rigfit.cli_args",
    "rigfit.proc",
    "rigfit.records",
    "rigfit.lazy_re",
    "rigfit.markup",
}

# A stage's command modules are the CLI's entry points (named in rigfit/cli.py COMMANDS/GROUPS): they compose stages
# (doctor = probe + the plan's summary), so they sit in the cli layer, and no stage module may import them.
COMMAND_MODULES = {"command", "commands"}  # also "<topic>_commands" (rigfit/env/patch_commands.py)


def is_command_module(name: str) -> bool:
    return name in COMMAND_MODULES or name.endswith("_commands")


RIGFIT = REPO / "rigfit"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer of a rigfit module (dotted name)."""
    parts = module.split(".")
    if is_command_module(parts[-1]) or module == "rigfit.cli":
        return "cli"
    if any(module == base or module.startswith(base + ".") for base in BASE - {"rigfit"}) or module == "rigfit":
        return "base"
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS/BASE in tests/test_layers.py")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file, lazy ones included; `from a import b` yields a.b when a.b is a
    module, else a."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (REPO / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    REPO / Path(*candidate.split("."))
                ).is_dir()
                found.append((node.lineno, candidate if is_module else base))
    return found


def rigfit_modules() -> list[Path]:
    return sorted(p for p in RIGFIT.rglob("*.py") if "workers" not in p.relative_to(RIGFIT).parts)


def upward_imports(path: Path) -> list[str]:
    source = module_name(path)
    rank = LAYERS.index(layer_of(source))
    problems = []
    for line, target in imported_modules(path):
        if not (target == "rigfit" or target.startswith("rigfit.")):
            continue
        target_layer = layer_of(target)
        if LAYERS.index(target_layer) < rank:
            problems.append(
                f"{path.relative_to(REPO)}:{line}: {source} ({layer_of(source)}) imports {target} ({target_layer})"
            )
        elif target_layer == "cli" and layer_of(source) == "cli" and source != "rigfit.cli":
            problems.append(f"{path.relative_to(REPO)}:{line}: command module {source} imports command module {target}")
    return problems


def test_every_module_has_a_layer() -> None:
    for path in rigfit_modules():
        layer_of(module_name(path))


def test_imports_point_down_only() -> None:
    problems = [problem for path in rigfit_modules() for problem in upward_imports(path)]
    assert problems == [], "upward imports (move the code down, or pass data down):\n" + "\n".join(problems)


def test_workers_never_import_rigfit() -> None:
    """Worker scripts run under the target env's interpreter, where rigfit is not installed."""
    problems = [
        f"{path.relative_to(REPO)}:{line}: {target}"
        for path in sorted((RIGFIT / "workers").rglob("*.py"))
        for line, target in imported_modules(path)
        if target == "rigfit" or target.startswith("rigfit.")
    ]
    assert problems == []


def test_the_check_sees_lazy_and_upward_imports(tmp_path: Path) -> None:
    """The checker itself can fail: a lazy import of verify from a probe module is reported."""
    probe_module = RIGFIT / "probe" / "_layer_check_sample.py"
    probe_module.write_text("def f():\n    from rigfit.verify.envscan import TargetEnv\n    return TargetEnv\n")
    try:
        problems = upward_imports(probe_module)
    finally:
        probe_module.unlink()
    assert len(problems) == 1 and "rigfit.verify.envscan (verify)" in problems[0]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("rigfit.probe.command", "cli"),
        ("rigfit.proc.worker", "base"),
        ("rigfit.kb.measured", "kb"),
        ("rigfit.env.record", "env"),
        ("rigfit.plan.planner", "plan"),
    ],
)
def test_layer_table(module: str, layer: str) -> None:
    assert layer_of(module) == layer


def test_kb_registry_names_only_kb_schemas() -> None:
    from rigfit.kb.registry import SCHEMA_PACKAGE, SCHEMAS, schema_for

    outside = {pattern: target for pattern, target in SCHEMAS.items() if not target.startswith(SCHEMA_PACKAGE + ".")}
    assert outside == {}
    for relpath in ["gpus.yaml", "host.yaml", "bench_refs.yaml", "issues/rocm.yaml"]:
        model = schema_for(relpath)
        assert model is not None and model.__module__.startswith("rigfit.kb.")


def test_kb_registry_refuses_a_schema_outside_kb(monkeypatch: pytest.MonkeyPatch) -> None:
    from rigfit.kb import registry
    from rigfit.kb.loader import KbError

    monkeypatch.setitem(registry.SCHEMAS, "zz_sample.yaml", "rigfit.probe.profile:Finding")
    with pytest.raises(KbError, match=r"outside rigfit\.kb"):
        registry.schema_for("zz_sample.yaml")


def test_cli_names_only_command_modules() -> None:
    """rigfit/cli.py imports commands by name ("module:function"): each is a stage's command module."""
    from rigfit.cli import COMMANDS, GROUPS

    for name, target in {**COMMANDS, **GROUPS}.items():
        module = target.partition(":")[0]
        assert layer_of(module) == "cli" and is_command_module(module.split(".")[-1]), f"{name}: {target}"
