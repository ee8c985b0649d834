"""rigfit's command-line layer: a command is a plain function whose parameters declare their options
(`as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False`), run through the standard library's argparse.

A command's type hints are read only when that command runs (or its help is shown), so `rigfit doctor` pays for
argparse (a few ms) and doctor's own module. typer cost ~190 ms of doctor's start-up: its import and the pydantic
adapters it builds per parameter (issue 8). What only help and errors need is imported there.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, TextIO, Union

Command = Callable[..., None]
HELP_OPTION = ("-h, --help", "Show this message and exit.")


class Option:
    """A `--name VALUE` option (a flag when the parameter is a bool; repeatable when it is a list)."""

    def __init__(self, *names: str, help: str = "", metavar: str | None = None, min: float | None = None) -> None:
        self.names = names
        self.help = help
        self.metavar = metavar  # default: the parameter's name in capitals (`--env ENV`)
        self.min = min


class Argument:
    """A positional argument: required without a default, optional with one, any number of words for a list."""

    def __init__(self, help: str = "", metavar: str | None = None) -> None:
        self.help = help
        self.metavar = metavar


class Exit(SystemExit):
    """End the command with this exit status (code 0: success); a command raises it instead of calling sys.exit."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.exit_code = code


class Group:
    """Commands under one name (`rigfit env check|list`)."""

    def __init__(self, help: str) -> None:
        self.help = help
        self.commands: dict[str, Command] = {}

    def command(self, name: str) -> Callable[[Command], Command]:
        def register(func: Command) -> Command:
            self.commands[name] = func
            return func

        return register


def _usage_error(prog: str, message: str) -> Exit:
    from rigfit.terminal import escape, usage_error

    return usage_error(escape(f"{message} (`{prog} --help` shows the usage)"))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _usage_error(self.prog, message)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions (docstrings) as written; option help wrapped to the terminal."""

    def __init__(self, prog: str) -> None:
        # the width given: else argparse imports shutil for it, on every run (add_argument builds a formatter)
        super().__init__(prog, max_help_position=34, width=columns() - 2)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        """`-r, --requirement FILE` (argparse writes the value's name after each spelling)."""
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        value = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{', '.join(action.option_strings)} {value}"


def _number(kind: type[int] | type[float], least: float | None) -> Callable[[str], Any]:
    what = "a whole number" if kind is int else "a number"

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if least is not None and value < least:
            raise argparse.ArgumentTypeError(f"{text} is too small: give {least:g} or more")
        return value

    return convert


def _converter(kind: Any, least: float | None) -> Callable[[str], Any]:
    if kind in (int, float):
        return _number(kind, least)
    if kind in (str, Path):
        return typing.cast("Callable[[str], Any]", kind)
    raise TypeError(f"options of type {kind!r} are not supported: use str, int, float, Path, bool or a list of them")


def _without_none(hint: Any) -> Any:
    """`Optional[T]` and `T | None` -> T."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def _help_text(text: str, default: Any) -> str:
    """argparse %-formats help strings; the default is shown unless the help already says it."""
    if default not in (None, False, "") and "default" not in text:
        text = f"{text} (default: {default})"
    return text.replace("%", "%%")


REQUIRED: Any = object()  # the default of a parameter that has none


class Parameter(NamedTuple):
    name: str
    default: Any


def parameters(func: Command) -> list[Parameter]:
    """A command's parameters in order, with their defaults (REQUIRED where none): what inspect.signature says of a
    plain function, without importing inspect (its import is a tenth of `rigfit doctor`)."""
    code = func.__code__
    positional = code.co_varnames[: code.co_argcount]
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    found = dict.fromkeys(names, REQUIRED)
    defaults = func.__defaults__ or ()
    found |= dict(zip(positional[len(positional) - len(defaults) :], defaults, strict=True))
    found |= func.__kwdefaults__ or {}
    return [Parameter(name, default) for name, default in found.items()]


def docstring(func: Command) -> str | None:
    """The docstring with its indentation removed (inspect.getdoc's result for a function that has one)."""
    text = func.__doc__
    if text is None:
        return None
    first, _, rest = text.expandtabs().partition("\n")
    return (first.strip() + "\n" + textwrap.dedent(rest)).strip()


class _Spec:
    """A command function as an argparse parser, and what running it needs: its options and its variadic argument."""

    def __init__(self, func: Command, prog: str) -> None:
        self.func = func
        self.options: dict[str, str] = {}  # option name -> its help
        self.variadic: str | None = None
        self.defaults: dict[str, Any] = {}
        self.parser = _Parser(
            prog=prog,
            description=docstring(func),
            formatter_class=_Formatter,
            add_help=False,
            allow_abbrev=False,
        )
        self._arguments = self.parser.add_argument_group("Arguments")
        self._options = self.parser.add_argument_group("Options")
        hints = typing.get_type_hints(func, include_extras=True)
        for param in parameters(func):
            self._declare(param, hints[param.name])
        self._options.add_argument("-h", "--help", action="help", help=HELP_OPTION[1])

    def _declare(self, param: Parameter, hint: Any) -> None:
        marker = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, (Option, Argument))), None)
        if marker is None:
            raise TypeError(f"{self.func.__name__}({param.name}): declare it as Annotated[T, Option(...)]")
        kind = _without_none(typing.get_args(hint)[0])
        many = typing.get_origin(kind) is list
        item = typing.get_args(kind)[0] if many else kind
        required = param.default is REQUIRED
        default = None if required else param.default
        self.defaults[param.name] = default
        if isinstance(marker, Argument):
            self._declare_argument(param.name, marker, item, many, required, default)
            return
        self.options |= dict.fromkeys(marker.names, marker.help)
        if item is bool:
            if default:
                raise TypeError(f"{self.func.__name__}({param.name}): a flag defaults to False")
            flag_help = _help_text(marker.help, None)
            self._options.add_argument(*marker.names, dest=param.name, action="store_true", help=flag_help)
            return
        self._options.add_argument(
            *marker.names,
            dest=param.name,
            type=_converter(item, marker.min),
            action="append" if many else "store",
            default=default,
            required=required,
            metavar=marker.metavar or param.name.strip("_").upper(),
            help=_help_text(marker.help, default),
        )

    def _declare_argument(
        self, name: str, marker: Argument, item: Any, many: bool, required: bool, default: Any
    ) -> None:
        if many:
            self.variadic = name
            nargs: str | None = "+" if required else "*"
        else:
            nargs = None if required else "?"
        extra = {} if required else {"default": default}
        self._arguments.add_argument(
            name,
            type=_converter(item, None),
            nargs=nargs,
            metavar=marker.metavar or name.upper(),
            help=marker.help.replace("%", "%%"),
            **extra,
        )

    def _unknown(self, word: str) -> NoReturn:
        import difflib

        if not word.startswith("-"):
            self.parser.error(f"unexpected argument '{word}'")
        close = difflib.get_close_matches(word.split("=", 1)[0], list(self.options), n=1)
        self.parser.error(f"no such option: {word}" + (f" (did you mean {close[0]}?)" if close else ""))

    def arguments(self, argv: Sequence[str]) -> dict[str, Any]:
        """The function's keyword arguments for `argv`; words after `--` go, as they are, to the variadic argument."""
        words = list(argv)
        passed: list[str] = []
        if self.variadic and "--" in words:
            cut = words.index("--")
            words, passed = words[:cut], words[cut + 1 :]
        values, unknown = self.parser.parse_known_intermixed_args(words)
        if unknown:
            self._unknown(unknown[0])
        kwargs = vars(values)
        if self.variadic:
            kwargs[self.variadic] = [*(kwargs[self.variadic] or []), *passed] or self.defaults[self.variadic]
        return kwargs


def command_parser(func: Command, prog: str) -> argparse.ArgumentParser:
    """The argparse parser of a command function (its help, its options)."""
    return _Spec(func, prog).parser


def option_help(func: Command) -> dict[str, str]:
    """Every option a command function declares (`--json`, `-o`, `--output`...; `--help` aside) and its help."""
    return _Spec(func, func.__name__).options


def run_command(func: Command, prog: str, argv: Sequence[str]) -> None:
    """Parse `argv` for `func` and call it; usage errors raise Exit(2), --help exits 0."""
    func(**_Spec(func, prog).arguments(argv))


def summary(target: Command | Group) -> str:
    """The first paragraph of a command's docstring, or a group's help, on one line."""
    text = target.help if isinstance(target, Group) else docstring(target) or ""
    return " ".join(text.split("\n\n", 1)[0].split())


def columns(stream: TextIO | None = None) -> int:
    """The width of the terminal behind `stream` (stdout) as shutil.get_terminal_size() gives it ($COLUMNS, else the
    terminal's, else 80), without importing shutil (and the compression modules it loads: a twentieth of doctor)."""
    try:
        if (wanted := int(os.environ.get("COLUMNS", "0"))) > 0:
            return wanted
    except ValueError:
        pass
    try:
        return os.get_terminal_size((stream or sys.__stdout__).fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _rows(rows: Sequence[tuple[str, str]]) -> str:
    width = columns() - 2
    left = max(len(name) for name, _ in rows) + 4
    return "\n".join(
        textwrap.fill(text, max(width, left + 30), initial_indent=f"  {name:<{left - 2}}", subsequent_indent=" " * left)
        for name, text in rows
    )


def group_help(
    prog: str, about: str, options: Sequence[tuple[str, str]], entries: Mapping[str, Command | Group]
) -> str:
    """`rigfit --help`: usage, what it is, its options and every command with its summary."""
    shown_options = [*options, HELP_OPTION]
    usage = " ".join(f"[{name.split(', ')[-1]}]" for name, _ in shown_options)
    return (
        f"usage: {prog} {usage} COMMAND [ARGS]...\n\n{about}\n\nOptions:\n{_rows(shown_options)}\n\n"
        f"Commands:\n{_rows([(name, summary(target)) for name, target in entries.items()])}\n"
    )


def run_group(prog: str, group: Group, argv: Sequence[str]) -> None:
    """`rigfit env check ...`: run the named sub-command; no words or --help show the group's commands."""
    words = list(argv)
    if not words or words[0] in ("-h", "--help"):
        sys.stdout.write(group_help(prog, group.help, [], group.commands))
        raise Exit(0 if words else 2)
    name, *rest = words
    if name not in group.commands:
        raise unknown_command(prog, name, list(group.commands))
    run_command(group.commands[name], f"{prog} {name}", rest)


def unknown_command(prog: str, word: str, names: Sequence[str]) -> Exit:
    """A usage error for a word that names no command (or an option the command line does not have)."""
    import difflib

    if word.startswith("-"):
        return _usage_error(prog, f"no such option: {word}")
    close = difflib.get_close_matches(word, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return _usage_error(prog, f"no such command '{word}': {hint}commands are {', '.join(names)}")
