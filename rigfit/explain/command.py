"""`rigfit explain`: from a crash log or traceback to its known cause and the exact fix."""

from __future__ import annotations

import sys
from typing import Annotated, BinaryIO, Optional

from rigfit.cli_args import Argument, Exit, Option
from rigfit.paths import NotRegularFile, open_regular
from rigfit.probe.profile import Profile
from rigfit.terminal import console, err, print_json, usage_error


def explain(
    log: Annotated[str, Argument(metavar="FILE|-")] = "-",
    from_: Annotated[
        Optional[str],  # noqa: UP045
        Option("--from", help="Use a capture's machine profile.", metavar="CAPTURE"),
    ] = None,
    as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False,
    no_probe: Annotated[
        bool, Option("--no-probe", help="Explain from the log alone; do not look at this machine.")
    ] = False,
) -> None:
    """Recognise a crash log or traceback (FILE, or - for standard input): what happened, the cause, the exact fix,
    the source.

    Exit 0 when a known issue matched, 1 when none did, 2 when the log or the capture cannot be read.
    """
    from rigfit.explain.match import explain_stream
    from rigfit.explain.render import explain_json, render_explain

    profile = None if no_probe else _profile(from_)
    log_name = "standard input" if log == "-" else log
    if log == "-" and sys.stdin.isatty():
        err.print(
            "Paste the log, then press Ctrl-D on an empty line "
            "(or: `rigfit explain FILE`, `CMD 2>&1 | rigfit explain`)."
        )
    try:
        with _open_log(log) as stream:
            result = explain_stream(stream, profile)
    except OSError as exc:
        raise usage_error(f"cannot read the log '{log}': {exc.strerror or exc}") from exc
    if as_json:
        print_json(explain_json(result, log_name))
    else:
        render_explain(result, log_name, console, profile.source if profile else None)
    raise Exit(0 if result.explanations else 1)


def _open_log(log: str) -> BinaryIO:
    if log == "-":
        return sys.stdin.buffer
    try:
        return open_regular(log)  # /dev/zero or a FIFO would never end or never start
    except NotRegularFile as exc:
        raise NotRegularFile(
            exc.errno,
            "it is not a regular file (a device, FIFO or socket); pass a log file, or pipe the output in: "
            "`CMD 2>&1 | rigfit explain -`",
        ) from exc


def _profile(capture: str | None) -> Profile | None:
    """The machine the log is explained for: a capture given with --from, else this machine."""
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import CaptureError, open_source

    try:
        return probe_machine(open_source(capture), torch_check=False)
    except CaptureError as exc:
        raise usage_error(str(exc)) from exc
