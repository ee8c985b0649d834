"""A call run in a thread, its result collected later: what doctor needs of concurrent.futures, without importing it
(with the logging it pulls in: a twentieth of doctor's start-up).

The threads are not daemons: at exit the interpreter waits for them, so a call still running a bounded subprocess ends
it (its own timeout kills its process group) instead of leaving it behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """`function(*args)` started in a thread now; `result()` waits for it and returns or raises what it did."""

    def __init__(self, name: str, function: Callable[..., T], *args: object) -> None:
        self._function, self._args = function, args
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._function(*self._args)
        except BaseException as exc:  # handed to whoever asks for the result, as a future does
            self._error = exc

    def done_within(self, seconds: float) -> bool:
        self._thread.join(max(seconds, 0.0))
        return not self._thread.is_alive()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set by _run when no error was raised


def wait_all(calls: list[Background[T]], deadline_s: float) -> list[bool]:
    """Whether each call ended within `deadline_s` seconds from now (all share the one deadline)."""
    end = time.monotonic() + deadline_s
    return [call.done_within(end - time.monotonic()) for call in calls]
