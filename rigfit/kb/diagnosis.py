"""Schemas of the data `rigfit explain`'s class analyzers read (rigfit/explain/analyzers/).

python_modules.yaml: import name -> the pip package that provides it (cv2 -> opencv-python), and names that are not
  packages at all (torch._six, _lzma) with what to do instead.
python_stdlib_removed.yaml: standard-library modules a Python release removed (distutils, imp in 3.12; imghdr, cgi,
  audioop... in 3.13) and the PyPI package that brings each back, if any.
python_names.yaml: names a package removed or added in a known release (np.float, PIL.Image.ANTIALIAS...), so
  "cannot import name X from Y" and "module Y has no attribute X" say which version of Y has X.
native_libs.yaml: shared libraries named in crashes and loader errors: which package ships each, which instruction
  set its prebuilt builds need (SIGILL), and how to get it (libcudnn.so.8, libtorch_cpu.so, onnxruntime...).
video_models.yaml: video models named in out-of-memory logs (Wan, HunyuanVideo): what they need and what lowers it.
ui_log_prefixes.yaml: the bracketed prefixes a UI prints on its own lines ("[Fooocus] Loading models ..."), so a UI's
  own start-up line is never taken for a plugin's.
"""

from __future__ import annotations

import re
from typing import Literal

from rigfit.kb.loader import KbEntry, version_range
from rigfit.kb.memory_modes import MEMORY_MODES
from rigfit.kb.typed import FieldError
from rigfit.records import field, record


@record(frozen=True, kw_only=True)
class PythonModule(KbEntry):
    """An import name (id: 'cv2', or a dotted submodule 'torch._six') and where it comes from."""

    package: str | None = None  # the pip distribution that provides it; None when no package does
    kind: Literal["package", "submodule-removed", "stdlib-extension", "optional", "ui-internal"] = "package"
    removed_in: str | None = None  # for submodule-removed: the release of `package` that dropped it
    fix: str | None = None  # a fix in words when `pip install package` is not it


@record(frozen=True, kw_only=True)
class RemovedStdlibModule(KbEntry):
    """A standard-library module (id: its import name) that Python `removed_in` dropped."""

    removed_in: str  # the first Python release without it ("3.13")
    replacement: str | None = None  # the PyPI package that provides the same import name again; None: none does
    note: str | None = None  # what else replaces it

    def _check(self) -> None:
        version_range(f">={self.removed_in}", "removed_in")


@record(frozen=True, kw_only=True)
class PythonName(KbEntry):
    """A name in a module that exists only in some releases of its package."""

    module: str  # the module it is imported from or looked up on ('numpy', 'PIL.Image', 'huggingface_hub')
    names: list[str]  # at least one
    package: str  # pip distribution of the module
    removed_in: str | None = None  # first release without the names
    added_in: str | None = None  # first release with them
    # for methods/attributes of objects ("'FreeTypeFont' object has no attribute 'getsize'"): the classes they are on
    classes: list[str] = field(default_factory=list)
    fix: str  # the exact command or code change
    note: str | None = None

    def _check(self) -> None:
        if not self.names:
            raise FieldError("names", "give at least one name")
        if not self.removed_in and not self.added_in:
            raise FieldError("added_in", "give the release that added the names (added_in) or removed them")
        for name in ("removed_in", "added_in"):
            if getattr(self, name):
                version_range(f">={getattr(self, name)}", name)


@record(frozen=True, kw_only=True)
class NativeLibrary(KbEntry):
    """A shared library seen in crash and loader messages (id: a short name; `pattern` matches the file name)."""

    pattern: str  # regex (case-insensitive) on the library's file name
    package: str  # what ships it ('torch', 'onnxruntime', 'nvidia-cudnn-cu12', 'the NVIDIA driver')
    role: Literal["python-binary", "cuda-runtime", "driver", "rocm", "system"] = "python-binary"
    isa: str | None = None  # instruction set its prebuilt builds execute without checking (SIGILL on older CPUs)
    fix: str  # what to do when it is missing or crashes

    def _check(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise FieldError("pattern", f"{self.pattern!r} does not compile: {exc}") from exc


@record(frozen=True, kw_only=True)
class VideoModel(KbEntry):
    """A video model seen in out-of-memory logs (id: 'wan'): its memory is set by frames x resolution and its size,
    so its fix is not a UI's low-VRAM flag."""

    name: str
    pattern: str  # regex (case-insensitive) on a log line that shows the model (a node, a class, a loader line)
    memory: str  # what it needs, with the published figures
    steps: list[str]  # what lowers its memory, most effective first

    def _check(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise FieldError("pattern", f"{self.pattern!r} does not compile: {exc}") from exc
        if not self.steps:
            raise FieldError("steps", "name at least one way to lower the model's memory")


__all__ = ["NativeLibrary", "PythonModule", "PythonName", "VideoModel"]


@record(frozen=True, kw_only=True)
class UiLogPrefix(KbEntry):
    """A UI (id: "fooocus") and the bracketed prefixes its own code prints: "[Fooocus Model Management] ..."."""

    ui: str  # the UI's name, as people call it
    prefixes: list[str]  # the words between the brackets, as printed

    def _check(self) -> None:
        if any(not p.strip() or "[" in p or "]" in p for p in self.prefixes):
            raise FieldError("prefixes", "write the words between the brackets, without the brackets")


@record(frozen=True, kw_only=True)
class UiMemoryState(KbEntry):
    """ui_memory_states.yaml: a memory state a UI prints at start ("Set vram state to: NO_VRAM"), the plan memory
    mode it is (rigfit/plan/precision.py: low, medium, medium_sdxl, normal, high) and the launch flags that force it."""

    ui: str  # the UI's name, as people call it
    ui_line: str  # a regex a line of that UI's start-up matches (which UI printed the state)
    printed: str  # the state as printed after "Set vram state to: "
    mode: str  # the plan memory mode it corresponds to
    flags: list[str]  # the launch flags that force it
    means: str  # what the state does, for someone running the UI

    def _check(self) -> None:
        if self.mode not in MEMORY_MODES:
            raise FieldError("mode", f"one of the plan's memory modes: {', '.join(MEMORY_MODES)}")
        try:
            re.compile(self.ui_line)
        except re.error as error:
            raise FieldError("ui_line", f"not a regex: {error}") from error
