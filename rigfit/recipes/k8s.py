"""Kubernetes manifests for an existing cluster (written, never applied): one Deployment per GPU class with the device
plugin's GPU limit and the labeller's node labels, the plan's env per class, a readiness probe on the UI's health
endpoint, one Service over all of them, PersistentVolumeClaims for models (ReadOnlyMany) and outputs, and the login
from a Secret the person creates (no secret is ever written into these files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rigfit.kb.recipes import GpuClass, gpu_classes
from rigfit.paths import write_atomic
from rigfit.plan.knowledge import wheel
from rigfit.plan.model import PlanOptions
from rigfit.probe.profile import Profile
from rigfit.recipes.compose import config_env, dump_yaml
from rigfit.recipes.image import ENV_DIR, UID
from rigfit.recipes.target import RecipeError, Target, make_target

AUTH_DIR = "/run/secrets/ui_auth"
CLASS_OF = {"rocm": "amd", "cuda": "nvidia"}
VRAM_SIZES_GIB = (4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 192)


def amd_family(cls: GpuClass, gfx: str | None) -> str | None:
    """The labeller's family acronym of a gfx target (longest matching prefix), None when unknown."""
    if not gfx:
        return None
    matches = [prefix for prefix in cls.families if gfx.startswith(prefix)]
    return cls.families[max(matches, key=len)] if matches else None


def _nvidia_terms(cls: GpuClass, target: Target) -> list[dict[str, Any]]:
    """One term (its expressions ANDed): a compute capability major the torch wheel has kernels for, enough VRAM."""
    expressions: list[dict[str, Any]] = []
    line = target.plan.torch.kb
    majors = sorted({a.split(".")[0] for a in wheel(line).cuda_archs}, key=int) if line else []
    if cls.compute_major_label and majors:
        expressions.append({"key": cls.compute_major_label, "operator": "In", "values": majors})
    vram = target.plan.device.vram_bytes
    if cls.memory_label and vram:  # MiB, an integer label: Gt works
        expressions.append({"key": cls.memory_label, "operator": "Gt", "values": [str(vram // 2**20 - 1)]})
    return [{"matchExpressions": expressions}] if expressions else []


def _affinity_terms(cls: GpuClass, target: Target) -> list[dict[str, Any]]:
    """Node selector terms (ORed) for a GPU the plan's torch runs on, with at least the plan's VRAM."""
    if cls.backend == "cuda":
        return _nvidia_terms(cls, target)
    vram = target.plan.device.vram_bytes
    if not vram:
        return []
    gib = vram / 2**30
    if cls.vram_label:  # AMD labeller: one label per size: any size at least this one
        keys = [cls.vram_label.format(gib=size) for size in VRAM_SIZES_GIB if size >= round(gib)]
        return [{"matchExpressions": [{"key": key, "operator": "Exists"}]} for key in keys]
    return []


def _placement(cls: GpuClass, target: Target, notes: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    family = amd_family(cls, target.plan.device.gfx) if cls.family_label else None
    if cls.family_label and family:
        spec["nodeSelector"] = {cls.family_label.format(family=family): "1"}
    elif cls.family_label:
        notes.append(
            f"{cls.id}: the labeller family of {target.plan.device.gfx or 'this GPU'} is not in rigfit's table: the "
            "Deployment is not pinned to a GPU family; add a nodeSelector for your nodes."
        )
    terms = _affinity_terms(cls, target)
    if terms:
        spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        }
    return spec


def _container(cls: GpuClass, target: Target, image: str) -> dict[str, Any]:
    ui = target.ui
    values = {**target.plan.env, **config_env(target), "UI_PORT": str(ui.port)}
    env = [{"name": k, "value": v} for k, v in values.items()]
    mounts = [
        {"name": "models", "mountPath": ui.container.mounts["models"], "readOnly": True},
        {"name": "state", "mountPath": ui.container.mounts["state"]},
        {"name": "outputs", "mountPath": ui.container.mounts["outputs"]},
        {"name": "cache", "mountPath": "/home/sd/.cache"},
    ]
    if ui.auth_file_flag:
        env += [{"name": "UI_LISTEN", "value": "1"}, {"name": "UI_AUTH_FILE", "value": f"{AUTH_DIR}/auth"}]
        mounts.append({"name": "ui-auth", "mountPath": AUTH_DIR, "readOnly": True})
    return {
        "name": ui.id,
        "image": image,
        "ports": [{"name": "http", "containerPort": ui.port}],
        "env": env,
        "resources": {"limits": {cls.resource: 1}},
        "readinessProbe": {
            "exec": {"command": [f"{ENV_DIR}/bin/python", "/opt/rigfit-image/healthcheck.py"]},
            "initialDelaySeconds": 30,
            "periodSeconds": 15,
            "timeoutSeconds": 10,
        },
        "volumeMounts": mounts,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


def deployment(cls: GpuClass, target: Target, replicas: int, image: str, notes: list[str]) -> dict[str, Any]:
    app = f"rigfit-{target.plan.ui}"
    name = f"{app}-{cls.id}"
    seccomp = str(cls.pod_security.get("seccomp", "RuntimeDefault"))
    volumes: list[dict[str, Any]] = [
        {"name": "models", "persistentVolumeClaim": {"claimName": f"{app}-models", "readOnly": True}},
        {"name": "outputs", "persistentVolumeClaim": {"claimName": f"{app}-outputs"}},
        {"name": "state", "emptyDir": {}},
        {"name": "cache", "emptyDir": {}},
    ]
    if target.ui.auth_file_flag:
        volumes.append({"name": "ui-auth", "secret": {"secretName": f"{app}-auth", "defaultMode": 0o400}})
    pod_spec: dict[str, Any] = {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": seccomp},
            # the node's numeric groups of /dev/kfd and the render nodes (ROCm), as the profile recorded them
            **({"supplementalGroups": target.gids} if target.gids else {}),
        },
        "containers": [_container(cls, target, image)],
        "volumes": volumes,
        **_placement(cls, target, notes),
    }
    labels = {"app.kubernetes.io/name": app, "rigfit.dev/gpu-class": cls.id}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def service(target: Target) -> dict[str, Any]:
    app = f"rigfit-{target.plan.ui}"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app, "labels": {"app.kubernetes.io/name": app}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": app},  # every GPU class's pods
            "ports": [{"name": "http", "port": target.ui.port, "targetPort": "http"}],
        },
    }


def claim(name: str, mode: str, size: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": [mode], "resources": {"requests": {"storage": size}}},
    }


def targets_for(profile: Profile, options: PlanOptions, classes: list[str]) -> list[tuple[GpuClass, Target]]:
    known = gpu_classes()
    if not classes:
        own = make_target(profile, options).backend
        if own not in CLASS_OF:
            raise RecipeError(
                "the plan for this machine runs on the CPU: name the cluster's GPUs with --gpu-class amd and/or "
                "--gpu-class nvidia (a capture of a GPU node with --from gives the right torch line)."
            )
        classes = [CLASS_OF[own]]
    return [(known[c], make_target(profile, options, backend=known[c].backend)) for c in dict.fromkeys(classes)]


def manifests(
    profile: Profile, options: PlanOptions, classes: list[str], replicas: int, image: str | None
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """{file name: documents}, and notes for the person."""
    notes: list[str] = []
    pairs = targets_for(profile, options, classes)
    first = pairs[0][1]
    app = f"rigfit-{first.plan.ui}"
    files = {
        f"deployment-{cls.id}.yaml": [deployment(cls, t, replicas, image or f"{t.name}:local", notes)]
        for cls, t in pairs
    }
    files["service.yaml"] = [service(first)]
    files["storage.yaml"] = [
        claim(f"{app}-models", "ReadOnlyMany", "100Gi"),
        claim(f"{app}-outputs", "ReadWriteMany", "50Gi"),
    ]
    notes.append(
        "The claims need a storage class with ReadOnlyMany/ReadWriteMany (NFS, CephFS...): fill the models volume once "
        "(e.g. from a pod mounting it read-write), then every replica reads it."
    )
    if first.ui.auth_file_flag:
        notes.append(
            f"Create the login first (not written here): kubectl create secret generic {app}-auth "
            "--from-literal=auth='user:a-long-password'"
        )
    else:
        notes.append(f"{first.ui.name} has no login: keep the Service ClusterIP; reach it with kubectl port-forward.")
    for _, t in pairs:
        notes += [n for n in t.notes if n not in notes]
        if t.backend == "rocm" and t.gids is None:
            notes.append(
                "ROCm pods run as uid 1000: add the GPU nodes' numeric groups of /dev/kfd and /dev/dri/renderD* "
                "(`stat -c %g /dev/kfd /dev/dri/renderD*` on a node) to the pod's securityContext.supplementalGroups."
            )
    return files, notes


def write_manifests(
    profile: Profile, options: PlanOptions, classes: list[str], replicas: int, image: str | None, out: Path
) -> tuple[list[Path], list[str]]:
    files, notes = manifests(profile, options, classes, replicas, image)
    written = []
    notes_text = "".join(f"- {note}\n" for note in notes)
    write_atomic(out / "README.md", f"# Kubernetes manifests (written by `rigfit k8s`, not applied)\n\n{notes_text}")
    for name, docs in files.items():
        path = out / name
        write_atomic(path, "# Written by `rigfit k8s` (never applied by rigfit).\n" + dump_yaml(docs))
        written.append(path)
    return written, notes
