"""Run rigfit's command line in this process, as click's CliRunner did: argv in, exit code and captured output out.

`CliRunner().invoke(app, ["doctor", "--json"], input="...", env={"COLUMNS": "200"})` returns a Result with exit_code,
stdout, stderr, output (both, in the order they were written) and exception (what ended the command with a non-zero
code: the SystemExit, or an uncaught exception, which gives exit code 1).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Result:
    exit_code: int
    stdout_bytes: bytes
    stderr_bytes: bytes
    output_bytes: bytes
    exception: BaseException | None

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")

    @property
    def output(self) -> str:
        return self.output_bytes.decode("utf-8", "replace")


class _Copying(io.BytesIO):
    """A stream's bytes, also copied into the combined output."""

    def __init__(self, combined: io.BytesIO) -> None:
        super().__init__()
        self.combined = combined

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        self.combined.write(data)
        return super().write(data)


def _text(stream: io.BytesIO) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8", write_through=True)


@contextmanager
def _environment(env: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class CliRunner:
    def invoke(
        self,
        app: Callable[[Sequence[str]], int],
        args: Sequence[str],
        input: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> Result:
        data = input.encode("utf-8") if isinstance(input, str) else input or b""
        combined = io.BytesIO()
        out, err = _Copying(combined), _Copying(combined)
        saved = sys.stdin, sys.stdout, sys.stderr
        streams = _text(io.BytesIO(data)), _text(out), _text(err)  # kept: a collected wrapper closes its bytes
        sys.stdin, sys.stdout, sys.stderr = streams
        exception: BaseException | None = None
        try:
            with _environment(env or {}):
                code = app(list(args))
            if code:
                exception = SystemExit(code)
        except Exception as exc:  # as click's runner: an uncaught exception is exit code 1, kept for the assertion
            code, exception = 1, exc
        finally:
            streams[1].flush()
            streams[2].flush()
            sys.stdin, sys.stdout, sys.stderr = saved
        return Result(code, out.getvalue(), err.getvalue(), combined.getvalue(), exception)
