"""What every worker prints: progress lines while it runs, one result line at the end (stdlib only).

Imported by the worker scripts beside it (a script's own folder is first on sys.path); never imports rigfit.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

RESULT_MARKER = "RIGFIT-RESULT "
PROGRESS_MARKER = "RIGFIT-PROGRESS "


def emit(data: dict) -> None:
    """The worker's answer: the last RIGFIT-RESULT line on stdout is what rigfit reads."""
    sys.stdout.write(RESULT_MARKER + json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def progress(**fields: object) -> None:
    sys.stdout.write(PROGRESS_MARKER + json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()


def error_text(exc: BaseException, limit: int = 2000) -> str:
    return f"{type(exc).__name__}: {exc}"[:limit]


@contextmanager
def reported(result: dict) -> Iterator[dict]:
    """The worker's body: whatever it raises becomes result["error"], and the result line, with the body's wall
    seconds, is emitted either way."""
    start = time.perf_counter()
    try:
        yield result
    except Exception as exc:
        result["error"] = error_text(exc)
    result["seconds"] = round(time.perf_counter() - start, 3)
    emit(result)
