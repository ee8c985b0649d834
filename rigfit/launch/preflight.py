"""Checks before a UI starts: the env is installed and intact, the port is free, a model is in place.

Each problem is a LaunchProblem with what is wrong and the exact fix; `blocking` ones stop the launch.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from rigfit.env.record import EnvRecord
from rigfit.kb.schemas import UiEntry
from rigfit.records import record

MODEL_SUFFIXES = (".safetensors", ".ckpt", ".gguf", ".pt", ".pth", ".sft")


@record(frozen=True)
class LaunchProblem:
    message: str
    fix: str
    blocking: bool = True


def record_problems(record: EnvRecord) -> list[LaunchProblem]:
    """The env is there: its install finished, its interpreter and the UI's checkout exist. (Its protected files are
    `protected_problems`, which `start` runs while the UI starts.)"""
    env = record.env_dir
    reinstall = f"rigfit install {record.ui} --env {env}"
    if not record.complete:
        return [LaunchProblem(f"the install of {env} did not finish (its record says incomplete)", reinstall)]
    problems = []
    if not Path(record.python).exists():
        problems.append(LaunchProblem(f"the env's interpreter {record.python} is missing", reinstall))
    if not Path(record.ui_dir).is_dir():
        problems.append(LaunchProblem(f"the UI's checkout {record.ui_dir} is missing", reinstall))
    return problems


def protected_problems(record: EnvRecord) -> list[LaunchProblem]:
    """`rigfit env check`: the protected packages (torch...) are byte-identical to what rigfit installed (by size and
    mtime against the last full check, re-hashing what changed)."""
    from rigfit.env.protect import ProtectError, verify

    try:
        problems = verify(Path(record.env_dir), record.protected, trust_unchanged=True)
    except ProtectError as exc:
        return [LaunchProblem(str(exc), f"rigfit install {record.ui} --env {record.env_dir}")]
    if not problems:
        return []
    names = ", ".join(sorted({p.package for p in problems}))
    wheels = "".join(f" --torch-wheel {p.wheel}" for p in record.protected if p.wheel)
    return [
        LaunchProblem(
            f"{len(problems)} file(s) of {names} changed since rigfit installed them (something reinstalled them)",
            f"rigfit install {record.ui} --env {record.env_dir}{wheels}",
        )
    ]


def listen_inodes(port: int) -> set[str]:
    """The sockets listening on TCP `port` (IPv4 and IPv6), as /proc/PID/fd links name them."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    return inodes


def listener_of(port: int) -> str | None:
    """Which process listens on `port` ("PID 123: python3 -m http.server"), when /proc tells (own processes)."""
    inodes = listen_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                return f"PID {proc.name}: {cmdline[:120]}"
        except OSError:
            continue
    return None


def port_problem(port: int, host: str) -> LaunchProblem | None:
    """None when `port` can be bound on `host` (as the UI's server will, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            who = listener_of(port)
            used = f" by {who}" if who else ""
            return LaunchProblem(
                f"port {port} is already in use{used}",
                f"stop what uses it, or start on another port: --port {port + 1}",
            )
    return None


def models_in(ui: UiEntry, ui_dir: Path) -> list[Path]:
    if ui.model_dir is None:
        return []
    folder = ui_dir / ui.model_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())


def model_folder(ui: UiEntry, ui_dir: Path) -> Path | None:
    return ui_dir / ui.model_dir if ui.model_dir else None


def fitting_models(ui_id: str, limit: int = 3) -> list[str]:
    """The models the plan says fit this machine (probed now), with where to get them: "SD 1.5 (ok): URL"."""
    from rigfit.plan.knowledge import models
    from rigfit.plan.model import PlanOptions
    from rigfit.plan.planner import make_plan
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import open_source

    plan = make_plan(probe_machine(open_source(None), torch_check=False), PlanOptions(ui=ui_id))  # type: ignore[arg-type]
    where = {m.id: m.download for m in models()}
    fits = [m for m in plan.models if m.verdict in ("ok", "slow", "tight")][:limit]
    return [f"{m.name} ({m.verdict}: {m.note})" + (f": {where[m.id]}" if where.get(m.id) else "") for m in fits]
