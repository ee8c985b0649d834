"""Create (or update) the administrator account of an InvokeAI root, for `rigfit launch invokeai --listen`.

InvokeAI's multiuser mode (invokeai.yaml `multiuser: true`, 6.x) logs people in with accounts kept in its own
database. With no administrator yet, its web page offers "set up the administrator" to whoever comes first: on a
network that is anyone. So the account exists before the UI starts: its database is created if InvokeAI never
ran there (its own migrations, as at its start) and the user made an administrator with the given password.

Run by the env's Python: `python invokeai_account.py ROOT EMAIL`, the password in RIGFIT_ACCOUNT_PASSWORD (not on
the command line, where other users could read it). Prints one RIGFIT-RESULT line: {"created": bool} or {"error"}.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

from worker_io import reported


def has_users_table(db_path: Path) -> bool:
    if not db_path.is_file():
        return False
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone() is not None


def ensure_admin(root: str, email: str, password: str) -> dict:
    os.environ["INVOKEAI_ROOT"] = root
    from invokeai.app.services.config import get_config
    from invokeai.app.services.image_files.image_files_disk import DiskImageFileStorage
    from invokeai.app.services.shared.sqlite.sqlite_database import SqliteDatabase
    from invokeai.app.services.shared.sqlite.sqlite_util import init_db
    from invokeai.app.services.users.users_common import UserCreateRequest, UserUpdateRequest
    from invokeai.app.services.users.users_default import UserService
    from invokeai.backend.util.logging import InvokeAILogger

    config = get_config()
    logger = InvokeAILogger.get_logger()
    if has_users_table(config.db_path):  # InvokeAI ran here before: its database is there (migrations import torch)
        db = SqliteDatabase(config.db_path, logger)
    else:
        db = init_db(config=config, logger=logger, image_files=DiskImageFileStorage(config.outputs_path / "images"))
    users = UserService(db)
    user = users.get_by_email(email)
    if user is None:
        users.create(UserCreateRequest(email=email, password=password, is_admin=True))
        return {"created": True, "db": str(config.db_path)}
    users.update(user.user_id, UserUpdateRequest(password=password, is_admin=True, is_active=True))
    return {"created": False, "db": str(config.db_path)}


if __name__ == "__main__":
    with reported({}) as result:
        result.update(ensure_admin(sys.argv[1], sys.argv[2], os.environ["RIGFIT_ACCOUNT_PASSWORD"]))
