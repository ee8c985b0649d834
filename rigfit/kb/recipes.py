"""Schemas of the recipes' knowledge files: base images (containers_images.yaml), GPU classes (k8s_gpus.yaml)."""

from __future__ import annotations

from typing import Literal

from rigfit.kb.loader import KbEntry, by_id, load_entries
from rigfit.records import field, record


@record(frozen=True, kw_only=True)
class BaseImage(KbEntry):
    """An image the generated Dockerfile starts FROM; "{python}" is the Python minor version the plan needs."""

    image: str
    pythons: list[str]  # minor versions published, newest first
    packages: list[str] = field(default_factory=list)  # Debian packages every image needs (git for the UI checkout)
    pod_packages: list[str] = field(default_factory=list)  # extra ones of the rented-GPU variant
    pod_pip: list[str] = field(default_factory=list)  # Jupyter, pinned, installed in its own venv


@record(frozen=True, kw_only=True)
class GpuClass(KbEntry):
    """A GPU vendor as Kubernetes sees it: the device plugin's resource and the labeller's node labels."""

    backend: Literal["cuda", "rocm"]
    resource: str
    family_label: str | None = None  # "{family}" is the labeller's family acronym
    vram_label: str | None = None  # "{gib}" is the VRAM in GiB
    families: dict[str, str] = field(default_factory=dict)  # gfx prefix -> family acronym
    memory_label: str | None = None  # numeric MiB label
    compute_major_label: str | None = None
    pod_security: dict[str, object] = field(default_factory=dict)


def base_image() -> BaseImage:
    return load_entries("containers_images.yaml", BaseImage)[0]


def gpu_classes() -> dict[str, GpuClass]:
    return by_id(load_entries("k8s_gpus.yaml", GpuClass))
