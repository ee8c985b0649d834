"""Show explanations: a report for people, JSON (schema "rigfit.explain/1") for tools."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rigfit.explain.match import MESSAGE_WORDS, Result
from rigfit.explain.scan import ERROR_WORDS, LogLine, LogScan
from rigfit.terminal import escape

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "rigfit.explain/1"
EVIDENCE_SHOWN = 3
PICKED = "fix_"  # a fact the fix chose from the knowledge base (a wheel line), not one the log showed


def explain_json(result: Result, log_name: str) -> dict[str, Any]:
    scan = result.scan
    return {
        "schema": SCHEMA,
        "log": log_name,
        "matches": [
            {
                "id": e.id,
                "title": e.title,
                "cause": e.cause,
                "fix": e.fix,
                "source": e.source,
                "confidence": e.confidence,
                "profile_agrees": e.profile_agrees,
                "kind": e.kind,
                "facts": e.facts,
                "evidence": [{"line": line.number, "text": line.text} for line in e.evidence],
            }
            for e in result.explanations
        ],
        "looked_at": {
            "lines": scan.lines_total,
            "bytes": scan.bytes_total,
            "error_lines": len(error_looking(scan)),
            "forgotten_lines": scan.dropped,
        },
    }


def render_explain(result: Result, log_name: str, console: Console, profile_label: str | None) -> None:
    if not result.explanations:
        render_nothing(result, log_name, console)
        return
    for rank, e in enumerate(result.explanations, 1):
        console.print(f"[bold]{rank}. {escape(e.title)}[/]  [dim]({e.id}, confidence {e.confidence:.2f})[/]")
        for line in e.evidence[:EVIDENCE_SHOWN]:
            console.print(f"   [dim]line {line.number}:[/] {escape(line.text[:200])}")
        read = {k: v for k, v in e.facts.items() if not k.startswith(PICKED)}
        picked = {k.removeprefix(PICKED): v for k, v in e.facts.items() if k.startswith(PICKED)}
        if read:
            shown = ", ".join(f"{k}={v}" for k, v in read.items())
            console.print(f"   [dim]Read from the log: {escape(shown[:300])}[/]")
        if picked:
            shown = ", ".join(f"{k}={v}" for k, v in picked.items())
            console.print(f"   [dim]Picked for the fix: {escape(shown[:300])}[/]")
        console.print(f"   [bold]Cause:[/] {escape(e.cause)}")
        console.print(f"   [bold green]Fix:[/] {escape(e.fix)}")
        console.print(f"   [dim]Source: {escape(', '.join(e.source))}[/]")
        console.print()
    if profile_label:
        console.print(f"[dim]Machine facts from {escape(profile_label)}.[/]")


def error_looking(scan: LogScan) -> list[LogLine]:
    """The kept lines that look like errors: an ERROR_WORDS word, or the end of a Python exception message."""
    words = set(ERROR_WORDS) | set(MESSAGE_WORDS)
    return [line for line in scan.lines.values() if line.keywords & words]


def render_nothing(result: Result, log_name: str, console: Console) -> None:
    scan = result.scan
    errors = error_looking(scan)
    console.print(f"No known issue matches {escape(log_name)}.")
    console.print(
        f"Looked at {scan.lines_total} lines ({scan.bytes_total} bytes); {len(errors)} of them look like errors."
    )
    if scan.dropped:
        console.print(
            f"The {scan.dropped} earliest distinct error-looking lines were not kept (the log has too many): "
            "explain the part of the log around the crash instead."
        )
    for line in errors[-EVIDENCE_SHOWN:]:
        console.print(f"   [dim]line {line.number}:[/] {escape(line.text[:200])}")
    console.print(
        "Share what rigfit sees of the machine with the log: `rigfit capture -o machine.tar.gz` writes a redacted "
        "archive to attach to your question or bug report."
    )


__all__ = ["SCHEMA", "error_looking", "explain_json", "render_explain", "render_nothing"]
