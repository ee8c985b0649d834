"""`rigfit install sdnext` on what can be had here: SD.Next's real requirements.txt (at the commit rigfit pins)
through the protected requirement step against the real Forge env's torch 2.14.1, its dry-run plan, the flags the
plan and install share, and a git source with submodules (SD.Next's wiki and built-in extensions) built in the test.
GitHub is not reachable, so SD.Next itself is not installed end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rigfit.env.guard import guarded_step
from rigfit.env.installer import Step, choose_installer
from rigfit.env.overrides import apply_overrides, parse_line, read_requirements
from rigfit.env.protect import installed_versions, verify
from rigfit.env.record import load_record
from rigfit.env.ui_source import SourceError, fetch
from rigfit.kb.installs import ui_installs

REQUIREMENTS = Path(__file__).parent / "fixtures" / "packages" / "sdnext-0697fb2" / "requirements.txt"


def rigfit(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIGFIT_HOME": str(home)} if home else None
    return subprocess.run(
        [sys.executable, "-m", "rigfit.cli", *args], capture_output=True, text=True, timeout=1800, check=False, env=env
    )


def words(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.slow
def test_sdnext_requirements_as_written_are_refused_naming_the_setuptools_pin(forge_env: Path) -> None:
    before = installed_versions(forge_env)
    proc = rigfit("add", "--env", str(forge_env), "--dry-run", "-r", str(REQUIREMENTS))
    assert proc.returncode == 1, words(proc)
    assert "requirements.txt:2 setuptools==69.5.1 conflicts with torch 2.14.1 (needs setuptools>=77.0.3)" in words(proc)
    assert installed_versions(forge_env) == before
    assert verify(forge_env, load_record(forge_env).protected) == []


@pytest.mark.slow
def test_sdnext_requirements_with_rigfits_override_resolve_beside_the_protected_torch(
    forge_env: Path, tmp_path: Path
) -> None:
    """What install's step 4 resolves: the file with the entry's override applied, held to torch 2.14.1's wheel."""
    texts, overridden = apply_overrides(read_requirements(REQUIREMENTS), list(ui_installs()["sdnext"].overrides))
    assert [(p.requirement, p.installed) for p in overridden] == [("setuptools==69.5.1", "setuptools>=77.0.3,<82")]
    # with what SD.Next's installer adds from the package index (diffusers and CLIP come from GitHub: unreachable here)
    added = [a.requirement for a in ui_installs()["sdnext"].additions if not a.no_deps and "git+" not in a.requirement]
    assert "transformers==4.56.0" in added and "fastapi" in added
    derived = tmp_path / "rigfit-requirements.txt"
    derived.write_text("".join(f"{t}\n" for t in [*texts, *added]))
    before = installed_versions(forge_env)
    proc = rigfit("add", "--env", str(forge_env), "--dry-run", "-r", str(derived))
    assert proc.returncode == 0, words(proc)
    assert "resolved:" in words(proc) and "dry run: nothing changed" in words(proc)
    assert installed_versions(forge_env) == before  # a dry run: torch 2.14.1 and everything else as they were
    assert verify(forge_env, load_record(forge_env).protected) == []


@pytest.mark.slow
def test_the_launchers_no_deps_packages_resolve_in_their_own_guarded_step(forge_env: Path) -> None:
    """gradio==3.43.2 pins numpy~=1.0 (SD.Next pins numpy==2.1.2): installed without dependencies, like its launcher."""
    record = load_record(forge_env)
    bare = [parse_line(a.requirement, "ui_installs.yaml") for a in ui_installs()["sdnext"].additions if a.no_deps]
    step = Step(requirements=[b.text for b in bare], no_deps=True)
    guarded = guarded_step(record, choose_installer(record.python, None), step, bare, lambda _: None, dry_run=True)
    assert guarded.outcome.ok
    planned = {c.name: c.new for c in guarded.outcome.changes}
    assert planned.get("gradio") == "3.43.2" and "numpy" not in planned and "torch" not in planned


def test_install_dry_run_prints_the_steps_and_the_plans_flags(tmp_path: Path) -> None:
    env = tmp_path / "sdnext"
    proc = rigfit("install", "sdnext", "--env", str(env), "--dry-run", home=tmp_path / "home")
    out = words(proc)
    assert proc.returncode == 0, out
    assert "https://github.com/vladmandic/sdnext at 0697fb2287c86647a2b7a62d64848758840d1c10" in out
    assert "override setuptools==69.5.1 -> setuptools>=77.0.3,<82" in out
    assert "add gradio==3.43.2 (without its dependencies)" in out
    assert "add transformers==4.56.0" in out
    flags = out.split("launch flags: ", 1)[1].split()
    assert flags[:2] == ["--skip-all", "--skip-torch"]  # SD.Next's "install nothing" switch leads
    assert not env.exists()
    # `rigfit plan --ui sdnext` gives the same flags, the switch read from the same uis.yaml fact
    plan = json.loads(rigfit("plan", "--ui", "sdnext", "--json", home=tmp_path / "home").stdout)
    assert {"--skip-all", "--skip-torch"} <= set(plan["plan"]["ui_flags"])
    assert set(plan["plan"]["ui_flags"]) == set(flags)


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


@pytest.fixture
def ui_with_submodule(tmp_path: Path) -> tuple[Path, Path, str]:
    """A UI repository with one submodule (like SD.Next's extensions-builtin/sdnext-modernui): the UI records the
    submodule's first commit; the submodule has a newer one the UI does not use."""
    ext = tmp_path / "src" / "sdnext-modernui"
    ext.mkdir(parents=True)
    _git("init", "-q", "-b", "main", cwd=ext)
    (ext / "ui.js").write_text("first\n")
    _git("add", ".", cwd=ext)
    _git("commit", "-q", "-m", "one", cwd=ext)
    recorded = _git("rev-parse", "HEAD", cwd=ext)
    ui = tmp_path / "src" / "sdnext"
    ui.mkdir()
    _git("init", "-q", "-b", "main", cwd=ui)
    (ui / "launch.py").write_text("print('ok')\n")
    _git("submodule", "add", "-q", str(ext), "extensions-builtin/sdnext-modernui", cwd=ui)
    _git("add", "launch.py", cwd=ui)
    _git("commit", "-q", "-m", "ui", cwd=ui)
    (ext / "ui.js").write_text("second\n")
    _git("commit", "-q", "-am", "two", cwd=ext)
    return ui, ext, recorded


def test_a_git_source_comes_with_its_submodules_at_the_recorded_commits(
    ui_with_submodule: tuple[Path, Path, str], tmp_path: Path
) -> None:
    ui, _, recorded = ui_with_submodule
    dest = tmp_path / "env" / "ui"
    said: list[str] = []
    fetch(str(ui), dest, None, said.append)
    module = dest / "extensions-builtin" / "sdnext-modernui"
    assert (dest / "launch.py").is_file() and (module / "ui.js").read_text() == "first\n"
    assert _git("rev-parse", "HEAD", cwd=module) == recorded
    assert any("git submodule update (1: sdnext-modernui)" in s for s in said)


def test_a_mirror_stands_in_for_a_submodules_github_url(
    ui_with_submodule: tuple[Path, Path, str], tmp_path: Path
) -> None:
    ui, ext, recorded = ui_with_submodule
    url = "https://github.com/BinaryQuantumSoul/sdnext-modernui"
    _git("config", "-f", ".gitmodules", "submodule.extensions-builtin/sdnext-modernui.url", url, cwd=ui)
    _git("commit", "-q", "-am", "upstream url", cwd=ui)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with pytest.raises(SourceError, match=f"git clone --mirror {url} {mirror}/sdnext-modernui.git"):
        fetch(str(ui), tmp_path / "a" / "ui", None, lambda _: None, mirror)
    assert not (tmp_path / "a" / "ui").exists()  # nothing half-written
    _git("clone", "-q", "--mirror", str(ext), str(mirror / "sdnext-modernui.git"), cwd=tmp_path)
    dest = tmp_path / "b" / "ui"
    fetch(str(ui), dest, None, lambda _: None, mirror)
    module = dest / "extensions-builtin" / "sdnext-modernui"
    assert _git("rev-parse", "HEAD", cwd=module) == recorded


def test_a_git_archive_of_it_is_installed_with_a_note_naming_the_empty_submodules(
    ui_with_submodule: tuple[Path, Path, str], tmp_path: Path
) -> None:
    ui, _, _ = ui_with_submodule
    archive = tmp_path / "sdnext.tar.gz"
    _git("archive", "--format=tar.gz", "-o", str(archive), "HEAD", cwd=ui)
    said: list[str] = []
    fetch(str(archive), tmp_path / "env" / "ui", None, said.append)
    assert (tmp_path / "env" / "ui" / "launch.py").is_file()
    assert any("no files in its submodules extensions-builtin/sdnext-modernui" in s for s in said), said
