"""The user's own wheels (--torch-wheel): checked before anything is written, so a wrong file fails at once."""

from __future__ import annotations

import re
from pathlib import Path

from rigfit.env.venv import Interpreter
from rigfit.records import record


class WheelError(Exception):
    """A wheel that cannot be installed here; the message names the file and the fix."""


@record(frozen=True)
class Wheel:
    path: Path
    name: str  # normalized: "torch"
    version: str
    python_tags: tuple[str, ...]  # ("cp311",)
    platforms: tuple[str, ...]  # ("manylinux_2_28_x86_64",)


_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<ver>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")


def parse_wheel(text: str) -> Wheel:
    path = Path(text).expanduser()
    match = _WHEEL.match(path.name)
    if match is None:
        raise WheelError(f"{text} is not a wheel file name (name-version-python-abi-platform.whl): check the path.")
    if not path.is_file():
        raise WheelError(f"{text} does not exist: check the path given to --torch-wheel.")
    return Wheel(
        path.resolve(),
        re.sub(r"[-_.]+", "-", match["name"]).lower(),
        match["ver"],
        tuple(match["py"].split(".")),
        tuple(match["plat"].split(".")),
    )


def check_fits(wheel: Wheel, python: Interpreter) -> None:
    """A wheel for another Python or machine fails here, naming what it is built for."""
    py_ok = any(tag in (python.tag, "py3", f"py{python.tag[2:]}") for tag in wheel.python_tags)
    machine = python.platform.removeprefix("linux_")
    plat_ok = any(p == "any" or p.endswith(machine) for p in wheel.platforms)
    if not py_ok:
        raise WheelError(
            f"{wheel.path.name} is built for Python {', '.join(wheel.python_tags)}, but the env's Python is "
            f"{python.version} ({python.tag}): get the {python.tag} wheel, or build the env with a matching "
            "interpreter (--python /usr/bin/python3.X)."
        )
    if not plat_ok:
        raise WheelError(
            f"{wheel.path.name} is built for {', '.join(wheel.platforms)}, not this machine ({python.platform}): "
            f"get the wheel built for {machine}."
        )
