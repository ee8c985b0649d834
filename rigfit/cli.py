"""rigfit's command line: parse arguments, call one stage, render. No logic lives here.

Each command lives in its stage's `command` module and is imported only when it runs, so `rigfit doctor` does not pay
for the modules of plan, explain or verify. Add a command by naming it in COMMANDS (or a command group in GROUPS).
Options are declared on the command function's parameters and parsed by rigfit.cli_args (argparse).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from rigfit import __version__
from rigfit.cli_args import Exit, Group, group_help, run_command, run_group, unknown_command

HELP = "Fit Stable Diffusion to the machine you own: probe it, plan the stack, install and launch it, explain crashes."

# command name -> "module:function"; the order is the order of `rigfit --help`.
COMMANDS: dict[str, str] = {
    "up": "rigfit.launch.command:up",
    "doctor": "rigfit.probe.command:doctor",
    "capture": "rigfit.probe.command:capture",
    "plan": "rigfit.plan.command:plan",
    "install": "rigfit.env.commands:install",
    "add": "rigfit.env.commands:add",
    "resolve": "rigfit.env.commands:resolve",
    "launch": "rigfit.launch.command:launch",
    "stop": "rigfit.launch.command:stop",
    "status": "rigfit.launch.command:status",
    "logs": "rigfit.launch.command:logs",
    "verify": "rigfit.verify.command:verify",
    "bench": "rigfit.verify.command:bench",
    "explain": "rigfit.explain.command:explain",
    "docker": "rigfit.recipes.command:docker",
    "k8s": "rigfit.recipes.command:k8s",
    "build-torch": "rigfit.recipes.torch_build.command:build_torch",
}
# group name -> "module:group" (a rigfit.cli_args.Group) for commands with sub-commands (`rigfit env check`).
GROUPS: dict[str, str] = {
    "env": "rigfit.env.commands:env_app",
    "patch": "rigfit.env.patch_commands:patch_app",
}


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def version() -> None:
    """Print rigfit's version."""
    print(f"rigfit {__version__}")


VERSION_OPTION = ("--version", "Print rigfit's version.")


def _root_help() -> str:
    """Every command's summary: the one place that imports all command modules."""
    entries = {name: _load(target) for name, target in COMMANDS.items()}
    entries["version"] = version
    entries |= {name: _load(target) for name, target in GROUPS.items()}
    return group_help("rigfit", HELP, [VERSION_OPTION], entries)


def _dispatch(argv: Sequence[str]) -> None:
    words = list(argv)
    if not words or words[0] in ("-h", "--help"):
        sys.stdout.write(_root_help())
        raise Exit(0 if words else 2)
    name, *rest = words
    if name in ("--version", "version"):
        run_command(version, "rigfit version", rest)
    elif target := COMMANDS.get(name):
        run_command(_load(target), f"rigfit {name}", rest)
    elif group_target := GROUPS.get(name):
        group: Group = _load(group_target)
        run_group(f"rigfit {name}", group, rest)
    else:
        raise unknown_command("rigfit", name, [*COMMANDS, "version", *GROUPS])


def _exit_status(code: object) -> int:
    """SystemExit's code as a process exit status (None: 0; a message: printed, 1), as Python itself does."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def app(argv: Sequence[str]) -> int:
    """Run the command line `argv` (without the program name) in this process; returns the exit status.
    Only the named command's module is imported: `rigfit doctor` does not pay for plan, explain or verify."""
    try:
        _dispatch(argv)
    except SystemExit as exc:  # rigfit.cli_args.Exit included
        return _exit_status(exc.code)
    return 0


def main() -> None:
    try:
        status = app(sys.argv[1:])
    except KeyboardInterrupt:  # Ctrl-C in a command that does not handle it: no traceback (as click did)
        print("\nAborted!", file=sys.stderr)
        status = 1
    except BrokenPipeError:  # `rigfit doctor | head`: the reader has what it wanted; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit would fail too
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
