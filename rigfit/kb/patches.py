"""Schema of compatibility patches (rigfit/kb/patches.yaml): exact edits of one installed library file.

A patch applies only to a file whose sha256 is `sha256_before` and must produce `sha256_after`; anything else is a
file rigfit does not know, left untouched. `prefer_pin` names the pins.yaml entry that avoids the patch altogether.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rigfit.kb.loader import KbEntry, version_range

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Edit(BaseModel):
    """Replace `old` (which must occur exactly once in the file) with `new`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    old: str
    new: str


class PatchEntry(KbEntry):
    package: str  # distribution name as in its dist-info ("gradio_client")
    versions: str  # version range the hashes belong to ("==1.2.0")
    file: str  # path relative to site-packages
    sha256_before: str
    sha256_after: str
    edits: list[Edit] = Field(min_length=1)
    why: str  # what breaks without it, in words
    issue: str | None = None  # the issues/*.yaml id of the crash it fixes (what `rigfit explain` recognises)
    prefer_pin: str | None = None  # pins.yaml id that makes the patch unnecessary

    @field_validator("sha256_before", "sha256_after")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _SHA256.match(value):
            raise ValueError(f"not a lowercase hex sha256: {value!r}")
        return value

    @field_validator("versions")
    @classmethod
    def _range(cls, value: str) -> str:
        version_range(value)
        return value
