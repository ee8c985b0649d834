"""Fix texts (rigfit/kb/fixes.yaml): what to do about a doctor finding, a plan blocker or a plan advice.

Code asks for the fix of a finding by what it is (`fix_text("kfd-missing", case="container")`), never by entry id,
and fills the template's {name} fields with the facts of this machine.
"""

from __future__ import annotations

import functools
import string

from rigfit.kb.loader import KbEntry, KbError, load_entries
from rigfit.kb.typed import FieldError
from rigfit.records import record


def template_fields(text: str) -> set[str]:
    """The {name} fields of a str.format template."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@record(frozen=True, kw_only=True)
class FixText(KbEntry):
    """fixes.yaml: one fix text, as a str.format template."""

    finding: str  # the id of the finding, blocker or advice it fixes ("cpu.32-bit", "kfd-missing")
    case: str | None = None  # when one finding has several fixes: which situation this one is for
    text: str

    def _check(self) -> None:
        for name in template_fields(self.text):
            if not name.isidentifier():
                raise FieldError("text", f"field {{{name}}} must be a plain name the code fills in")


def fix_texts() -> tuple[FixText, ...]:
    return load_entries("fixes.yaml", FixText)


@functools.cache
def _by_finding() -> dict[tuple[str, str | None], FixText]:
    found: dict[tuple[str, str | None], FixText] = {}
    for entry in fix_texts():
        key = (entry.finding, entry.case)
        if key in found:
            raise KbError(f"fixes.yaml: {entry.id} and {found[key].id} both fix {key[0]} (case {key[1]})")
        found[key] = entry
    return found


def fix_text(finding: str, *, case: str | None = None, **values: object) -> str:
    """The fix for `finding` (in situation `case`), its fields filled from `values`. A KbError here is a bug in
    rigfit: the finding has no fix in fixes.yaml, or the code and the template disagree on the fields."""
    entry = _by_finding().get((finding, case))
    if entry is None:
        raise KbError(f"fixes.yaml has no fix for {finding}" + (f" (case {case})" if case else ""))
    wanted = template_fields(entry.text)
    if wanted != set(values):
        raise KbError(f"fixes.yaml {entry.id}: the text fills {sorted(wanted)}, the code gives {sorted(values)}")
    return entry.text.format(**values)
