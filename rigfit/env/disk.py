"""The free disk an install needs, checked before anything is written.

The protected torch packages are copied into the env (never linked to the installer's cache), so their unpacked size
is new on disk whatever the cache holds: less free space than that refuses the install. Torch's CUDA libraries and the
UI's requirements are hard-linked from uv's cache, so a warm cache makes them nearly free: less free space than a cold
install needs only warns (a disk that fills up mid-install is reported by the installer's hint, and a rerun continues).
The sizes are measured ones (rigfit/kb/install_sizes.yaml); a user's own wheel is measured from its file.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from rigfit.env.wheels import Wheel
from rigfit.kb.installs import InstallPart, install_size
from rigfit.probe.memory import existing_parent, free_bytes
from rigfit.records import field, record

GB = 10**9
MB = 10**6
CUDA_LIBRARIES = re.compile(r"^Requires-Dist:\s*(nvidia-|cuda-toolkit)", re.MULTILINE)


class DiskError(Exception):
    """Too little free disk for what is certainly written; the message names the place, both sizes and the fix."""


@record(kw_only=True)
class DiskNeed:
    copied: int = 0  # bytes certainly new on disk (the protected packages' files)
    linked: int = 0  # bytes a cold installer cache adds (hard-linked from it when warm)
    parts: list[str] = field(default_factory=list)  # "torch 2.14.1 1.2 GB (copied)", for the messages
    unmeasured: list[str] = field(default_factory=list)  # parts whose size nobody measured

    def add(self, what: str, size: int, linked: bool) -> None:
        if linked:
            self.linked += size
        else:
            self.copied += size
        self.parts.append(f"{what} {size / GB:.1f} GB{'' if linked else ' (copied)'}")


def wheel_contents(path: Path) -> tuple[int, bool]:
    """A wheel's unpacked size (its zip directory) and whether it requires NVIDIA's CUDA library wheels."""
    with zipfile.ZipFile(path) as archive:
        size = sum(info.file_size for info in archive.infolist())
        metadata = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        text = archive.read(metadata).decode("utf-8", errors="replace") if metadata else ""
    return size, CUDA_LIBRARIES.search(text) is not None


def backend_of_variant(variant: str | None) -> str | None:
    """A wheel line's variant ("cu126", "rocm7.2", "xpu", "cpu") as the kind of torch build it is."""
    if not variant:
        return None
    if variant == "xpu":  # no measured size: said as not measured, never the CPU wheel's
        return "xpu"
    return "cuda" if variant.startswith("cu") else "rocm" if variant.startswith("rocm") else "cpu"


def _measured(
    need: DiskNeed, what: str, part: InstallPart, *, backend: str | None = None, ui: str | None = None
) -> None:
    entry = install_size(part, backend=backend, ui=ui)
    if entry is None:
        need.unmeasured.append(what)
    else:
        need.add(what, entry.installed_mb * MB, entry.linked)


def install_need(ui: str, wheels: list[Wheel], torch_variant: str | None, *, torch_installed: bool) -> DiskNeed:
    """What installing `ui` writes: the user's wheels (exactly) or the plan's torch, its CUDA libraries, the UI."""
    need = DiskNeed()
    cuda_libraries = False
    for wheel in wheels:
        size, wants_cuda = wheel_contents(wheel.path)
        need.add(f"{wheel.name} {wheel.version}", size, linked=False)
        cuda_libraries = cuda_libraries or wants_cuda
    backend = backend_of_variant(torch_variant)
    if not wheels and not torch_installed and backend:
        _measured(need, f"torch ({torch_variant})", "torch", backend=backend)
        cuda_libraries = backend == "cuda"
    if cuda_libraries and not torch_installed:
        _measured(need, "torch's CUDA libraries", "gpu-libraries", backend="cuda")
    _measured(need, f"{ui}'s requirements", "requirements", ui=ui)
    return need


def check_disk(where: Path, need: DiskNeed, what: str, warn: Callable[[str], None]) -> None:
    """Refuse when even the copied files do not fit; warn when a cold install may not."""
    probe = existing_parent(where)
    free = free_bytes(probe)
    parts = "; ".join(need.parts) + (f"; not measured: {', '.join(need.unmeasured)}" if need.unmeasured else "")
    clear = "free space there (`du -sh ~/.cache/*` shows caches worth clearing), or install elsewhere with --env DIR"
    if free < need.copied:
        raise DiskError(
            f"{what} writes at least {need.copied / GB:.1f} GB on {probe}, which has {free / GB:.1f} GB free "
            f"({parts}): {clear}."
        )
    if free < need.copied + need.linked:
        warn(
            f"[yellow]warning[/] {probe} has {free / GB:.1f} GB free; {what} needs up to "
            f"{(need.copied + need.linked) / GB:.1f} GB when the installer's cache holds none of it ({parts}). "
            "Going on: if the disk fills up, free space and rerun the same command, which continues."
        )
