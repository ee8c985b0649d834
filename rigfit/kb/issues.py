"""Schema of the known-issue catalogue (rigfit/kb/issues/*.yaml) that `rigfit explain` matches crash logs against.

An issue is recognised from the log's lines in two steps:
  1. `keywords` (literals, case-insensitive) pick the lines worth reading. The scanner finds them in one pass over
     the whole log, so a keyword must start a token: it is matched only after the start of a line, a space, or one
     of  / \\ : ' " ( . = - [ ] ` | , ; >  (write "out of memory", not "ut of memory").
  2. regular expressions (case-insensitive) run on those lines only: every `all_of` pattern must match a line, at
     least one `any_of` pattern must (when given), no `unless` pattern may, and each `boost` pattern that matches
     raises the confidence. Named groups, (?P<gfx>gfx\\d+), become template variables.
`cause` and `fix` are templates: {name} is a fact from the log (named groups, the UI) or the machine profile
(see TEMPLATE_VARS). `variants` refine them: the first variant whose `when` holds and whose placeholders all have a
value replaces the default text. `when` on the issue itself says which machines the issue belongs to: a profile
that contradicts it lowers the confidence, one that confirms it raises it.
"""

from __future__ import annotations

import functools
import re
import string
from typing import Union

from rigfit.kb.loader import KbEntry, load_entries
from rigfit.kb.typed import FieldError
from rigfit.records import field, record

# Facts `when` can test and templates can use. Names must stay stable: the catalogue refers to them.
TEMPLATE_VARS: dict[str, str] = {
    "ui": "UI detected from the log's paths and banners: a1111, forge, comfyui, sdnext, fooocus, invokeai",
    "ui_name": "that UI's name for people ('your UI' when unknown); always set",
    "lowvram_flag": "the detected UI's flag to relaunch with after an OOM at the detected VRAM (uis.yaml oom_flags)",
    "vram_gib": "VRAM of the GPU in GiB (log's OOM message first, then the profile)",
    "gpu_vendor": "amd | nvidia | intel",
    "gpu_name": "marketing name of the GPU",
    "gfx": "AMD ISA, gfx1032 (log first, then the profile)",
    "override": "HSA_OVERRIDE_GFX_VERSION value for that gfx (rigfit/kb/rocm.yaml)",
    "cc": "NVIDIA compute capability, 8.6",
    "cpu_model": "CPU model name",
    "cpu_avx": "the CPU has AVX (bool)",
    "cpu_avx2": "the CPU has AVX2 (bool)",
    "cpu_sse4_2": "the CPU has SSE4.2 (bool)",
    "cpu_isa": "the CPU target a torch source build would use for this CPU, westmere (kb/torch_build/isa_targets.yaml)",
    "rocm_version": "the host ROCm version from the profile, 6.1.0",
    "build_torch": "the `rigfit build-torch ...` command for a no-AVX CPU with an AMD GPU (the one plan prints)",
    "cpu_x86_level": "x86-64 micro-architecture level, 1..4",
    "cpu_missing": "the first extension torch/numpy wheels assume that this CPU lacks: SSE4.2, AVX or AVX2",
    "kfd_access": "ok | permission_denied | missing",
    "in_render_group": "the user is in the render group (bool)",
    "user_groups": "the user's groups, comma separated",
    "container": "docker, podman... when rigfit runs inside one",
    "driver_cuda": "highest CUDA version the NVIDIA driver supports, 11.4 (log first, then the profile)",
    "driver_wheel": "the newest official torch CUDA variant that driver runs, cu118",
    "xformers_match": "the xformers release built for torch_have (rigfit/kb/xformers_torch.yaml), 0.0.28.post1",
    "nvidia_driver": "NVIDIA driver version, 550.40.07",
    "log_os": "the OS the log's own file paths show: macos | windows | linux",
    "gpu_route": "the route to the GPU the log's launcher flags and folders show: zluda | directml | ipex",
    "pin_fix": "the fix of the first pins.yaml entry the issue names in `pins` (one answer with `rigfit plan`)",
    "pin_spec": "that pin's requirement, kornia<0.8.3",
    "pins_also": "the other pins the issue names, as requirements with their conditions (may be empty)",
}
PIN_VARS = {"pin_fix", "pin_spec", "pins_also"}  # always set when the issue names `pins`

Scalar = Union[bool, int, float, str]  # noqa: UP007 - rigfit.kb.typed reads the union at run time on Python 3.10


@record(frozen=True, kw_only=True)
class Range:
    """A numeric condition: min <= value <= max."""

    min: float | None = None
    max: float | None = None


Condition = Union[Scalar, list[Scalar], Range]  # noqa: UP007


@record(frozen=True, kw_only=True)
class IssueVariant:
    """A refinement of an issue's cause/fix for the machines its `when` matches."""

    when: dict[str, Condition] = field(default_factory=dict)
    cause: str | None = None
    fix: str | None = None

    def __post_init__(self) -> None:
        if self.cause is None and self.fix is None:
            raise ValueError("a variant needs a cause or a fix")


def placeholders(template: str) -> set[str]:
    """The {names} a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_conditions(conditions: dict[str, Condition], known: set[str]) -> None:
    unknown = sorted(set(conditions) - known)
    if unknown:
        raise ValueError(f"unknown fact(s) in when: {unknown}; known: {', '.join(sorted(known))}")


@record(frozen=True, kw_only=True)
class IssueEntry(KbEntry):
    """One known failure: how to recognise it in a log, what it means, the exact fix."""

    title: str
    keywords: list[str]  # at least one
    all_of: list[str] = field(default_factory=list)
    any_of: list[str] = field(default_factory=list)
    unless: list[str] = field(default_factory=list)
    boost: list[str] = field(default_factory=list)
    when: dict[str, Condition] = field(default_factory=dict)
    supersedes: list[str] = field(default_factory=list)  # ids of vaguer issues this one explains when both match
    pins: list[str] = field(default_factory=list)  # pins.yaml ids whose fix this issue gives (same answer as plan)
    confidence: float = 0.8  # 0.05 to 1
    cause: str
    fix: str
    variants: list[IssueVariant] = field(default_factory=list)

    def _check(self) -> None:
        if not self.keywords:
            raise FieldError("keywords", "give at least one keyword")
        for keyword in self.keywords:
            # the scanner lower-cases a log's bytes as ASCII: a non-ASCII character must have no case (CJK words)
            if len(keyword.strip()) < 3 or not all(c.isascii() or c.lower() == c.upper() for c in keyword):
                raise FieldError(
                    "keywords", f"keyword {keyword!r}: use a literal of 3 characters or more, ASCII or without case"
                )
        if not 0.05 <= self.confidence <= 1.0:
            raise FieldError("confidence", f"expected a number from 0.05 to 1, found {self.confidence}")
        for name in ("all_of", "any_of", "unless", "boost"):
            for pattern in getattr(self, name):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise FieldError(name, f"pattern {pattern!r} does not compile: {exc}") from exc
        self._consistent()

    def _consistent(self) -> None:
        if not self.all_of and not self.any_of:
            raise ValueError("give at least one all_of or any_of pattern")
        known = set(TEMPLATE_VARS) | self.group_names()
        _check_conditions(self.when, known)
        for variant in self.variants:
            _check_conditions(variant.when, known)
        for template in self.templates():
            unknown = sorted(placeholders(template) - known)
            if unknown:
                raise ValueError(f"unknown placeholder(s) {unknown} in {template[:60]!r}")
        # the default text must always render: only ui_name (and the pin facts, when pins are named) are guaranteed
        always = {"ui_name"} | (PIN_VARS if self.pins else set())
        for template in (self.cause, self.fix):
            optional = sorted(placeholders(template) - always)
            if optional:
                raise ValueError(f"default cause/fix may only use {{ui_name}}; move {optional} into a variant")

    def templates(self) -> list[str]:
        texts = [self.cause, self.fix]
        for variant in self.variants:
            texts.extend(t for t in (variant.cause, variant.fix) if t is not None)
        return texts

    def group_names(self) -> set[str]:
        return {name for pattern in self.all_of + self.any_of + self.boost for name in re.compile(pattern).groupindex}


@functools.cache
def _issue_entries() -> tuple[IssueEntry, ...]:
    return load_entries("issues/*.yaml", IssueEntry)


def issue_answering(line: str) -> IssueEntry | None:
    """The known issue (explain's answer) a single error line shows: its any_of patterns match the line and none of
    its unless patterns does; the most confident when several do. doctor gives that entry's fix for the same line, so
    a fact gets one answer whichever command reads it."""
    found = [
        entry
        for entry in _issue_entries()
        if any(re.search(p, line) for p in entry.any_of) and not any(re.search(p, line) for p in entry.unless)
    ]
    return max(found, key=lambda entry: entry.confidence) if found else None


__all__ = ["TEMPLATE_VARS", "Condition", "IssueEntry", "IssueVariant", "Range", "issue_answering", "placeholders"]
