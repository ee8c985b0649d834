"""`rigfit docker` and `rigfit k8s`: the plan (this machine's or a capture's) as container files. Thin."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from rigfit.cli_args import Option
from rigfit.plan.model import EXTRAS, UIS
from rigfit.terminal import console, print_json, usage_error

if TYPE_CHECKING:
    from rigfit.probe.profile import Profile

BACKENDS = ("cpu", "cuda", "rocm")
GPU_CLASSES = ("amd", "nvidia")


def _checked(ui: str, extras: list[str]) -> None:
    if ui not in UIS:
        raise usage_error(f"unknown UI '{ui}'. Valid UIs: {', '.join(UIS)}.")
    unknown = [e for e in extras if e not in EXTRAS]
    if unknown:
        raise usage_error(f"unknown --with {', '.join(unknown)}. Valid: {', '.join(EXTRAS)}.")


def _writable(out: Path) -> None:
    """-o must be a folder this user can write (checked before anything is written)."""
    if out.exists() and not out.is_dir():
        raise usage_error(f"-o {out} is a file, not a folder: give a folder name (it is created if missing).")
    parent = out if out.exists() else next((p for p in out.absolute().parents if p.exists()), Path("/"))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise usage_error(f"-o {out}: {parent} is not writable by this user: choose a folder under your home.")


def _profile(from_: str | None) -> Profile:
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import CaptureError, open_source

    try:
        source = open_source(from_)
    except CaptureError as exc:
        raise usage_error(str(exc)) from exc
    return probe_machine(source, torch_check=False)


def docker(
    from_: Annotated[Optional[str], Option("--from", help="Plan for a capture instead of this machine.")] = None,  # noqa: UP045
    backend: Annotated[str | None, Option("--backend", help="cpu | cuda | rocm (default: the plan's).")] = None,
    ui: Annotated[str, Option("--ui", help="forge | a1111 | comfyui | sdnext | invokeai")] = "forge",
    gpus: Annotated[
        Optional[str],  # noqa: UP045
        Option("--gpus", help="all | 0,1,...: one service per GPU, each pinned to its card, own port."),
    ] = None,
    listen: Annotated[
        bool, Option("--listen", help="Publish the UI on every interface (turns its login on, from .env).")
    ] = False,
    pod: Annotated[bool, Option("--pod", help="Rented-GPU pod: Jupyter Lab and key-only SSH beside the UI.")] = False,
    with_: Annotated[
        Optional[list[str]],  # noqa: UP045
        Option("--with", help="Extra package the workflow needs (repeatable): pytorch3d."),
    ] = None,
    out: Annotated[Path, Option("-o", "--output", help="Folder to write the build files into.")] = Path(
        "rigfit-docker"
    ),
    as_json: Annotated[bool, Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Write a Dockerfile, compose.yaml, .env.example and README that run the planned stack in a container."""
    extras = with_ or []
    _checked(ui, extras)
    if backend is not None and backend not in BACKENDS:
        raise usage_error(f"unknown --backend '{backend}'. Valid: {', '.join(BACKENDS)}.")
    from rigfit.plan.model import PlanOptions
    from rigfit.recipes.bundle import summary, write_bundle
    from rigfit.recipes.target import RecipeError, make_target

    options = PlanOptions(ui=ui, extras=extras)  # type: ignore[arg-type]
    try:
        target = make_target(_profile(from_), options, backend, gpus, pod=pod, listen=listen)  # type: ignore[arg-type]
    except RecipeError as exc:
        raise usage_error(str(exc)) from exc
    _writable(out)
    written = write_bundle(target, out, shlex.join(["rigfit", *sys.argv[1:]]))
    if not as_json:
        console.print(f"Wrote {len(written)} files to {out}/ for {target.ui.name} on {target.backend}:")
        for path in written:
            console.print(f"  {path}")
    from rigfit.recipes.compose import gid_note

    notes = [n for n in [*target.notes, gid_note(target)] if n]
    if as_json:
        print_json(summary(target, written, notes))
        return
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"Next: cd {out} && cp .env.example .env && docker compose build && docker compose up -d")


def k8s(
    from_: Annotated[Optional[str], Option("--from", help="Plan for a capture instead of this machine.")] = None,  # noqa: UP045
    ui: Annotated[str, Option("--ui", help="forge | a1111 | comfyui | sdnext | invokeai")] = "forge",
    gpu_class: Annotated[
        Optional[list[str]],  # noqa: UP045
        Option("--gpu-class", help="amd | nvidia (repeatable: one Deployment each; default: the plan's GPU)."),
    ] = None,
    replicas: Annotated[int, Option("--replicas", help="Pods per Deployment.", min=1)] = 1,
    image: Annotated[
        Optional[str],  # noqa: UP045
        Option("--image", help="Image the pods run (default: rigfit-UI-BACKEND:local, from `rigfit docker`)."),
    ] = None,
    out: Annotated[Path, Option("-o", "--output", help="Folder to write the manifests into.")] = Path("rigfit-k8s"),
    as_json: Annotated[bool, Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Write Kubernetes manifests (never applied): a Deployment per GPU class, Service, model PVC, auth Secret."""
    _checked(ui, [])
    classes = gpu_class or []
    unknown = [c for c in classes if c not in GPU_CLASSES]
    if unknown:
        raise usage_error(f"unknown --gpu-class {', '.join(unknown)}. Valid: {', '.join(GPU_CLASSES)}.")
    from rigfit.plan.model import PlanOptions
    from rigfit.recipes.k8s import write_manifests
    from rigfit.recipes.target import RecipeError

    _writable(out)
    try:
        written, notes = write_manifests(_profile(from_), PlanOptions(ui=ui), classes, replicas, image, out)  # type: ignore[arg-type]
    except RecipeError as exc:
        raise usage_error(str(exc)) from exc
    if as_json:
        print_json({"schema": "rigfit.k8s/1", "files": [str(p) for p in written], "notes": notes, "applied": False})
        return
    console.print(f"Wrote {len(written)} manifests to {out}/ (not applied):")
    for path in written:
        console.print(f"  {path}")
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"Review them, then: kubectl apply -f {out}/")
