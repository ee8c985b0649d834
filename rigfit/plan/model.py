"""The typed plan: what `rigfit plan` decided for a machine, each decision with its reasons and alternatives.

Its JSON form is public (schema "rigfit.plan/1", see docs/plan.md): keys may be added, never renamed.
"""

from __future__ import annotations

from typing import Literal

from rigfit.records import field, record

Backend = Literal["cuda", "rocm", "xpu", "cpu"]
Ui = Literal["forge", "a1111", "comfyui", "sdnext", "invokeai"]
UIS: tuple[str, ...] = ("forge", "a1111", "comfyui", "sdnext", "invokeai")
Extra = Literal["pytorch3d"]
EXTRAS: tuple[str, ...] = ("pytorch3d",)
MODEL_FAMILIES: tuple[str, ...] = ("sd15", "sdxl", "flux")  # the families of models.yaml


@record(kw_only=True)
class PlanOptions:
    """What the person asked for (CLI options) and what their environment already sets."""

    ui: Ui = "forge"
    extras: list[Extra] = field(default_factory=list)  # packages the workflow needs besides the UI
    full_precision: bool = False  # the person insists on fp32 everywhere (--no-half)
    listen: bool = False
    models: list[str] = field(default_factory=list)  # model families the person asked about (--model flux)
    user_env: dict[str, str] = field(default_factory=dict)  # variables already set: never overridden


@record(kw_only=True)
class Reason:
    """Why: a sentence, the profile facts it rests on ("cpu.avx=False") and the KB entries it cites."""

    text: str
    facts: list[str] = field(default_factory=list)
    kb: list[str] = field(default_factory=list)


@record(kw_only=True)
class Alternative:
    """A choice the plan did not make, and why not."""

    choice: str
    why_not: str


@record(kw_only=True)
class Decision:
    """One decision of the plan (topic -> choice), with its reasons and the alternatives."""

    topic: str  # device, backend, torch, python, env, precision, memory, attention, ui_flags, models, pins
    choice: str
    reasons: list[Reason] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    basis: Literal["kb", "measured", "user", "unknown"] = "kb"  # measured = VerifiedFacts from verify/bench


@record(kw_only=True)
class DevicePick:
    """The device the plan runs Stable Diffusion on: a GPU of the profile, or the CPU."""

    index: int | None = None  # position in profile.gpus; None = the CPU
    name: str
    kind: Literal["gpu", "cpu"]
    vendor: str | None = None
    gfx: str | None = None
    compute_capability: str | None = None
    vram_bytes: int | None = None
    integrated: bool | None = None


@record(kw_only=True)
class TorchChoice:
    """Which torch to install, from where, and the commands that do it."""

    source: Literal["wheel", "source-build", "distro", "community", "none"]
    version: str | None = None
    variant: str | None = None  # cu126, rocm7.2, cpu
    index_url: str | None = None
    torchvision: str | None = None
    torchaudio: str | None = None
    kb: str | None = None  # the torch_wheels.yaml entry
    install: list[str] = field(default_factory=list)  # commands, in order


@record(kw_only=True)
class PythonNeed:
    """The Python the torch line needs, and whether the current one fits."""

    required: str | None = None  # version range the torch line needs
    current: str | None = None
    ok: bool | None = None  # None when the current Python is unknown
    message: str | None = None  # what is wrong when it does not fit
    how: str | None = None  # the fix: how to get a fitting one


@record(kw_only=True)
class ModelFit:
    """Whether a model family runs on the picked device, in one word and a note."""

    id: str
    name: str
    verdict: Literal["ok", "slow", "tight", "no"]
    note: str


@record(kw_only=True)
class Advice:
    """A warning: what is wrong or risky here (message) and the exact step that fixes or avoids it (fix).

    `id` is a stable slug ("flux-8gb", "pcie-slow-link"): doctor reports it as finding "plan.<id>"."""

    id: str
    message: str
    fix: str
    kb: list[str] = field(default_factory=list)


@record(kw_only=True)
class Blocker:
    """A problem that stops a device (or everything), with the exact fix."""

    id: str
    message: str
    fix: str
    blocks: Literal["gpu", "cpu", "all"]
    kb: list[str] = field(default_factory=list)


@record(kw_only=True)
class Plan:
    """The plan for one machine and UI: device, torch, precision, memory, flags, pins, and every decision."""

    ui: Ui
    backend: Backend
    device: DevicePick
    torch: TorchChoice
    python: PythonNeed = field(default_factory=PythonNeed)
    env: dict[str, str] = field(default_factory=dict)  # variables rigfit sets (never one the user already set)
    env_kept: dict[str, str] = field(default_factory=dict)  # the user's own values, left as they are
    precision: Literal["fp16", "bf16", "fp32"]
    precision_detail: str  # "fp16 with upcast sampling and an fp32 VAE"
    memory_mode: Literal["low", "medium", "medium_sdxl", "normal", "high", "cpu"]
    attention: Literal["sdpa", "subquad", "split"]
    ui_flags: list[str] = field(default_factory=list)
    ui_config: dict[str, str] = field(default_factory=dict)  # settings-file keys (InvokeAI, SD.Next)
    pins: list[str] = field(default_factory=list)  # pip requirement lines ("huggingface_hub<0.26")
    models: list[ModelFit] = field(default_factory=list)
    warnings: list[Advice] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # commands that prove the plan on this machine
    blockers: list[Blocker] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def reasons(self) -> list[dict[str, object]]:
        """Every decision's reasons, flat: [{topic, choice, text, facts, kb}]; in the JSON form after the fields."""
        return [
            {"topic": d.topic, "choice": d.choice, "text": r.text, "facts": r.facts, "kb": r.kb}
            for d in self.decisions
            for r in d.reasons
        ]

    def decision(self, topic: str) -> Decision | None:
        return next((d for d in self.decisions if d.topic == topic), None)
