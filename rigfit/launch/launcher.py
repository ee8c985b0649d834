"""`rigfit launch` as a stage function: the UI's command from the env record and the KB, started and watched.

The command is the plan's flags (kept in the env record by `rigfit install`) plus what launch itself decides: the
port, --listen with the UI's own login, its API, and "download no model" when the model folder is empty.
"""

from __future__ import annotations

import os
import shlex
import socket
from pathlib import Path

from rigfit.env.record import EnvRecord
from rigfit.kb.schemas import UiEntry
from rigfit.launch.auth import Credentials, auth_args
from rigfit.launch.preflight import models_in
from rigfit.records import field, record

LOCALHOST = "127.0.0.1"


@record
class LaunchCommand:
    argv: list[str]
    env_added: dict[str, str]  # what rigfit sets on top of the user's environment
    cwd: Path
    port: int
    why: dict[str, str] = field(default_factory=dict)  # flag -> why it is there (for --script)
    # flags holding a password, by the variable the UI reads extra flags from (uis.yaml args_env): given only to the
    # process (its environment is readable by its owner alone), never recorded, printed or written in a script
    env_secret: dict[str, str] = field(default_factory=dict)


def ui_program(record: EnvRecord, ui: UiEntry) -> list[str]:
    """The UI's start command (uis.yaml `launch`) run by the env's own interpreter or its own scripts."""
    words = shlex.split(ui.launch)
    if words[0] in ("python", "python3"):
        return [record.python, *words[1:]]
    own = Path(record.env_dir) / "bin" / words[0]
    return [str(own) if own.exists() else words[0], *words[1:]]


def _cli_flags(ui: UiEntry, setting: str) -> list[str]:
    """The UI's command-line flags for a setting (settings-file keys, "config:...", are not flags)."""
    return [f for f in ui.flags.get(setting, []) if not f.startswith("config:")]


def config_env(ui: UiEntry, setting: str, value: str = "") -> dict[str, str]:
    """A setting the UI reads from its settings file ("config:port", "config:host=0.0.0.0"), as the environment
    variable it also reads it from (InvokeAI: INVOKEAI_PORT), which wins over the file."""
    prefix = ui.container.config_env_prefix
    found = {}
    for flag in ui.flags.get(setting, []):
        if prefix and flag.startswith("config:"):
            key, _, fixed = flag.removeprefix("config:").partition("=")
            found[f"{prefix}{key.upper()}"] = fixed or value
    return found


def _settings(ui: UiEntry, port: int, listen: bool, login: bool) -> dict[str, tuple[str, str]]:
    """Port, --listen and the login as the UI's settings variables (InvokeAI): name -> (value, why)."""
    wanted = [("net.port", str(port), f"serve on port {port} (the variable wins over its settings file)")]
    if listen:
        wanted.append(("net.listen", "", "serve on every network interface, not only this machine"))
    if login:
        wanted.append(("net.auth", "", "ask for a login (the UI is reachable from the network)"))
    return {
        name: (value, why) for setting, given, why in wanted for name, value in config_env(ui, setting, given).items()
    }


def _add(argv: list[str], why: dict[str, str], flags: list[str], reason: str) -> None:
    if flags and flags[0] not in argv:
        argv.extend(flags)
        why[flags[0]] = reason


def build_command(
    record: EnvRecord,
    ui: UiEntry,
    *,
    port: int,
    listen: bool,
    creds: Credentials | None,
    extra: list[str],
) -> LaunchCommand:
    argv = ui_program(record, ui)
    why: dict[str, str] = {}
    for flag in record.launch_args:
        argv.append(flag)
    port_flags = _cli_flags(ui, "net.port")
    if port_flags and port != ui.port:
        _add(argv, why, [*port_flags, str(port)], f"serve on port {port} instead of {ui.port}")
    if listen:
        _add(argv, why, _cli_flags(ui, "net.listen"), "serve on every network interface, not only this machine")
    settings = _settings(ui, port, listen, creds is not None)
    _add(argv, why, _cli_flags(ui, "net.api"), "turn on the UI's HTTP API (rigfit checks it answers; scripts use it)")
    env_secret: dict[str, str] = {}
    if creds is not None:
        public, secret = auth_args(ui, creds)
        if secret and ui.args_env:
            env_secret[ui.args_env] = shlex.join(secret)
        else:  # no other way in: it shows in `ps`
            public += secret
        argv.extend(public)
        for flag in public[::2]:
            why[flag] = "ask for a login (the UI is reachable from the network); USER:PASSWORD in a file only you read"
    if not models_in(ui, Path(record.ui_dir)):
        _add(argv, why, _cli_flags(ui, "model.no_download"), "no model yet: start without downloading gigabytes")
    argv.extend(extra)
    why.update({flag: "your own flag (given after --)" for flag in extra if flag.startswith("-")})
    env_added = {"PYTHONUNBUFFERED": "1", **record.launch_env, **{name: value for name, (value, _) in settings.items()}}
    why.update({name: reason for name, (_, reason) in settings.items()})
    return LaunchCommand(argv, env_added, Path(record.ui_dir), port, why, env_secret)


def full_env(added: dict[str, str], secret: dict[str, str] | None = None) -> dict[str, str]:
    """The user's environment with rigfit's additions; a variable the user set keeps the user's value, except that
    secret flags are appended to it (COMMANDLINE_ARGS holds flags: the user's and rigfit's login both count)."""
    env = dict(os.environ)
    for name, value in added.items():
        env.setdefault(name, value)
    for name, value in (secret or {}).items():
        env[name] = f"{env[name]} {value}" if env.get(name) else value
    return env


def lan_addresses() -> list[str]:
    """This machine's address on its network (the interface of the default route), when there is one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))  # UDP: sends nothing, only picks the route
            address = str(sock.getsockname()[0])
        except OSError:
            return []
    return [] if address.startswith("127.") else [address]


def urls_for(port: int, listen: bool) -> list[str]:
    urls = [f"http://{LOCALHOST}:{port}/"]
    if listen:
        urls += [f"http://{address}:{port}/" for address in lan_addresses()]
    return urls
