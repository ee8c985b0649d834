"""Run a worker script under a target environment's interpreter and read its JSON answer.

rigfit never imports torch itself. Work that needs torch (or numpy, diffusers...) runs as a small script under the
target env's Python, in its own process group, with a timeout. The script prints one line
`RIGFIT-RESULT <json>` on stdout. How the process ended is itself a finding: a SIGILL means the build uses
instructions this CPU lacks, a segfault often an ABI mismatch, a timeout a hang (driver, kernel compile...).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from rigfit.proc.bounded import run_bounded
from rigfit.records import field, record

RESULT_MARKER = "RIGFIT-RESULT "
WORKERS_DIR = Path(__file__).resolve().parent.parent / "workers"

Status = Literal["ok", "sigill", "segfault", "killed", "timeout", "error", "no_result", "not_found"]

_SIGNAL_STATUS: dict[int, Status] = {
    signal.SIGILL: "sigill",
    signal.SIGSEGV: "segfault",
    signal.SIGBUS: "segfault",
    signal.SIGKILL: "killed",
    signal.SIGABRT: "error",
}


@record
class WorkerResult:
    status: Status
    data: dict[str, Any] | None = None
    returncode: int | None = None
    signal: int | None = None
    output_tail: str = ""  # last lines of stdout+stderr, for explain and for the user
    seconds: float = 0.0
    argv: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.data is not None

    def describe(self) -> str:
        """One line a person understands."""
        return {
            "ok": "finished",
            "sigill": "died of SIGILL (Illegal instruction): the code uses CPU instructions this processor lacks",
            "segfault": "crashed (segmentation fault): often a binary built against another version of a library",
            "killed": "was killed (SIGKILL): usually the kernel's out-of-memory killer",
            "timeout": f"did not finish within its time limit ({self.seconds:.0f} s): a hang or far too slow",
            "error": "failed with an error (see its output)",
            "no_result": "exited without reporting a result",
            "not_found": "could not start: interpreter not found",
        }[self.status]


def signal_of(returncode: int | None) -> int | None:
    """The signal that ended a process: -N from Python's subprocess, or 128+N when a shell or qemu reported it."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if 128 < returncode <= 128 + 64:
        return returncode - 128
    return None


def classify(returncode: int | None, data: dict[str, Any] | None) -> Status:
    sig = signal_of(returncode)
    if sig is not None:
        return _SIGNAL_STATUS.get(sig, "error")
    if returncode == 0:
        return "ok" if data is not None else "no_result"
    return "error"


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The last `RIGFIT-RESULT {...}` line, if any."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                value = json.loads(line[len(RESULT_MARKER) :])
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def run_worker(
    python: str | os.PathLike[str],
    script: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    prefix: Sequence[str] = (),
    on_line: Callable[[str], None] | None = None,
) -> WorkerResult:
    """Run `python script args...` (optionally under `prefix`, e.g. qemu-x86_64 -cpu Westmere) and classify the end.

    `env` is added to a copy of rigfit's environment. The worker runs in its own session; when it ends or times out,
    its whole process group (ours alone) is killed, so nothing it started outlives it. `on_line` sees each stdout
    line as it arrives (progress of long runs).
    """
    argv = [*prefix, str(python), str(script), *args]
    if not Path(python).exists():
        return WorkerResult("not_found", argv=argv, output_tail=f"{python} does not exist")
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    try:
        # the last bytes of each stream are kept: the result line comes last
        run = run_bounded(argv, timeout=timeout, env=full_env, keep="tail", on_line=on_line)
    except OSError as exc:
        return WorkerResult("not_found", argv=argv, output_tail=str(exc))
    stdout, stderr = _text(run.stdout), _text(run.stderr)
    if run.timed_out:
        return WorkerResult(
            "timeout", returncode=None, output_tail=_tail(stdout + stderr), seconds=run.seconds, argv=argv
        )
    data = parse_result(stdout)
    status = classify(run.returncode, data)
    visible = "\n".join(line for line in stdout.splitlines() if not line.startswith(RESULT_MARKER))
    return WorkerResult(
        status,
        data=data,
        returncode=run.returncode,
        signal=signal_of(run.returncode),
        output_tail=_tail(visible + "\n" + stderr),
        seconds=run.seconds,
        argv=argv,
    )


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
