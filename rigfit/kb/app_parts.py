"""Schema of rigfit/kb/app_parts.yaml: folders an app's checkout must hold that a plain download of the app does not
bring (a git submodule, or a repository its README clones into it), read by rigfit/explain/analyzers/app_parts.py."""

from __future__ import annotations

import re
import string
from typing import Literal

from rigfit.kb.loader import KbEntry
from rigfit.kb.typed import FieldError
from rigfit.records import record

APP_PART_FIELDS = frozenset({"checkout", "folder"})  # what a fix may name: read from the log by the analyzer


@record(frozen=True, kw_only=True)
class AppPart(KbEntry):
    """A folder inside an app's checkout that another repository provides (id: app-folder, "kohya_ss-sd-scripts")."""

    app: str  # the app's name as its users know it
    repo: str  # the app's repository
    checkouts: str  # regex of the checkout folder's name (as cloned, or unpacked from a release/branch zip)
    folder: str  # the part's path inside the checkout, "/"-separated ("sd-scripts", "backend/musubi-tuner")
    provided_by: Literal["submodule", "clone"]  # a git submodule, or a clone the app's README asks for
    part_repo: str  # the repository that fills the folder
    meaning: str
    fix: str  # may name {checkout} (the checkout's path in the log) and {folder}
    # regex of a line the app prints at start (doctor: git's "not a git repository" in its start-up means a ZIP)
    banner: str | None = None

    def _check(self) -> None:
        try:
            re.compile(self.checkouts)
        except re.error as exc:
            raise FieldError("checkouts", f"{self.checkouts!r} does not compile: {exc}") from exc
        if self.folder.startswith("/") or "\\" in self.folder or not self.folder.strip("/"):
            raise FieldError("folder", "give the folder relative to the checkout, with / between its parts")
        if self.banner is not None:
            try:
                re.compile(self.banner)
            except re.error as exc:
                raise FieldError("banner", f"{self.banner!r} does not compile: {exc}") from exc
        named = {name for _, name, _, _ in string.Formatter().parse(self.fix) if name}
        if named - APP_PART_FIELDS:
            raise FieldError("fix", f"unknown fields {sorted(named - APP_PART_FIELDS)}; use {sorted(APP_PART_FIELDS)}")


__all__ = ["AppPart"]
