"""`rigfit install --locked LOCK` rebuilds the env the lock describes, and refuses clearly whatever would build
another one: a missing lock, a lock of another UI, a --ref, a UI source, a torch wheel or a torch source other than
the lock's. The case is small but whole (tests/small_ui.py): a real venv, uv, the torch 2.13.0 CPU wheel."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rigfit.env.lock import lock_path
from rigfit.env.protect import installed_versions, verify
from rigfit.env.record import load_record
from tests.small_ui import TORCH_WHEEL, install_argv, make_source, run_rigfit, words

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TORCH_WHEEL is None, reason="no torch 2.13.0 wheel in /opt/wheels"),
]
OLDER_JOBLIB = "1.5.3"  # on the index beside the newest (1.6.0): a lock from before 1.6.0 must get 1.5.3 again
OTHER_TORCH = Path("/opt/pypi-more/files/torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl")


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, Path]:
    """A completed install: (its env, its UI tarball, the tarball's commit, RIGFIT_HOME)."""
    where = tmp_path_factory.mktemp("locked")
    source, commit = make_source(where)
    proc = run_rigfit(install_argv(source, where / "a"), where / "home")
    assert proc.returncode == 0, words(proc)
    return where / "a", source, commit, where / "home"


def _old_lock(first: tuple[Path, Path, str, Path], tmp_path: Path, **changes: object) -> Path:
    """The first env's lock as it would have been written earlier (joblib at an older release), plus `changes`."""
    data = json.loads(lock_path(first[0]).read_text())
    data["packages"] = [f"joblib=={OLDER_JOBLIB}" if p.startswith("joblib==") else p for p in data["packages"]]
    data.update(changes)
    path = tmp_path / "rigfit-lock.json"
    path.write_text(json.dumps(data))
    return path


def locked_argv(source: Path, env_dir: Path, lock: Path) -> list[str]:
    """The command a user types: the lock gives the torch wheels (and the UI commit), only the source is named."""
    argv = install_argv(source, env_dir, "--locked", str(lock))
    at = argv.index("--torch-wheel")
    return argv[:at] + argv[at + 2 :]


def test_locked_rebuilds_the_same_env_at_the_locked_versions(first, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env_a, source, commit, home = first
    lock = _old_lock(first, tmp_path)
    env_b = tmp_path / "b"
    start = time.monotonic()
    proc = run_rigfit(locked_argv(source, env_b, lock), home)
    print(f"--locked rebuild: {time.monotonic() - start:.1f} s wall")
    assert proc.returncode == 0, words(proc)
    assert f"locked: comfyui at {commit}, 1 wheels checked by sha256" in words(proc)
    versions_a, versions_b = installed_versions(env_a), installed_versions(env_b)
    assert versions_b["joblib"] == OLDER_JOBLIB != versions_a["joblib"]  # the lock's version, not the newest
    assert {**versions_a, "joblib": OLDER_JOBLIB} == versions_b  # every other package exactly as in the first env
    record_a, record_b = load_record(env_a), load_record(env_b)
    assert record_b.complete and record_b.ui_ref == record_a.ui_ref == commit
    assert record_b.torch_source == record_a.torch_source
    assert [(p.name, p.version, p.wheel) for p in record_b.protected] == [
        (p.name, p.version, p.wheel) for p in record_a.protected
    ]
    # the same file hashes, scripts aside (their #! line names each env's own python)
    library = [{k: v for k, v in p.files.items() if not k.startswith("../")} for p in record_b.protected]
    assert library == [{k: v for k, v in p.files.items() if not k.startswith("../")} for p in record_a.protected]
    assert len(library[0]) > 10000
    assert verify(env_b, record_b.protected) == []


def test_a_missing_lock_is_one_clear_error(first, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, source, _, home = first
    proc = run_rigfit(locked_argv(source, tmp_path / "b", tmp_path / "nope.json"), home)
    assert proc.returncode == 1
    assert f"no lock file at {tmp_path / 'nope.json'}" in words(proc) and "Traceback" not in words(proc)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("extra", "changes", "expected"),
    [
        (["--ref", "0123abcd"], {}, "--ref 0123abcd is not the commit"),
        ([], {"ui": "forge"}, "locks forge, not comfyui"),
        (["--torch-wheel", str(OTHER_TORCH)], {}, "the --torch-wheel files are not the torch"),
        (
            [],
            {"protected": [{"name": "torch", "version": "2.13.0+cpu", "wheel": "/nowhere/torch.whl", "sha256": "0"}]},
            "/nowhere/torch.whl is missing or not the wheel the lock recorded",
        ),
    ],
    ids=["other-ref", "other-ui", "other-torch-wheel", "locked-wheel-gone"],
)
def test_locked_refuses_what_would_build_another_env_before_writing(first, tmp_path: Path, extra, changes, expected):  # type: ignore[no-untyped-def]
    _, source, _, home = first
    lock = _old_lock(first, tmp_path, **changes)
    proc = run_rigfit([*locked_argv(source, tmp_path / "b", lock), *extra], home)
    assert proc.returncode == 1, words(proc)
    assert expected in words(proc) and "Traceback" not in words(proc)
    assert not (tmp_path / "b").exists()  # refused before the env was made
    assert "marked incomplete" not in words(proc)


def test_locked_refuses_a_source_at_another_commit(first, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, commit, home = first
    other, other_commit = make_source(tmp_path, "joblib\nsix\n")
    proc = run_rigfit(locked_argv(other, tmp_path / "b", _old_lock(first, tmp_path)), home)
    assert proc.returncode == 1, words(proc)
    assert f"the UI source is at {other_commit}, not the commit the lock holds ({commit})" in words(proc)
    assert not (tmp_path / "b" / "ui").exists()
    assert "torch" not in installed_versions(tmp_path / "b")  # stopped before the torch step


def test_locked_refuses_another_torch_source(first, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A lock whose torch the first install adopted from its env: a fresh env would take the plan's torch instead."""
    _, source, _, home = first
    lock = _old_lock(
        first,
        tmp_path,
        torch_source="adopted",
        protected=[{"name": "torch", "version": "2.13.0+cpu", "wheel": None, "sha256": None}],
    )
    proc = run_rigfit(locked_argv(source, tmp_path / "b", lock), home)
    assert proc.returncode == 1, words(proc)
    assert "the lock's torch came from adopted, this install's from index" in words(proc)
    assert "torch" not in installed_versions(tmp_path / "b")
