"""The UI's own login for `--listen`: a password generated once (shown once, kept 0600) or the user's own."""

from __future__ import annotations

import secrets
from pathlib import Path

from rigfit.kb.schemas import UiEntry
from rigfit.launch.state import write_private
from rigfit.paths import data_dir
from rigfit.records import record

DEFAULT_USER = "rigfit"


class AuthError(Exception):
    """The credentials given cannot be used; the message says how to give them."""


@record(frozen=True)
class Credentials:
    user: str
    password: str
    generated: bool  # made now: show it once
    path: Path  # where it is kept (0600)

    @property
    def pair(self) -> str:
        return f"{self.user}:{self.password}"


def auth_file(ui: str) -> Path:
    return data_dir() / "auth" / f"{ui}.txt"


def ui_has_auth(ui: UiEntry) -> bool:
    return bool(ui.flags.get("net.auth"))


def credentials(ui: str, given: str | None, default_user: str = DEFAULT_USER) -> Credentials:
    """The user's `USER:PASSWORD`, else the one kept from an earlier launch, else a new generated one."""
    path = auth_file(ui)
    if given is not None:
        user, sep, password = given.partition(":")
        if not sep or not user or not password:
            raise AuthError(f"--auth '{given}' is not USER:PASSWORD: give both, separated by a colon")
        write_private(path, f"{user}:{password}\n")
        return Credentials(user, password, False, path)
    if path.is_file():
        user, _, password = path.read_text(encoding="utf-8").strip().partition(":")
        if user and password:
            return Credentials(user, password, False, path)
    write_private(path, f"{default_user}:{(password := generated_password())}\n")
    return Credentials(default_user, password, True, path)


def generated_password() -> str:
    """20 random characters with an upper- and a lower-case letter and a digit (InvokeAI requires all three)."""
    while True:
        password = secrets.token_urlsafe(15)
        if all(any(test(c) for c in password) for test in (str.isupper, str.islower, str.isdigit)):
            return password


def ensure_account(ui: UiEntry, python: str, root: Path, creds: Credentials, timeout: float = 600.0) -> str | None:
    """For a UI whose login is an account in its own database: create it (or set its password) before the UI starts,
    so nobody on the network can claim the first administrator. The error, or None when the account is ready."""
    if ui.auth_account is None:
        return None
    from rigfit.proc.worker import WORKERS_DIR, run_worker

    result = run_worker(
        python,
        WORKERS_DIR / ui.auth_account.worker,
        [str(root), creds.user],
        timeout=timeout,
        env={"RIGFIT_ACCOUNT_PASSWORD": creds.password},
    )
    error = (result.data or {}).get("error") if result.ok else f"{result.describe()}: {result.output_tail[-600:]}"
    return str(error) if error else None


def auth_args(ui: UiEntry, creds: Credentials) -> tuple[list[str], list[str]]:
    """The UI's flags that turn on its login for the web page and its API: (flags safe on a command line, flags
    holding the password). The web login names the 0600 file when the UI reads one (--gradio-auth-path); a login
    with no file form (--api-auth) holds the password: it must not go where `ps` shows it to every user."""

    def flags(setting: str) -> list[str]:  # "config:..." entries are settings-file keys, not flags
        return [f for f in ui.flags.get(setting, []) if not f.startswith("config:")]

    public: list[str] = []
    secret: list[str] = []
    if flags("net.auth_file"):
        public += [*flags("net.auth_file"), str(creds.path)]
    elif flags("net.auth"):
        secret += [*flags("net.auth"), creds.pair]
    if flags("net.api_auth"):
        secret += [*flags("net.api_auth"), creds.pair]
    return public, secret


def redact(argv: list[str], creds: Credentials | None) -> list[str]:
    """The command with the password replaced by ***, for state files and screens."""
    return [redact_text(arg, creds) for arg in argv]


def redact_text(text: str, creds: Credentials | None) -> str:
    """A log line or tail with the password replaced by *** (the UI may print its arguments: Forge does)."""
    return text.replace(creds.password, "***") if creds is not None else text
