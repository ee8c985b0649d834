"""`rigfit launch --script FILE`: the same start as a shell script, every line with a comment saying why.

The script reads the password from rigfit's 0600 file at run time (never written into the script), starts the UI
in the foreground with `exec`, and kills nothing: no killall, no pkill.
"""

from __future__ import annotations

import shlex

from rigfit.env.record import EnvRecord
from rigfit.kb.schemas import UiEntry
from rigfit.launch.auth import Credentials
from rigfit.launch.launcher import LaunchCommand

SETTING_WHY = {
    "memory": "memory mode the plan chose for this device",
    "precision": "precision the plan chose for this device",
    "attention": "attention implementation the plan chose for this torch",
    "device": "the device the plan chose",
    "install": "the launcher installs and clones nothing: rigfit installed everything, torch included",
    "net": "network setting",
}
ENV_WHY = {
    "PYTHONUNBUFFERED": "write the log as it happens, not in blocks",
    "GRADIO_ANALYTICS_ENABLED": "send no usage statistics to gradio's servers (and wait for none offline)",
    "HSA_OVERRIDE_GFX_VERSION": "let ROCm use the kernels of a close GPU ISA for this card (from the plan)",
}


def flag_reason(flag: str, ui: UiEntry, launched: LaunchCommand) -> str:
    if flag in launched.why:
        return launched.why[flag]
    if flag in ui.keep_torch_flags:
        return "keeps the UI's launcher from installing or replacing torch"
    for setting, flags in ui.flags.items():
        if flags and flags[0] == flag:
            return f"{SETTING_WHY.get(setting.split('.')[0], 'from the plan')} ({setting})"
    return "from the plan (rigfit-env.json launch_args)"


def _arg_lines(argv: list[str], ui: UiEntry, launched: LaunchCommand, creds: Credentials | None) -> list[str]:
    lines: list[str] = []
    i = 0
    while i < len(argv):
        flag = argv[i]
        values = []
        while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            values.append(argv[i + 1])
            i += 1
        i += 1
        if creds is not None and creds.pair in values:
            shown = ['"$auth"' if v == creds.pair else shlex.quote(v) for v in values]
        else:
            shown = [shlex.quote(v) for v in values]
        lines.append(f"  # {flag_reason(flag, ui, launched)}")
        lines.append("  " + " ".join([shlex.quote(flag), *shown]))
    return lines


def _login_lines(launched: LaunchCommand, creds: Credentials) -> list[str]:
    lines = [
        "# the login rigfit keeps (0600) for the UI on the network: read here, never written in this file",
        f"auth=$(<{shlex.quote(str(creds.path))})",
    ]
    if not launched.env_secret:
        return lines
    lines += [
        "# flags holding the password go in the environment the UI reads extra flags from, not on its command line",
        "# (`ps` shows every user the command line; only you can read the environment)",
        'printf -v auth_q %q "$auth"',
    ]
    for name, value in launched.env_secret.items():
        words = ["$auth_q" if word == creds.pair else shlex.quote(word) for word in shlex.split(value)]
        lines.append(f'export {name}="${{{name}:+${name} }}{" ".join(words)}"')
    return lines


def launch_script(record: EnvRecord, ui: UiEntry, launched: LaunchCommand, creds: Credentials | None) -> str:
    own = 2 if launched.argv[0] == record.python else 1  # `python launch.py`, or the UI's own script (invokeai-web)
    program, rest = launched.argv[:own], launched.argv[own:]
    lines = [
        "#!/usr/bin/env bash",
        f"# Start {ui.name} the way `rigfit launch` does (env {record.env_dir}).",
        "# Stop it with Ctrl-C: it runs in the foreground and kills nothing else.",
        "",
        "# stop at the first error, and on an unset variable",
        "set -euo pipefail",
        "",
        "# the UI resolves its folders (models, outputs) relative to its checkout",
        f"cd {shlex.quote(str(launched.cwd))}",
    ]
    for name, value in launched.env_added.items():
        why = launched.why.get(name) or ENV_WHY.get(name, "from the plan (rigfit-env.json launch_env)")
        lines.append(f"# {why}")
        lines.append(f"export {name}={shlex.quote(value)}")
    if creds is not None and ui.auth_account is None:
        lines += _login_lines(launched, creds)
    elif creds is not None:
        lines.append(f"# the login is the account {creds.user} in the UI's own database (rigfit made it; password in")
        lines.append(f"# {creds.path})")
    lines += ["", "# the UI's flags, one per line"]
    lines.append("args=(")
    lines += _arg_lines(rest, ui, launched, creds)
    lines.append(")")
    lines += [
        "",
        "# the env's own interpreter runs the UI (not the system python); extra arguments pass through",
        f'exec {" ".join(shlex.quote(p) for p in program)} "${{args[@]}}" "$@"',
        "",
    ]
    return "\n".join(lines)
