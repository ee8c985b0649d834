"""`rigfit up` stopping at install: the reason and its fix come from the install, and the fix line does not send the
user back to the same failure (an offline clone once said only "rerun `rigfit up forge`")."""

from __future__ import annotations

from pathlib import Path

from tests.launch_helpers import rigfit


def test_a_bad_source_stops_up_with_the_sources_fix_first(tmp_path: Path, home: Path) -> None:
    env = tmp_path / "forge"
    done = rigfit("up", "forge", "--yes", "--env", str(env), "--source", str(tmp_path / "no-such-forge"))
    assert done.returncode == 1
    out = " ".join((done.stdout + done.stderr).split())
    assert f"✗ install {tmp_path / 'no-such-forge'} is neither a folder, a .tar.gz nor a git URL" in out
    assert "check the path given to --source" in out
    assert "fix: do what the line above says, then run the same `rigfit up forge` again: the install continues" in out
    assert (env / "rigfit-env.json").exists()  # marked incomplete, kept for the next run
