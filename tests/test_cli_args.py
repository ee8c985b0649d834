"""rigfit's argparse layer (rigfit/cli_args.py): declarations become options, usage errors exit 2 naming the input and
the fix, and `rigfit doctor` imports neither typer nor click nor the other commands' modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import pytest

from rigfit import __version__
from rigfit.cli import COMMANDS, GROUPS, app
from rigfit.cli_args import REQUIRED, Argument, Exit, Option, docstring, option_help, parameters, run_command
from tests.cli_runner import CliRunner

runner = CliRunner()
seen: dict[str, object] = {}


def sample(
    words: Annotated[Optional[list[str]], Argument(help="Words (and UI flags after --).")] = None,  # noqa: UP045
    name: Annotated[Optional[str], Option("--name", help="A name.")] = None,  # noqa: UP045
    count: Annotated[int, Option("-n", "--count", help="How many.", min=1)] = 2,
    ratio: Annotated[float, Option("--ratio", help="A ratio.")] = 0.5,
    out: Annotated[Path, Option("-o", "--output", help="Where.")] = Path("here"),
    tag: Annotated[Optional[list[str]], Option("--tag", help="A tag (repeatable).")] = None,  # noqa: UP045
    loud: Annotated[bool, Option("--loud", help="Be loud.")] = False,
) -> None:
    """A sample command."""
    seen.clear()
    seen.update(words=words, name=name, count=count, ratio=ratio, out=out, tag=tag, loud=loud)
    if loud:
        raise Exit(3)


def needs(
    what: Annotated[str, Argument(help="What.")],
    torch: Annotated[str, Option("--torch", help="The torch.")],
) -> None:
    """Required argument and option."""
    seen.update(what=what, torch=torch)


def run(func, argv: list[str]) -> int:
    try:
        run_command(func, "rigfit sample", argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_options_arguments_and_their_types() -> None:
    assert (
        run(sample, ["a", "--name", "x", "b", "-n", "4", "--ratio", "2.5", "-o", "f", "--tag", "t1", "--tag", "t2"])
        == 0
    )
    assert seen == {
        "words": ["a", "b"],
        "name": "x",
        "count": 4,
        "ratio": 2.5,
        "out": Path("f"),
        "tag": ["t1", "t2"],
        "loud": False,
    }
    assert run(sample, []) == 0
    assert seen == {
        "words": None,
        "name": None,
        "count": 2,
        "ratio": 0.5,
        "out": Path("here"),
        "tag": None,
        "loud": False,
    }
    assert run(sample, ["--loud"]) == 3  # Exit(code) is the exit status


def test_words_after_double_dash_go_to_the_variadic_argument_as_they_are() -> None:
    assert run(sample, ["forge", "--name", "x", "--", "--xformers", "--port", "9"]) == 0
    assert seen["words"] == ["forge", "--xformers", "--port", "9"] and seen["name"] == "x"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--count", "x"], "--count: 'x' is not a whole number"),
        (["--count", "0"], "0 is too small: give 1 or more"),
        (["--ratio", "fast"], "'fast' is not a number"),
        (["--nmae", "x"], "no such option: --nmae (did you mean --name?)"),
        (["--name"], "--name: expected one argument"),
    ],
)
def test_bad_input_exits_2_naming_it_and_where_help_is(argv: list[str], says: str, capsys) -> None:
    assert run(sample, argv) == 2
    shown = " ".join(capsys.readouterr().err.split())
    assert says in shown and "`rigfit sample --help`" in shown


def test_required_argument_and_option() -> None:
    assert run(needs, ["x", "--torch", "2.1"]) == 0 and seen["what"] == "x" and seen["torch"] == "2.1"
    result = runner.invoke(app, ["resolve", "diffusers"])
    assert result.exit_code == 2 and "--torch" in result.output


def test_help_shows_every_option_with_its_placeholder_and_help(capsys) -> None:
    assert run(sample, ["--help"]) == 0
    shown = capsys.readouterr().out
    assert "-n, --count COUNT" in shown and "--name NAME" in shown and "-o, --output OUT" in shown
    assert "How many. (default: 2)" in shown and "A sample command." in shown and "WORDS" in shown
    assert set(option_help(sample)) == {"--name", "-n", "--count", "--ratio", "-o", "--output", "--tag", "--loud"}


def test_rigfit_help_version_and_unknown_commands() -> None:
    shown = runner.invoke(app, ["--help"]).stdout
    assert all(f"\n  {name} " in shown for name in [*COMMANDS, *GROUPS, "version"]), shown
    assert "--version" in shown
    no_args = runner.invoke(app, [])
    assert no_args.exit_code == 2 and no_args.stdout == shown  # no command: the help, as a usage error
    for argv in (["--version"], ["version"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 0 and result.stdout == f"rigfit {__version__}\n"
    typo = runner.invoke(app, ["doctr"])
    assert typo.exit_code == 2 and "no such command 'doctr': did you mean 'doctor'?" in typo.stderr
    assert runner.invoke(app, ["--verbose"]).exit_code == 2


def test_groups_run_their_commands_and_show_them() -> None:
    shown = runner.invoke(app, ["patch"])
    assert shown.exit_code == 2 and all(f"\n  {name} " in shown.stdout for name in ("list", "apply", "revert"))
    assert runner.invoke(app, ["env", "--help"]).exit_code == 0
    unknown = runner.invoke(app, ["env", "chek"])
    assert unknown.exit_code == 2 and "did you mean 'check'?" in unknown.stderr
    missing = runner.invoke(app, ["patch", "apply"])
    assert missing.exit_code == 2 and "PATCH_ID" in missing.stderr


def test_doctor_imports_no_typer_click_or_other_commands() -> None:
    """The command that runs is the only command module imported; typer and click are not imported at all."""
    code = (
        "import sys, runpy; sys.argv = ['rigfit', 'doctor', '--help']\n"
        "try:\n    runpy.run_module('rigfit.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click') or m.endswith('command')"
        " or m.endswith('commands')), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "['rigfit.probe.command']"


def every_command() -> list[object]:
    from rigfit.cli import _load

    found = [_load(target) for target in COMMANDS.values()]
    for target in GROUPS.values():
        found += list(_load(target).commands.values())
    return found


def test_parameters_and_docstrings_read_as_inspect_reads_them() -> None:
    """cli_args reads a command's signature without importing inspect: it must agree with inspect on every command."""
    import inspect

    for func in [*every_command(), sample]:
        expected = [
            (p.name, REQUIRED if p.default is inspect.Parameter.empty else p.default)
            for p in inspect.signature(func).parameters.values()
        ]
        assert [(p.name, p.default) for p in parameters(func)] == expected, func
        assert docstring(func) == inspect.getdoc(func), func


def test_doctor_json_imports_neither_inspect_nor_dataclasses_nor_packaging() -> None:
    """What `rigfit doctor --json` would pay for and never uses (a third of its start-up once)."""
    code = (
        "import sys, runpy; sys.argv = ['rigfit', 'doctor', '--json', '--no-torch-check']\n"
        "try:\n    runpy.run_module('rigfit.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('inspect', 'dataclasses', 'packaging', 'pydantic', 'typer', 'click', 'rich', 'hashlib',"
        " 'concurrent', 'tarfile', 'platform')), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("answer", "yes"), [("y\n", True), ("Yes\n", True), ("\n", False), ("n\n", False), ("", False)]
)
def test_confirm_is_yes_only_when_answered_yes(answer: str, yes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rigfit up` asks before installing; Enter or no input at all (a closed stdin) is no."""
    import io

    from rigfit.terminal import confirm

    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    assert confirm("Install forge?") is yes
