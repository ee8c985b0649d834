"""Schemas of the error vocabularies `rigfit explain` reads when no more specific rule answers: every status a GPU
runtime or math library prints (gpu_errors.yaml, grouped by what to do in gpu_error_kinds.yaml) and the operating
system's error numbers as Python, pip and uv print them (os_errors.yaml), and the errors of the Hugging Face loading
stack (huggingface_hub, transformers, diffusers, safetensors, hf_transfer, hf_xet) as they print them (hf_errors.yaml,
one schema with torch's and ComfyUI's own messages: ToolMessage).

A status that a known issue (rigfit/kb/issues/) or another class analyzer already explains names it in
`answered_by`; `answered_when` says when (regexes on the error line and the 20 lines before it; none: always), so the
same error is never answered twice.
"""

from __future__ import annotations

import functools
import re
import string
from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.kb.typed import FieldError
from rigfit.records import field, record

GpuApi = Literal["cuda", "cublas", "cudnn", "hip", "hipblas", "rocblas", "miopen"]
OS_FIX_FIELDS = frozenset({"path", "pip"})  # what os_errors.yaml fix texts may name: filled by the analyzer


def _check_patterns(patterns: list[str], name: str) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise FieldError(name, f"{pattern!r} does not compile: {exc}") from exc


@record(frozen=True, kw_only=True)
class GpuErrorKind(KbEntry):
    """What to look at and do for a group of GPU statuses (id: 'kernel-fault', 'device-assert'...)."""

    look_nvidia: str  # where the real cause shows on an NVIDIA machine (dmesg Xid, CUDA_LAUNCH_BLOCKING=1...)
    look_amd: str  # the same on an AMD machine (amdgpu kernel lines, AMD_SERIALIZE_KERNEL=3...)
    fix: str  # what fixes the usual causes, for a Stable Diffusion / LLM user


@record(frozen=True, kw_only=True)
class GpuError(KbEntry):
    """One status of a GPU runtime or library (id: its symbolic name, cudaErrorMisalignedAddress)."""

    api: GpuApi
    names: list[str] = field(default_factory=list)  # other names it is printed under (CUDA_ERROR_X, hipErrorX)
    text: str | None = None  # what its error-string function prints ("misaligned address"), lower case
    kind: str  # a gpu_error_kinds.yaml id
    meaning: str  # what it means for someone running a UI or a model
    fix: str | None = None  # what this status needs beyond its kind's steps
    answered_by: str | None = None  # the known issue or class finding that already answers it
    answered_when: list[str] = field(default_factory=list)  # regexes near the error line; empty: always answered
    # torch's own words when cudaGetDeviceCount fails with this status at its CUDA start-up check (c10/cuda/
    # CUDAFunctions.cpp device_count_impl words two statuses itself), lower case; the others it prints as
    # "Unexpected error from cudaGetDeviceCount() ... Error <n>: <text>"
    torch_text: str | None = None
    # a status that says something only as the answer of torch's start-up check (cudaErrorUnknown): the general
    # vocabulary (gpu_status) leaves it out
    start_only: bool = False

    def _check(self) -> None:
        for name, value in (("text", self.text), ("torch_text", self.torch_text)):
            if value is not None and value != value.lower():
                raise FieldError(name, "write the message in lower case (it is compared case-insensitively)")
        _check_patterns(self.answered_when, "answered_when")
        if self.answered_when and not self.answered_by:
            raise FieldError("answered_when", "name the issue that answers these lines in answered_by")


@functools.cache
def gpu_errors() -> tuple[GpuError, ...]:
    return load_entries("gpu_errors.yaml", GpuError)


@record(frozen=True, kw_only=True)
class OsErrorPlace:
    """Where the path an OS error names lies, when that place says why (C:\\Program Files: only administrators
    may change it)."""

    path: str  # a regex the whole path matches (case-insensitive)
    meaning: str
    fix: str  # may name {path} and {pip}


@record(frozen=True, kw_only=True)
class OsError(KbEntry):
    """An operating-system error number (id: ENOSPC, or WinError-32 for a Windows system error code)."""

    platform: Literal["posix", "windows"]
    codes: list[int]  # errno values (Linux first, then macOS where it differs) or the Windows error code
    texts: list[str]  # what strerror / FormatMessage print, lower case and without the final period
    meaning: str  # what it means in an install or a model load
    fix: str  # may name {path} (the file the log names) and {pip} (the env's pip)
    answered_by: str | None = None
    answered_when: list[str] = field(default_factory=list)
    # when the path is a file directly in the filesystem root (/x.toml, C:\\x.toml): a program joined an EMPTY
    # folder setting with a file name, so the root's owner is not the fault
    root_meaning: str | None = None
    root_fix: str | None = None
    # the error says something only when the path it prints is EMPTY (''): a path setting or argument left blank
    # (ENOENT: a wrong path says nothing the error does not already say)
    empty_path_only: bool = False
    # places whose meaning and fix replace the general ones when the path lies there (the first that matches)
    places: list[OsErrorPlace] = field(default_factory=list)
    # the fix when the error names a path that no place matches (it can say which file); `fix` stays the one for an
    # error printed without a path
    path_fix: str | None = None

    def _check(self) -> None:
        _check_patterns([place.path for place in self.places], "places")
        if (self.root_meaning is None) != (self.root_fix is None):
            raise FieldError("root_fix", "give root_meaning and root_fix together")
        if not self.codes or not self.texts:
            raise FieldError("codes", "give at least one code and one text")
        if any(text != text.lower() or text.endswith(".") for text in self.texts):
            raise FieldError("texts", "write each text in lower case, without the final period")
        _check_patterns(self.answered_when, "answered_when")
        named = {
            name
            for text in (self.fix, self.root_fix or "", self.path_fix or "", *(p.fix for p in self.places))
            for _, name, _, _ in string.Formatter().parse(text)
            if name
        }
        if named - OS_FIX_FIELDS:
            raise FieldError("fix", f"unknown fields {sorted(named - OS_FIX_FIELDS)}; use {sorted(OS_FIX_FIELDS)}")


# the tool that prints a ToolMessage: torch, ComfyUI, or a library of the Hugging Face loading stack
MessageTool = Literal[
    "torch",
    "comfyui",
    "huggingface_hub",
    "transformers",
    "diffusers",
    "safetensors",
    "hf_transfer",
    "hf_xet",
    "sentencepiece",
]
MESSAGE_FIELD = re.compile(r"\{(\w+)\}")
MESSAGE_FIXED_FIELDS = frozenset({"node", "pip", "gpu_cc"})  # facts the analyzers add to the patterns' groups


@record(frozen=True, kw_only=True)
class MessageVariant:
    """A reading of a message for some of its facts (fp16 in a CPU op, fp8 anywhere): `when` maps a fact to a regex
    (all must match, case-insensitively); the first variant that fits replaces the entry's meaning and fix."""

    when: dict[str, str]
    meaning: str | None = None
    fix: str


@record(frozen=True, kw_only=True)
class ToolMessage(KbEntry):
    """One error message of a tool's own vocabulary as the tool's source prints it: torch's runtime checks
    (torch_errors.yaml), ComfyUI's execution and validation (comfyui_errors.yaml), the Hugging Face loading stack
    (hf_errors.yaml, `tool` naming the library) (id: a short name of the message)."""

    tool: MessageTool
    signals: list[str]  # lower-case literals, one of which is in every line a pattern matches (scanned for)
    patterns: list[str]  # regexes on one line (its wordings); their named groups are the facts read from the log
    detail: str | None = None  # facts printed on the lines just after the message (the class a pickle named)
    title: str  # may name {facts}
    meaning: str  # what it means (which component mixed what), may name {facts}
    fix: str  # what a user can do, may name {facts} (and {node}, {pip}, {gpu_cc}: filled by the analyzer)
    variants: list[MessageVariant] = field(default_factory=list)
    answered_by: str | None = None
    answered_when: list[str] = field(default_factory=list)
    supersedes: list[str] = field(default_factory=list)  # findings this entry says more precisely (a 401 before it)
    not_when: list[str] = field(default_factory=list)  # regexes near the line that make it a warning recovered from
    # a regex one of the next lines must match (the wrapped error a wrapper's line announces); its groups are facts
    then: str | None = None

    def _check(self) -> None:
        if self.answered_when and not self.answered_by:
            raise FieldError("answered_by", "name the rule that answers these lines")
        if not self.signals or any(s != s.lower() or not s.strip() for s in self.signals):
            raise FieldError("signals", "give at least one literal, in lower case")
        if not self.patterns:
            raise FieldError("patterns", "give at least one pattern")
        _check_patterns(self.answered_when + self.not_when, "answered_when")
        for variant in self.variants:
            _check_patterns(list(variant.when.values()), "variants")
        groups = self._groups()
        texts = [self.title, self.meaning, self.fix, *(v.fix for v in self.variants)]
        texts += [v.meaning or "" for v in self.variants]
        named = {name for text in texts for name in MESSAGE_FIELD.findall(text)}
        if unknown := named - groups - MESSAGE_FIXED_FIELDS:
            raise FieldError("fix", f"unknown fields {sorted(unknown)}; the patterns' groups are {sorted(groups)}")

    def _groups(self) -> set[str]:
        """The facts the patterns, detail and then read (their named groups); FieldError for one that does not
        compile."""
        groups: set[str] = set()
        named = [("patterns", p) for p in self.patterns] + [("detail", self.detail or ""), ("then", self.then or "")]
        for name, pattern in named:
            try:
                groups |= set(re.compile(pattern).groupindex)
            except re.error as exc:
                raise FieldError(name, f"{pattern!r} does not compile: {exc}") from exc
        return groups


__all__ = ["GpuError", "GpuErrorKind", "MessageVariant", "OsError", "ToolMessage"]
