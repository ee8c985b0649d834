"""A1111's and ComfyUI's real requirement files (tests/fixtures/uis/, sources in tests/fixtures/SOURCES.md), resolved
under protection against the real Forge env (torch 2.14.1 + torchvision 0.29.1 protected) through
`rigfit add -r FILE --dry-run`, the same guarded step as the install's requirement step. GitHub is unreachable here,
so neither UI can be installed end to end; this is the part of their install that can be run for real.

Measured here: A1111's file resolves with torch untouched (19 packages to install, 19 replaced, e.g. gradio 4.40.0 ->
3.31.0). ComfyUI's unpinned `torchaudio`: rigfit asks first for the release made for the protected torch
(torchaudio==2.14.1); no index here has it, so the resolver's torchaudio 2.11.1 (requires `torch>=2.11`) is taken and
said so. Checked by hand: torchaudio 2.11.1 imports and runs its compiled ops beside torch 2.14.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rigfit.env.overrides import companion_pins, parse_line
from rigfit.env.protect import installed_versions, verify
from rigfit.env.record import ProtectedPackage, load_record
from rigfit.kb.installs import ui_installs
from tests.conftest import FIXTURES


def _dry_run(env: Path, requirements: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "rigfit.cli", "add", "--env", str(env), "-r", str(requirements), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("a1111-requirements_versions.txt", ["resolved:", "gradio"]),
        (
            "comfyui-requirements.txt",
            [
                "comfyui-requirements.txt:7 torchaudio: no index here has torchaudio==2.14.1 (the release made for the "
                "protected torch); torchaudio 2.11.1 is taken instead, whose requirements accept this torch",
                "resolved:",
            ],
        ),
    ],
    ids=["a1111", "comfyui"],
)
def test_ui_requirements_resolve_with_torch_untouched(forge_env: Path, name: str, words: list[str]) -> None:
    before = installed_versions(forge_env)
    code, out = _dry_run(forge_env, FIXTURES / "uis" / name)
    assert code == 0, out
    for word in words:
        assert word in out, out
    # exit 0 after the guard: the resolution replaces no protected package (else it refuses, naming the requirement)
    assert not any(f"{p} 2.14.1 ->" in out or f"{p} 0.29.1 ->" in out for p in ("torch", "torchvision"))
    assert installed_versions(forge_env) == before  # a dry run changes nothing
    assert verify(forge_env, load_record(forge_env).protected) == []


def _torch(version: str) -> list[ProtectedPackage]:
    return [ProtectedPackage(name="torch", version=version, files={})]


@pytest.mark.parametrize(
    ("line", "protected", "expected"),
    [
        ("torchaudio", _torch("2.14.1"), ["torchaudio==2.14.1"]),
        ("torchaudio", _torch("2.5.1+rocm6.2"), ["torchaudio==2.5.1"]),  # a local build: its public release
        ("torchaudio==2.11.1", _torch("2.14.1"), []),  # pinned by the file: the resolver decides (and may refuse)
        ("torchaudio", _torch("1.13.1"), []),  # before 2.1 torchaudio numbered itself 0.13.x: no rule
        ("torchaudio", [*_torch("2.14.1"), ProtectedPackage(name="torchaudio", version="2.14.1", files={})], []),
        ("torchsde", _torch("2.14.1"), []),
    ],
)
def test_companion_pin_is_the_release_made_for_the_protected_torch(
    line: str, protected: list[ProtectedPackage], expected: list[str]
) -> None:
    assert [pin for _, pin in companion_pins([parse_line(line, "requirements.txt:7")], protected)] == expected


def test_a1111_and_comfyui_are_pinned_with_the_repositories_a1111s_launcher_clones() -> None:
    specs = ui_installs()
    assert specs["comfyui"].ref == "002f2bedd6e4f6a0f7436ab7ce2fb8021483904c"
    a1111 = specs["a1111"]
    assert a1111.ref == "208760f348c715aaa93f6aaffe7dba967f612d2d"
    assert {r.dest: r.commit[:12] for r in a1111.repositories} == {
        "repositories/stable-diffusion-stability-ai": "cf1d67a6fd5e",
        "repositories/generative-models": "45c443b31673",
        "repositories/k-diffusion": "ab527a9a6d34",
        "repositories/CodeFormer": "c5b4593074ba",
        "repositories/BLIP": "48211a1594f1",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("comfyui-requirements.txt", ["torch==2.7.1", "torchvision==0.22.1", "torchaudio==2.7.1"]),
        ("a1111-requirements_versions.txt", ["torch==2.7.1", "torchvision==0.22.1"]),  # no torchaudio asked for
    ],
)
def test_the_plans_torchaudio_joins_the_torch_step_when_the_ui_asks_for_it(name: str, expected: list[str]) -> None:
    """With the plan's torch (its index), ComfyUI's torchaudio comes from the same index at the plan's version (the
    KB's torch-2.7-cu118 line: torch 2.7.1, torchvision 0.22.1, torchaudio 2.7.1), and is protected with torch."""
    from rigfit.env.install import PlanPart, with_torchaudio
    from rigfit.env.overrides import read_requirements
    from rigfit.kb.loader import load_entries
    from rigfit.kb.schemas import WheelLine

    line = next(e for e in load_entries("torch_wheels.yaml", WheelLine) if e.id == "torch-2.7-cu118")
    plan = PlanPart(
        [], {}, [], [f"torch=={line.torch}", f"torchvision=={line.torchvision}"], line.index_url, line.torchaudio
    )
    assert with_torchaudio(plan, read_requirements(FIXTURES / "uis" / name)) == expected
