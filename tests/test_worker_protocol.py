"""rigfit/proc/worker.py: how a worker's end is classified, its result parsed, its progress streamed, and a hung
worker's process group (and only it) killed. Plain-Python workers: no torch needed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rigfit.proc.worker import classify, parse_result, run_worker, signal_of

PY = sys.executable


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(body)
    return path


def test_result_line_is_parsed_and_hidden_from_the_output(tmp_path: Path) -> None:
    worker = script(tmp_path, 'print("hello")\nprint(\'RIGFIT-RESULT {"ok": true, "n": 3}\')\n')
    result = run_worker(PY, worker)
    assert result.status == "ok" and result.data == {"ok": True, "n": 3}
    assert "hello" in result.output_tail and "RIGFIT-RESULT" not in result.output_tail


def test_sigill_is_named(tmp_path: Path) -> None:
    worker = script(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGILL)\n")
    result = run_worker(PY, worker)
    assert result.status == "sigill" and result.signal == signal.SIGILL
    assert "Illegal instruction" in result.describe()


def test_segfault_and_plain_errors(tmp_path: Path) -> None:
    crash = run_worker(PY, script(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"))
    assert crash.status == "segfault"
    failed = run_worker(PY, script(tmp_path, "raise SystemExit(3)\n"))
    assert failed.status == "error" and failed.returncode == 3
    silent = run_worker(PY, script(tmp_path, "print('nothing to say')\n"))
    assert silent.status == "no_result"


def test_missing_interpreter_is_not_found(tmp_path: Path) -> None:
    assert run_worker(tmp_path / "no-python", tmp_path / "w.py").status == "not_found"


def test_progress_lines_stream_before_the_end(tmp_path: Path) -> None:
    worker = script(
        tmp_path,
        "import time\nfor i in range(3):\n    print(f'RIGFIT-PROGRESS {{\"step\": {i}}}', flush=True)\n"
        "    time.sleep(0.2)\nprint('RIGFIT-RESULT {}')\n",
    )
    seen: list[tuple[float, str]] = []
    start = time.monotonic()
    result = run_worker(PY, worker, on_line=lambda line: seen.append((time.monotonic() - start, line)))
    assert result.status == "no_result" or result.data == {}
    progress = [t for t, line in seen if line.startswith("RIGFIT-PROGRESS")]
    assert len(progress) == 3
    assert progress[0] < result.seconds - 0.3  # the first line arrived while the worker was still running


def test_a_broken_progress_callback_does_not_lose_the_result(tmp_path: Path) -> None:
    worker = script(tmp_path, "print('RIGFIT-PROGRESS {}')\nprint('RIGFIT-RESULT {\"x\": 1}')\n")

    def broken(line: str) -> None:
        raise ValueError(line)

    assert run_worker(PY, worker, on_line=broken).data == {"x": 1}


def test_timeout_kills_the_whole_worker_group_and_nothing_else(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    worker = script(
        tmp_path,
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\ntime.sleep(60)\n",
    )
    bystander = subprocess.Popen([PY, "-c", "import time; time.sleep(30)"])
    try:
        result = run_worker(PY, worker, timeout=2)
        assert result.status == "timeout" and "started" in result.output_tail
        child = int(pidfile.read_text())
        time.sleep(0.2)
        assert not _alive(child), "the worker's own child survived the timeout"
        assert bystander.poll() is None, "a process outside the worker's group was killed"
    finally:
        bystander.kill()
        bystander.wait()


def test_children_outliving_the_worker_are_killed_without_waiting_on_their_pipes(tmp_path: Path) -> None:
    """A worker that exits while its child (same group, holding stdout) sleeps on, and a grandchild that left the
    group (setsid) and holds stderr: the result comes at once, the child is killed, nothing waits 10 s on pipes."""
    pidfile = tmp_path / "child.pid"
    worker = script(
        tmp_path,
        "import subprocess, sys, os\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "stray = subprocess.Popen(['sleep', '4'], start_new_session=True, stdout=sys.stderr)\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "print('RIGFIT-RESULT {\"done\": true}', flush=True)\n",
    )
    result = run_worker(PY, worker, timeout=30)
    assert result.status == "ok" and result.data == {"done": True}
    assert result.seconds < 3, result.seconds  # the old reader joins waited up to 2 x 5 s
    time.sleep(0.2)
    assert not _alive(int(pidfile.read_text())), "the worker's child survived the worker"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_signal_of_reads_negative_codes_and_shell_style_codes() -> None:
    assert signal_of(-4) == 4 and signal_of(132) == 4 and signal_of(139) == 11
    assert signal_of(0) is None and signal_of(1) is None and signal_of(None) is None
    assert classify(-4, None) == "sigill" and classify(132, None) == "sigill" and classify(0, {"a": 1}) == "ok"


@given(st.text())
def test_parse_result_never_raises(text: str) -> None:
    value = parse_result(text)
    assert value is None or isinstance(value, dict)


@given(st.dictionaries(st.text(max_size=8), st.integers()), st.text(alphabet=st.characters(exclude_characters="\n\r")))
def test_parse_result_takes_the_last_marker_line(data: dict, noise: str) -> None:
    import json

    text = f'{noise}\nRIGFIT-RESULT {{"first": 1}}\n{noise}\nRIGFIT-RESULT {json.dumps(data)}\n'
    assert parse_result(text) == data
