"""The image: a Dockerfile that installs rigfit and then the UI the way `rigfit install` does, and the scripts the
container runs (start, health check; with --pod Jupyter Lab and SSH beside the UI).

Inside the container the UI always listens on all of the container's interfaces (a published port reaches nothing
else); who can reach it is decided by the host port binding and, off localhost, by the UI's login.
"""

from __future__ import annotations

import shlex

from rigfit.kb.recipes import base_image
from rigfit.plan.model import Plan
from rigfit.recipes.target import Target

ENV_DIR = "/opt/sd"  # the UI env: a venv with the checkout in ENV_DIR/ui (rigfit's env contract)
RIGFIT_DIR = "/opt/rigfit"
SCRIPTS_DIR = "/opt/rigfit-image"
JUPYTER_DIR = "/opt/jupyter"
USER, UID = "sd", 1000
AUTH_FILE = "/home/sd/.ui_auth"  # where start.sh puts the login from UI_AUTH (0600), then unsets UI_AUTH
PINS_FILE = "requirements-pins.txt"
JUPYTER_PORT, SSH_PORT = 8888, 2222


def torch_requirements(plan: Plan) -> list[str]:
    """The plan's torch packages as exact requirements (the local version names the build: 1.13.1+rocm5.2)."""
    torch = plan.torch
    local = f"+{torch.variant}" if torch.variant else ""
    found = [f"torch=={torch.version}{local}"]
    for name, version in (("torchvision", torch.torchvision), ("torchaudio", torch.torchaudio)):
        if version:
            found.append(f"{name}=={version}{local}")
    if not torch.torchvision:
        found.append("torchvision")  # resolved against the torch above when the wheel is downloaded
    return found


def pin_lines(plan: Plan) -> list[str]:
    """Requirement lines of the plan's install steps after the torch line (pins, extras, their wheel indexes)."""
    lines: list[str] = []
    for step in plan.torch.install[1:]:
        words = shlex.split(step)
        if "install" not in words:
            continue
        words = words[words.index("install") + 1 :]
        skip_next = False
        for n, word in enumerate(words):
            if skip_next:
                skip_next = False
                continue
            if word in ("-f", "--find-links"):
                line, skip_next = f"--find-links {words[n + 1]}", True
            elif word.startswith("-"):
                continue  # --no-index / --no-cache-dir / --no-build-isolation: how, not what
            else:
                line = word
            if line not in lines:
                lines.append(line)
    return lines


def pins_file(target: Target) -> str:
    plan = target.plan
    reasons = [r.text for d in plan.decisions if d.topic == "pins" for r in d.reasons]
    head = [
        f"# The plan's pins for {target.ui.name} on torch {plan.torch.version} (`rigfit plan`), installed by",
        "# `rigfit add` under the same torch protection. Why each one:",
    ]
    return "\n".join(head + [f"#   {r}" for r in reasons] + pin_lines(plan)) + "\n"


def _apt(packages: list[str]) -> str:
    return (
        "# hadolint ignore=DL3008\n"
        "RUN apt-get update \\\n"
        f"    && apt-get install -y --no-install-recommends {' '.join(packages)} \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )


def _torch_install(target: Target) -> str:
    plan = target.plan
    reqs = torch_requirements(plan)
    pinned = "torchvision" not in reqs
    wheels = [r.split("==")[0] for r in reqs]
    index = plan.torch.index_url or "https://download.pytorch.org/whl/cpu"
    download = (
        "python -m pip download --no-cache-dir --dest /tmp/wheels --only-binary=:all:"
        f"{' --no-deps' if pinned else ''} \\\n"
        f"        --index-url {index} --extra-index-url https://pypi.org/simple \\\n"
        f"        {' '.join(shlex.quote(r) for r in reqs)}"
    )
    given = " ".join(f"--torch-wheel /tmp/wheels/{name}-*.whl" for name in wheels)
    return (
        f"# the plan's torch ({plan.torch.version} {plan.torch.variant or ''}), given to `rigfit install` as\n"
        "# wheels: it installs the UI and its requirements around them and refuses any step that would replace them\n"
        f"RUN {download} \\\n"
        f"    && {RIGFIT_DIR}/bin/rigfit install {plan.ui} --env {ENV_DIR} \\\n"
        f"        {given} \\\n"
        "    && rm -rf /tmp/wheels\n"
    )


def dockerfile(target: Target) -> str:
    plan, ui, base = target.plan, target.ui, base_image()
    packages = base.packages + (base.pod_packages if target.pod else [])
    dirs = [ENV_DIR, "/data", *sorted(set(ui.container.mounts.values()) - {f"{ENV_DIR}/ui/models"})]
    if target.pod:
        dirs.append(JUPYTER_DIR)
    parts = [
        "# syntax=docker/dockerfile:1\n"
        f"# {ui.name} on {plan.backend} ({plan.device.name}): the stack `rigfit plan` chose, installed by rigfit.\n"
        "# Written by `rigfit docker`; see README.md (build, run, update, where the models go).\n"
        f"FROM {base.image.format(python=target.python)}\n\n"
        "ENV PYTHONUNBUFFERED=1 \\\n    PIP_NO_CACHE_DIR=1 \\\n    PIP_DISABLE_PIP_VERSION_CHECK=1\n\n"
        "# git: rigfit install clones the UI and the repositories its launcher needs",
        _apt(packages),
        "# rigfit itself, from the copy of its source in this build context, in its own venv\n"
        "COPY rigfit-src /tmp/rigfit-src\n"
        f"RUN python -m venv {RIGFIT_DIR} \\\n"
        f"    && {RIGFIT_DIR}/bin/pip install --no-cache-dir /tmp/rigfit-src \\\n"
        "    && rm -rf /tmp/rigfit-src\n",
        f"# the UI runs as {USER} (uid {UID}), never root; it owns only its env and /data\n"
        f"RUN useradd --create-home --uid {UID} --user-group --shell /bin/bash {USER} \\\n"
        f"    && install -d -o {USER} -g {USER} {' '.join(dirs)}\n\n"
        f"USER {UID}:{UID}\nWORKDIR /home/{USER}\n",
        _torch_install(target),
    ]
    if pin_lines(plan):
        parts.append(
            f"COPY --chown={USER}:{USER} {PINS_FILE} /tmp/{PINS_FILE}\n"
            f"RUN {RIGFIT_DIR}/bin/rigfit add --env {ENV_DIR} -r /tmp/{PINS_FILE}\n"
        )
    parts.append(
        "# OpenCV without its GUI half (a server image has no X11/libGL): the headless build only\n"
        f"RUN {RIGFIT_DIR}/bin/uv pip uninstall --python {ENV_DIR}/bin/python \\\n"
        "        opencv-python opencv-contrib-python opencv-python-headless \\\n"
        f"    && {RIGFIT_DIR}/bin/rigfit add --env {ENV_DIR} opencv-python-headless\n"
    )
    if target.pod:
        parts.append(_pod_layers())
    cmd = f"{SCRIPTS_DIR}/pod-start.sh" if target.pod else f"{SCRIPTS_DIR}/start.sh"
    ports = " ".join(str(p) for p in [ui.port, *([JUPYTER_PORT, SSH_PORT] if target.pod else [])])
    parts.append(
        f"COPY start.sh healthcheck.py{' pod-start.sh jupyter_server_config.py sshd_config' if target.pod else ''}"
        f" {SCRIPTS_DIR}/\n"
        f"ENV UI_PORT={ui.port}\n"
        f"EXPOSE {ports}\n"
        "HEALTHCHECK --interval=30s --timeout=10s --start-period=10m --retries=3 \\\n"
        f'    CMD ["{ENV_DIR}/bin/python", "{SCRIPTS_DIR}/healthcheck.py"]\n'
        f'CMD ["{cmd}"]\n'
    )
    return "\n".join(parts)


def _pod_layers() -> str:
    pip = " ".join(shlex.quote(p) for p in base_image().pod_pip)
    return (
        "# Jupyter Lab in its own venv (it never touches the UI's packages); the UI env as its kernel\n"
        f"RUN python -m venv {JUPYTER_DIR} \\\n"
        f"    && {JUPYTER_DIR}/bin/pip install --no-cache-dir {pip} \\\n"
        f"    && {RIGFIT_DIR}/bin/rigfit add --env {ENV_DIR} ipykernel \\\n"
        f"    && {ENV_DIR}/bin/python -m ipykernel install --prefix {JUPYTER_DIR} --name sd --display-name 'SD env'\n"
    )


def _ui_argv(target: Target) -> list[str]:
    ui, plan = target.ui, target.plan
    host = "127.0.0.1" if target.pod and ui.auth_file_flag is None else "0.0.0.0"
    fill = {"{python}": f"{ENV_DIR}/bin/python", "{env}": ENV_DIR, "{port}": "${UI_PORT}"}
    argv = []
    for word in [*ui.container.command, *ui.container.args, *plan.ui_flags]:
        word = fill.get(word, word.replace("{env}", ENV_DIR))
        argv.append(host if word == "0.0.0.0" else word)
    return argv


def _sh_word(word: str) -> str:
    return '"${UI_PORT}"' if word == "${UI_PORT}" else shlex.quote(word)


def start_script(target: Target) -> str:
    ui = target.ui
    host = "127.0.0.1" if target.pod and ui.auth_file_flag is None else "0.0.0.0"
    exports = [
        f"export {k}={_sh_word('${UI_PORT}') if v == '{port}' else shlex.quote(host if v == '0.0.0.0' else v)}"
        for k, v in ui.container.env.items()
    ]
    argv = " \\\n    ".join(_sh_word(w) for w in _ui_argv(target))
    auth = ""
    if ui.auth_file_flag:
        auth = (
            'if [ "${UI_LISTEN:-0}" = 1 ]; then\n'
            f'    auth_file="${{UI_AUTH_FILE:-{AUTH_FILE}}}"\n'
            '    if [ -n "${UI_AUTH:-}" ]; then\n'
            '        (umask 077 && printf \'%s\\n\' "$UI_AUTH" > "$auth_file")\n'
            "    fi\n"
            "    unset UI_AUTH\n"
            '    if [ ! -s "$auth_file" ]; then\n'
            f'        echo "error: {ui.name} is published beyond localhost but $auth_file is empty: set'
            ' UI_AUTH=user:password in .env (next to compose.yaml), then docker compose up -d again." >&2\n'
            "        exit 1\n"
            "    fi\n"
            f'    set -- "$@" {ui.auth_file_flag} "$auth_file"\n'
            "fi\n"
        )
    return (
        "#!/bin/sh\n"
        f"# Starts {ui.name} with the plan's flags (written by `rigfit docker`).\n"
        "set -eu\n"
        + (f"cd {ENV_DIR}/ui\n" if ui.container.command[0] == "{python}" else "")  # a script of the checkout
        + "".join(f"{line}\n" for line in exports)
        + f"set -- {argv}\n"
        + auth
        + 'exec "$@"\n'
    )


def healthcheck_script(target: Target) -> str:
    return (
        f'"""Health check: {target.ui.name} answers {target.ui.health} (401 counts: it is up, behind its login)."""\n\n'
        "import os\nimport sys\nimport urllib.error\nimport urllib.request\n\n"
        f"URL = f\"http://127.0.0.1:{{os.environ.get('UI_PORT', '{target.ui.port}')}}{target.ui.health}\"\n"
        "try:\n"
        "    with urllib.request.urlopen(URL, timeout=8) as reply:\n"
        "        sys.exit(0 if reply.status < 400 else 1)\n"
        "except urllib.error.HTTPError as exc:\n"
        "    sys.exit(0 if exc.code == 401 else 1)\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )


def pod_start_script(target: Target) -> str:
    """Jupyter Lab (token from JUPYTER_TOKEN, else random at first start), SSH only with PUBLIC_KEY, then the UI
    with a login (UI_AUTH, else a random password made at first start)."""
    ui_login = ""
    if target.ui.auth_file_flag:
        ui_login = (
            "# the UI's login: UI_AUTH=user:password, else a random password made at first start\n"
            'if [ -n "${UI_AUTH:-}" ]; then\n'
            '    (umask 077 && printf \'%s\\n\' "$UI_AUTH" > "$state/ui_auth")\n'
            'elif [ ! -s "$state/ui_auth" ]; then\n'
            '    (umask 077 && printf \'sd:%s\\n\' "$(random_secret)" > "$state/ui_auth")\n'
            '    echo "UI login (random, made at first start; set UI_AUTH to choose): $(cat "$state/ui_auth")"\n'
            "fi\n"
            'export UI_LISTEN=1 UI_AUTH_FILE="$state/ui_auth"\n'
        )
    return (
        "#!/bin/sh\n"
        "# Rented-GPU pod: Jupyter Lab and (with a key) SSH beside the UI. Written by `rigfit docker --pod`.\n"
        "set -eu\n"
        "state=/data/state/pod\n"
        'mkdir -p "$state"\n'
        "random_secret() {\n"
        f"    {ENV_DIR}/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))'\n"
        "}\n"
        "# Jupyter's token: JUPYTER_TOKEN, else a random one made at first start and kept on the volume\n"
        'if [ -z "${JUPYTER_TOKEN:-}" ]; then\n'
        '    if [ ! -s "$state/jupyter_token" ]; then\n'
        '        (umask 077 && random_secret > "$state/jupyter_token")\n'
        "    fi\n"
        '    JUPYTER_TOKEN="$(cat "$state/jupyter_token")"\n'
        '    echo "Jupyter Lab token (random, made at first start; set JUPYTER_TOKEN to choose): $JUPYTER_TOKEN"\n'
        "fi\n"
        "export JUPYTER_TOKEN\n"
        "# SSH: only with a provided public key, never a password\n"
        'if [ -n "${PUBLIC_KEY:-}" ]; then\n'
        '    mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"\n'
        '    printf \'%s\\n\' "$PUBLIC_KEY" > "$HOME/.ssh/authorized_keys" && chmod 600 "$HOME/.ssh/authorized_keys"\n'
        '    if [ ! -s "$state/ssh_host_ed25519_key" ]; then\n'
        "        ssh-keygen -q -t ed25519 -N '' -f \"$state/ssh_host_ed25519_key\"\n"
        "    fi\n"
        f'    /usr/sbin/sshd -f {SCRIPTS_DIR}/sshd_config -h "$state/ssh_host_ed25519_key"\n'
        "else\n"
        '    echo "SSH is off: set PUBLIC_KEY to your public key to turn it on (passwords are never accepted)."\n'
        "fi\n"
        + ui_login
        + f"{JUPYTER_DIR}/bin/jupyter lab --config={SCRIPTS_DIR}/jupyter_server_config.py &\n"
        + f"exec {SCRIPTS_DIR}/start.sh\n"
    )


def jupyter_config() -> str:
    return (
        "# Jupyter Lab of the pod (written by `rigfit docker --pod`). No token here: Jupyter reads JUPYTER_TOKEN,\n"
        "# which pod-start.sh takes from the pod's environment or makes at random at first start.\n"
        "c = get_config()  # noqa: F821\n"
        'c.ServerApp.ip = "0.0.0.0"\n'
        f"c.ServerApp.port = {JUPYTER_PORT}\n"
        "c.ServerApp.open_browser = False\n"
        'c.ServerApp.root_dir = "/data"\n'
        "c.ServerApp.allow_remote_access = True\n"
    )


def sshd_config() -> str:
    return (
        f"# sshd of the pod, run by {USER} (not root): keys only, this user only. Written by `rigfit docker --pod`.\n"
        f"Port {SSH_PORT}\n"
        "PidFile /tmp/sshd.pid\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\n"
        "PermitRootLogin no\n"
        "UsePAM no\n"
        f"AllowUsers {USER}\n"
        "AuthorizedKeysFile .ssh/authorized_keys\n"
    )
