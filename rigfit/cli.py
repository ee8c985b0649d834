"""rigfit's command line: parse arguments, call one stage, render. No logic lives here.

Each command lives in its stage's `command` module and is imported only when it runs, so `rigfit doctor` does not pay
for the modules of plan, explain or verify. Add a command by naming it in COMMANDS (or a command group in GROUPS).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperOption

from rigfit import __version__

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
# group name -> "module:typer_app" for commands with sub-commands (`rigfit env check`).
GROUPS: dict[str, str] = {
    "env": "rigfit.env.commands:env_app",
    "patch": "rigfit.env.patch_commands:patch_app",
}


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class NamedPlaceholders(TyperCommand):
    """Help shows `--env ENV`, not typer's `--env <str>`: an option without a metavar is shown by its own name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None and param.name:
                param.metavar = param.name.strip("_").upper()


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rigfit {__version__}")
        raise typer.Exit(0)


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI with every command, or with just `only` (what `main` runs: the others are never imported)."""
    cli = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, help=HELP)

    @cli.callback()
    def _root(
        version: Annotated[
            bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print rigfit's version.")
        ] = False,
    ) -> None:
        """Fit Stable Diffusion to the machine you own."""

    for name, target in COMMANDS.items():
        if only in (None, name):
            cli.command(name, cls=NamedPlaceholders)(_load(target))
    for name, target in GROUPS.items():
        if only in (None, name):
            group = _load(target)
            for info in group.registered_commands:
                info.cls = info.cls or NamedPlaceholders
            cli.add_typer(group, name=name)

    @cli.command("version")
    def version() -> None:
        """Print rigfit's version."""
        typer.echo(f"rigfit {__version__}")

    return cli


def _command_named(argv: list[str]) -> str | None:
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS or first in GROUPS else None


def __getattr__(name: str) -> Any:
    """`rigfit.cli.app`: the full CLI (tests and --help), built on first use."""
    if name == "app":
        globals()["app"] = full = build_app()
        return full
    raise AttributeError(name)


def main() -> None:
    # rigfit uses no pydantic plugin; looking them up scans the metadata of every installed package (a tenth of
    # doctor's start-up)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    build_app(_command_named(sys.argv[1:]))()


if __name__ == "__main__":
    main()
