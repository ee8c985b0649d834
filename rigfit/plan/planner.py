"""The planner: a pure function of (profile, options, verified facts) -> Plan. No I/O, no torch, well under a second."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.kb.measured import VerifiedFacts
from rigfit.plan.device import GpuAssessment, XpuUi, assess_gpus, pick_device
from rigfit.plan.fit import bus_warning, choose_pins, fit_models
from rigfit.plan.installed import installed_cuda_line, kept_cuda_stack
from rigfit.plan.knowledge import in_range, pins, ui_entry, version
from rigfit.plan.model import (
    Advice,
    Alternative,
    Blocker,
    Decision,
    DevicePick,
    Plan,
    PlanOptions,
    Reason,
    TorchChoice,
)
from rigfit.plan.precision import SETTINGS, choose_attention, choose_memory, choose_precision
from rigfit.plan.stack import Stack, cpu_stack, cuda_stack, device_env, rocm_stack, xpu_stack
from rigfit.plan.ui_flags import settings_for, translate
from rigfit.plan.ui_torch import ui_torch_floor
from rigfit.probe.profile import Profile, isa_name


def make_plan(profile: Profile, options: PlanOptions | None = None, verified: VerifiedFacts | None = None) -> Plan:
    """Decide the whole stack for this machine and UI, every decision with its reasons and alternatives."""
    options = options or PlanOptions()
    verified_gpu = bool(verified and verified.device.startswith("cuda") and verified.ops_ok)
    ui = ui_entry(options.ui)
    assessed = assess_gpus(profile, verified_gpu, XpuUi(ui.name, ui.xpu))
    chosen, device, device_reasons, device_alts = pick_device(profile, assessed)
    backend = chosen.backend if chosen is not None and chosen.backend else "cpu"
    blockers: list[Blocker] = [b for a in assessed for b in a.blockers]
    warnings: list[Advice] = []

    stack = _stack_for(backend, chosen, profile, options)
    warnings += stack.warnings
    extra_advice = (
        _extras_need_cuda(backend, options, stack.torch.variant),
        _container_rocm(backend, profile),
        ui_torch_floor(options.ui, stack.torch),
    )
    warnings += [a for a in extra_advice if a]
    decisions = [
        Decision(topic="device", choice=_device_label(device), reasons=device_reasons, alternatives=device_alts),
        _backend_decision(backend, device, profile),
        Decision(
            topic="torch",
            choice=_torch_label(stack.torch),
            reasons=stack.reasons,
            alternatives=stack.alternatives,
        ),
        _python_decision(stack, profile),
    ]

    env, env_kept, env_reasons, env_warnings = device_env(chosen, profile, options, backend)
    warnings += env_warnings
    decisions.append(
        Decision(
            topic="env",
            choice=" ".join(f"{k}={v}" for k, v in env.items()) or "none needed",
            reasons=env_reasons or [Reason(text="This device needs no environment variables.")],
        )
    )

    gfx_entry = chosen.gfx_entry if chosen is not None else None
    key, precision_decision = choose_precision(device, gfx_entry, profile, options, verified)
    precision, detail, precision_settings = SETTINGS[key]
    attention_decision = choose_attention(stack.torch.version, backend, verified)
    memory_decision, memory_warnings = choose_memory(
        device, precision, attention_decision.choice, profile, verified, options.ui
    )
    warnings += memory_warnings
    decisions += [precision_decision, memory_decision, attention_decision]

    settings = settings_for(memory_decision.choice, precision_settings, attention_decision.choice, options)
    ui_flags, ui_config, flags_decision = translate(settings, options)
    decisions.append(flags_decision)

    models, models_decision, model_warnings = fit_models(device, precision, profile, options.ui, options.models)
    warnings += model_warnings
    decisions.append(models_decision)
    bus = bus_warning(chosen.gpu if chosen is not None else None, options.ui, memory_decision.choice, profile.cpu)
    if bus:
        warnings.append(bus)

    pin_lines, pins_decision = choose_pins(stack.torch.version, options, profile)
    if pins_decision:
        decisions.append(pins_decision)
    torch_choice = stack.torch
    torch_choice.install = torch_choice.install + _extra_installs(options, stack.torch, profile)
    if pin_lines:
        torch_choice.install.append("python -m pip install " + " ".join(f'"{p}"' for p in pin_lines))

    return Plan(
        ui=options.ui,
        backend=backend,  # type: ignore[arg-type]
        device=device,
        torch=torch_choice,
        python=stack.python,
        env=env,
        env_kept=env_kept,
        precision=precision,  # type: ignore[arg-type]
        precision_detail=detail,
        memory_mode=memory_decision.choice,  # type: ignore[arg-type]
        attention=attention_decision.choice,  # type: ignore[arg-type]
        ui_flags=ui_flags,
        ui_config=ui_config,
        pins=pin_lines,
        models=models,
        warnings=warnings,
        checks=stack.checks,
        blockers=blockers,
        decisions=decisions,
    )


def _stack_for(backend: str, chosen: GpuAssessment | None, profile: Profile, options: PlanOptions) -> Stack:
    if backend == "cuda":
        return cuda_stack(chosen, profile, options)  # type: ignore[arg-type]
    if backend == "rocm":
        return rocm_stack(chosen, profile, options)  # type: ignore[arg-type]
    if backend == "xpu":
        return xpu_stack(profile, options)
    kept = installed_cuda_line(profile)  # a CUDA torch where no NVIDIA GPU is visible: kept, not replaced
    return kept_cuda_stack(kept, profile) if kept else cpu_stack(profile, options)


def _extras_need_cuda(backend: str, options: PlanOptions, variant: str | None) -> Advice | None:
    cuda_only = [
        p
        for p in pins()
        if p.requires_cuda_variant
        and set(p.applies_with) & set(options.extras)
        and variant not in p.requires_cuda_variant  # a kept CUDA torch of the variant gets the prebuilt wheel
    ]
    if backend == "cuda" or not cuda_only:
        return None
    extras = " ".join(f"--with {e}" for e in options.extras)
    builds = " and ".join(f"`{p.build_from_source}`" for p in cuda_only if p.build_from_source)
    return Advice(
        id="extras-need-cuda",
        message=f"{', '.join(options.extras)}: the prebuilt wheels are CUDA builds only ("
        + "; ".join(f"torch {p.requires_torch}, {'/'.join(p.requires_cuda_variant)}" for p in cuda_only)
        + "), and no usable NVIDIA GPU is visible here.",
        fix=fix_text("extras-need-cuda", extras=extras, builds=f": {builds}." if builds else "."),
        kb=[p.id for p in cuda_only],
    )


def _container_rocm(backend: str, profile: Profile) -> Advice | None:
    if backend != "rocm" or not profile.python.container:
        return None
    return Advice(
        id="container-rocm-devices",
        message=f"Inside a {profile.python.container} container: ROCm sees the GPU only if the host's "
        "/dev/kfd and /dev/dri are passed in.",
        fix=fix_text("container-rocm-devices"),
    )


def _backend_decision(backend: str, device: DevicePick, profile: Profile) -> Decision:
    return Decision(
        topic="backend",
        choice=backend,
        reasons=[
            Reason(
                text={
                    "cuda": "NVIDIA GPU: CUDA build of torch.",
                    "rocm": "AMD GPU: ROCm (HIP) build of torch.",
                    "xpu": "Intel GPU: PyTorch's XPU build of torch.",
                    "cpu": "CPU build of torch.",
                }[backend],
                facts=[f"device={device.name}"],
            )
        ],
        alternatives=_backend_alternatives(backend, bool(profile.gpus)),
    )


def _python_decision(stack: Stack, profile: Profile) -> Decision:
    python_reason = Reason(
        text=(
            f"{stack.python.message} {stack.python.how}"
            if stack.python.message
            else f"Python {stack.python.current or '(unknown)'} fits {stack.python.required or 'any'}."
        ),
        facts=[f"python.version={profile.python.version}"],
    )
    if profile.python.externally_managed and not profile.python.in_venv:
        python_reason.text += (
            " The system Python is externally managed (PEP 668): install into a venv (`python3 -m venv ~/sd/venv`), "
            "not with --break-system-packages, which lets pip overwrite the distro's own packages."
        )
    return Decision(topic="python", choice=stack.python.required or "any", reasons=[python_reason])


def _device_label(device: DevicePick) -> str:
    if device.kind == "cpu":
        return f"CPU ({device.name})"
    ident = isa_name(device.gfx, device.compute_capability)
    vram = f"{device.vram_bytes / 2**30:.0f} GiB" if device.vram_bytes else None
    details = ", ".join(d for d in (ident, vram) if d)  # an Intel GPU has no gfx/sm name, a paste may lack VRAM
    return f"GPU {device.index}: {device.name}" + (f" ({details})" if details else "")


def _torch_label(t: TorchChoice) -> str:
    if t.source == "source-build":
        return "build from source"
    return f"torch {t.version}+{t.variant}" if t.variant else f"torch {t.version or '?'} ({t.source})"


def _backend_alternatives(backend: str, has_gpu: bool) -> list[Alternative]:
    if backend != "cpu" or not has_gpu:
        return []
    return [
        Alternative(
            choice="stable-diffusion.cpp (Vulkan)",
            why_not="a separate program, not a torch backend the UIs use; worth trying on the GPU torch cannot use",
        ),
        Alternative(choice="DirectML / ZLUDA", why_not="Windows-only routes; rigfit plans Linux"),
    ]


def _extra_installs(options: PlanOptions, torch: TorchChoice, profile: Profile) -> list[str]:
    """Install commands for the extras: their prebuilt wheel when one exists for this torch build, else a compile."""
    cmds = []
    for p in pins():
        if not set(p.applies_with) & set(options.extras):
            continue
        prebuilt = (
            p.index_url is not None
            and (not p.requires_cuda_variant or torch.variant in p.requires_cuda_variant)
            and (not p.requires_torch or (torch.version is not None and in_range(torch.version, p.requires_torch)))
        )
        if prebuilt and p.index_url is not None:
            py = version(profile.python.version)
            minor = py.minor if py is not None and py.major == 3 and in_range(str(py), p.requires_python) else 10
            index = p.index_url.format(minor=minor, variant=torch.variant)
            cmds.append("python -m pip install fvcore iopath")  # its dependencies: --no-index cannot fetch them
            cmds.append(f"python -m pip install --no-index --no-cache-dir {p.package}{p.spec} -f {index}")
        elif p.build_from_source:
            cmds.append(p.build_from_source)
    return cmds
