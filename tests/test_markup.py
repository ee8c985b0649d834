"""rigfit's markup printer prints what rich printed: the same text (styles dropped) off a terminal, the same visible
text with ANSI styles on one, and rich's escaping. The report of every machine capture is compared whole."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape as rich_escape

from rigfit.markup import Printer, escape, render
from tests.conftest import REPO

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STYLES = ["bold", "bold red", "bold green", "bold yellow", "bold underline", "cyan", "dim", "green", "yellow", "red"]
words = st.text(alphabet="ab [/]\\:?@#x-", max_size=12)
# rich's own escape fails before a tag after 3+ trailing backslashes (its MarkupError): text before tags has none
plain_words = st.text(alphabet="ab [/]:?@#x-", max_size=12)


def rich_text(markup: str, color: bool) -> str:
    """What rigfit's console printed with rich (emoji codes off: rigfit never writes them)."""
    out = io.StringIO()
    console = Console(file=out, highlight=False, soft_wrap=True, force_terminal=color, emoji=False)
    console.print(markup)
    return out.getvalue().removesuffix("\n")


@settings(max_examples=400, deadline=None)
@given(words)
def test_escape_is_riches(text: str) -> None:
    assert escape(text) == rich_escape(text)


@st.composite
def rigfit_markup(draw: st.DrawFn) -> str:
    """Markup as rigfit writes it: escaped text between tags it opens and closes."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(escape(draw(plain_words)))
        if draw(st.booleans()):
            parts.append(f"[{draw(st.sampled_from(STYLES))}]{escape(draw(plain_words))}[/]")
    return "".join(parts) + escape(draw(words))


@settings(max_examples=400, deadline=None)
@given(rigfit_markup())
def test_markup_prints_as_rich_printed_it(markup: str) -> None:
    try:
        expected = rich_text(markup, color=False)
    except MarkupError:  # markup rich itself cannot print (its escape's limits): nothing to compare
        assume(False)
    assert render(markup, color=False) == expected
    assert ANSI.sub("", render(markup, color=True)) == ANSI.sub("", rich_text(markup, color=True))


def test_styles_become_ansi_codes_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert render("[bold red]error:[/] x", color=True) == "\x1b[0m\x1b[1;31merror:\x1b[0m x"
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    out = io.StringIO()
    with redirect_stdout(out):
        Printer().print("[cyan]fix:[/] run it")
        monkeypatch.setenv("NO_COLOR", "1")
        Printer().print("[cyan]fix:[/] run it")
    assert out.getvalue() == "\x1b[0m\x1b[36mfix:\x1b[0m run it\nfix: run it\n"


@pytest.mark.parametrize("machine", sorted(p.name for p in (REPO / "tests/fixtures/machines").iterdir() if p.is_dir()))
def test_the_doctor_report_is_what_rich_printed(machine: str) -> None:
    from rigfit.plan.summary import doctor_summary
    from rigfit.probe.gather import findings_for, probe_machine
    from rigfit.probe.report import render_doctor
    from rigfit.probe.source import open_source

    profile = probe_machine(open_source(str(REPO / "tests/fixtures/machines" / machine)), torch_check=False)
    plan_lines, plan_findings = doctor_summary(profile)
    findings = findings_for(profile, also=plan_findings)
    with_rich = io.StringIO()
    render_doctor(profile, findings, Console(file=with_rich, highlight=False, soft_wrap=True, emoji=False), plan_lines)
    mine = io.StringIO()
    with redirect_stdout(mine):
        render_doctor(profile, findings, Printer(), plan_lines)  # type: ignore[arg-type]
    assert mine.getvalue() == with_rich.getvalue()
    assert len(mine.getvalue().splitlines()) > 15


def test_other_renderables_go_to_rich() -> None:
    from rich.tree import Tree

    out = io.StringIO()
    with redirect_stdout(out):
        Printer().print(Tree("plan"))
    assert out.getvalue().strip() == "plan"
