"""compose.yaml (Compose Specification: no `version:` key): one service per GPU slot, GPU access per backend, the
folders that must outlive the container, a health check, and the port on 127.0.0.1 unless --listen.
"""

from __future__ import annotations

from typing import Any

import yaml

from rigfit.recipes.image import ENV_DIR, JUPYTER_PORT, SSH_PORT, USER
from rigfit.recipes.target import GpuSlot, Target


class _NoAliases(yaml.SafeDumper):
    """Repeated mappings written out in full: `&id001`/`*id001` anchors confuse people reading the file."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(docs: list[Any]) -> str:
    return yaml.dump_all(docs, Dumper=_NoAliases, sort_keys=False, default_flow_style=False, width=200)


HOST_DIRS = {"models": "MODELS_DIR", "outputs": "OUTPUTS_DIR", "state": "STATE_DIR"}
GID_VARS = ("KFD_GID", "RENDER_GID")


def config_env(target: Target) -> dict[str, str]:
    """The plan's settings-file keys as the environment variables the UI also reads (InvokeAI: INVOKEAI_PRECISION)."""
    prefix = target.ui.container.config_env_prefix
    return {f"{prefix}{k.upper()}": v for k, v in target.plan.ui_config.items()} if prefix else {}


def gid_note(target: Target) -> str | None:
    """What to do when the profile lacks the numeric groups of the ROCm device files."""
    if target.backend != "rocm" or target.gids is not None:
        return None
    return (
        "The numeric groups of /dev/kfd and /dev/dri/renderD* are not in this profile: set KFD_GID and RENDER_GID in "
        ".env on the GPU host (`stat -c %g /dev/kfd /dev/dri/renderD*`), or run `rigfit docker` there without --from."
    )


def _gpu_access(target: Target, slot: GpuSlot, service: dict[str, Any]) -> None:
    if target.backend == "cuda":
        device: dict[str, Any] = {"driver": "nvidia", "capabilities": ["gpu"]}
        if slot.runtime_index is None:
            device["count"] = "all" if target.pod else 1
        else:
            device["device_ids"] = [str(slot.runtime_index)]
        service["deploy"] = {"resources": {"reservations": {"devices": [device]}}}
    elif target.backend == "rocm":
        service["devices"] = ["/dev/kfd", "/dev/dri"]
        # the host's numeric groups of /dev/kfd and the render nodes: group names differ between host and image
        service["group_add"] = (
            [str(g) for g in target.gids]
            if target.gids is not None
            else [
                f"${{{var}:?set {var} in .env: stat -c %g {path}}}"
                for var, path in zip(GID_VARS, ("/dev/kfd", "/dev/dri/renderD128"), strict=True)
            ]
        )
        if slot.runtime_index is not None and len(target.slots) > 1:
            service["environment"]["HIP_VISIBLE_DEVICES"] = str(slot.runtime_index)


def _volumes(target: Target, n: int) -> list[str]:
    mounts = target.ui.container.mounts
    many = len(target.slots) > 1
    suffix = f"/gpu{n}" if many else ""
    found = [f"${{MODELS_DIR:-./models}}:{mounts['models']}{':ro' if many else ''}"]
    found += [f"${{{HOST_DIRS[k]}:-./{k}}}{suffix}:{mounts[k]}" for k in ("state", "outputs")]
    found.append(f"cache:/home/{USER}/.cache")
    return found


def _service(target: Target, slot: GpuSlot, n: int) -> dict[str, Any]:
    bind = "" if target.listen or target.pod else "127.0.0.1:"
    login = target.ui.auth_file_flag is not None
    # in a pod a UI without a login stays on the pod's 127.0.0.1 (reached through SSH): nothing to publish
    ports = [f"{bind}{slot.port}:{slot.port}"] if login or not target.pod else []
    if target.pod:
        ports += [f"{JUPYTER_PORT}:{JUPYTER_PORT}", f"{SSH_PORT}:{SSH_PORT}"]
    environment: dict[str, str] = {**target.plan.env, **config_env(target), "UI_PORT": str(slot.port)}
    service: dict[str, Any] = {
        "image": f"{target.name}:local",
        "build": {"context": ".", "dockerfile": "Dockerfile"},  # one image: every service's build hits the cache
        "ports": ports,
        "environment": environment,
        "volumes": _volumes(target, n),
        "shm_size": "8gb",
        "restart": "unless-stopped",
        "healthcheck": {
            "test": ["CMD", f"{ENV_DIR}/bin/python", "/opt/rigfit-image/healthcheck.py"],
            "interval": "30s",
            "timeout": "10s",
            "retries": 3,
            "start_period": "10m",
        },
    }
    if target.listen and target.ui.auth_file_flag:
        environment["UI_LISTEN"] = "1"
        # the login: its value stays in .env; start.sh moves it into a 0600 file and out of the UI's environment
        environment["UI_AUTH"] = "${UI_AUTH:?set UI_AUTH=user:password in .env: the UI is published on every interface}"
    if target.pod:
        for name in ("JUPYTER_TOKEN", "PUBLIC_KEY", *(["UI_AUTH"] if login else [])):
            environment[name] = f"${{{name}:-}}"  # from .env or the pod's settings; empty: made at first start
    _gpu_access(target, slot, service)
    return service


def compose(target: Target) -> dict[str, Any]:
    many = len(target.slots) > 1
    services = {
        (f"{target.plan.ui}-gpu{slot.runtime_index}" if many else target.plan.ui): _service(target, slot, n)
        for n, slot in enumerate(target.slots)
    }
    doc: dict[str, Any] = {"name": target.name, "services": services, "volumes": {"cache": {}}}
    return doc


def compose_yaml(target: Target) -> str:
    head = (
        f"# {target.ui.name} on {target.backend}: written by `rigfit docker`.\n"
        "# Compose Specification (no `version:` key).\n"
        "# docker compose build && docker compose up -d   (see README.md)\n"
    )
    return head + dump_yaml([compose(target)])
