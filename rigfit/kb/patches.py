"""Schema of compatibility patches (rigfit/kb/patches.yaml): exact edits of one installed library file.

A patch applies only to a file whose sha256 is `sha256_before` and must produce `sha256_after`; anything else is a
file rigfit does not know, left untouched. `prefer_pin` names the pins.yaml entry that avoids the patch altogether.
"""

from __future__ import annotations

import re

from rigfit.kb.loader import KbEntry, version_ranges
from rigfit.kb.typed import FieldError
from rigfit.records import record

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@record(frozen=True, kw_only=True)
class Edit:
    """Replace `old` (which must occur exactly once in the file) with `new`."""

    old: str
    new: str


@record(frozen=True, kw_only=True)
class PatchEntry(KbEntry):
    """patches.yaml: exact edits of one file of one package release, checked by hash before and after."""

    package: str  # distribution name as in its dist-info ("gradio_client")
    versions: str  # version range the hashes belong to ("==1.2.0")
    file: str  # path relative to site-packages
    sha256_before: str
    sha256_after: str
    edits: list[Edit]  # at least one
    why: str  # what breaks without it, in words
    issue: str | None = None  # the issues/*.yaml id of the crash it fixes (what `rigfit explain` recognises)
    prefer_pin: str | None = None  # pins.yaml id that makes the patch unnecessary

    def _check(self) -> None:
        for name in ("sha256_before", "sha256_after"):
            if not _SHA256.match(getattr(self, name)):
                raise FieldError(name, f"not a lowercase hex sha256: {getattr(self, name)!r}")
        version_ranges(self, "versions")
        if not self.edits:
            raise FieldError("edits", "a patch needs at least one edit")
