"""The errors an install reports as one clear message (each names the cause and the fix)."""

from __future__ import annotations

from rigfit.env.disk import DiskError
from rigfit.env.install import InstallError
from rigfit.env.installer import InstallerError
from rigfit.env.lock import LockError
from rigfit.env.overrides import ConflictError
from rigfit.env.protect import ProtectError
from rigfit.env.record import EnvRecordError
from rigfit.env.ui_source import SourceError
from rigfit.env.venv import VenvError
from rigfit.env.wheels import WheelError

INSTALL_ERRORS = (
    DiskError,
    InstallError,
    InstallerError,
    LockError,
    ConflictError,
    ProtectError,
    EnvRecordError,
    SourceError,
    VenvError,
    WheelError,
)
