"""`rigfit doctor` and `rigfit capture`: probe (or replay) the machine, render the report or record the capture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from rigfit.cli_args import Exit, Option
from rigfit.terminal import console, usage_error

FromOpt = Annotated[
    Optional[str],  # noqa: UP045
    Option(
        "--from",
        help="Replay a capture (directory or .tar.gz from `rigfit capture`), or read one pasted text (nvidia-smi, "
        "rocminfo, lscpu, collect_env, a UI's start-up...; a file, or - for standard input) instead of this machine.",
        metavar="CAPTURE|FILE|-",
    ),
]
EnvOpt = Annotated[
    Optional[str],  # noqa: UP045
    Option("--env", help="Check the torch of this environment (the UI's venv) instead of rigfit's own.", metavar="DIR"),
]
JsonOpt = Annotated[bool, Option("--json", help="Print JSON instead of the report.")]


def checked_env(env: str | None) -> str | None:
    """--env must name a virtual environment (a directory holding bin/python)."""
    if env is not None and not (Path(env).expanduser() / "bin" / "python").exists():
        raise usage_error(f"'{env}' is not a virtual environment (no bin/python in it): pass the UI's venv folder")
    return str(Path(env).expanduser()) if env else None


def doctor(
    from_: FromOpt = None,
    as_json: JsonOpt = False,
    no_torch_check: Annotated[
        bool, Option("--no-torch-check", help="Do not import an installed torch in a subprocess (faster).")
    ] = False,
    env: EnvOpt = None,
) -> None:
    """What is this machine, and what stops Stable Diffusion from running on it? Exit 1 when nothing can run it."""
    from rigfit.plan.summary import doctor_summary
    from rigfit.probe.gather import findings_for, probe_machine
    from rigfit.probe.report import doctor_json, nothing_can_run, render_doctor
    from rigfit.probe.source import CaptureError, open_source
    from rigfit.terminal import print_json

    if from_ and env:
        raise usage_error("--env checks a torch on this machine; a capture (--from) replays the torch it recorded")
    try:
        source = open_source(from_)
    except CaptureError as exc:
        raise usage_error(str(exc)) from exc
    profile = probe_machine(source, torch_check=not no_torch_check, env=checked_env(env))
    plan_lines, plan_findings = doctor_summary(profile)
    findings = findings_for(profile, also=plan_findings)
    if as_json:
        print_json(doctor_json(profile, findings))
    else:
        render_doctor(profile, findings, console, plan_lines)
    raise Exit(1 if nothing_can_run(profile, findings) else 0)


def capture(
    output: Annotated[Path, Option("-o", "--output", help="Archive to write.", metavar="FILE.tar.gz")] = Path(
        "rigfit-capture.tar.gz"
    ),
    env: EnvOpt = None,
) -> None:
    """Record everything doctor reads (redacted) into a .tar.gz you can share; replay it with `--from`."""
    import tempfile

    from rigfit.probe.capture import RecordingSource, write_archive
    from rigfit.probe.gather import COMMANDS, probe_machine

    if output.exists() and output.is_dir():
        raise usage_error(f"'{output}' is a directory; give a file name such as -o machine.tar.gz")
    with tempfile.TemporaryDirectory(prefix="rigfit-capture-") as tmp:
        source = RecordingSource(Path(tmp))
        probe_machine(source, env=checked_env(env))
        source.finish(COMMANDS)
        write_archive(Path(tmp), output)
    console.print(
        f"Wrote {output} (redacted: {', '.join(sorted(source.redact.applied)) or 'nothing identifying found'})."
    )
    console.print(f"Replay it anywhere with: rigfit doctor --from {output}")
