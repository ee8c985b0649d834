"""The software stack under the UI: which torch build (wheel, source build, distro, community), which Python it
needs, and which environment variables the device needs (set only where needed, never over the user's own)."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.kb.schemas import WheelLine, xpu_ui_names
from rigfit.kb.torch_source import isa_target_for, rocm_source_build
from rigfit.plan.device import GpuAssessment, cc_covered
from rigfit.plan.knowledge import in_range, newest_first, newest_wheel, pins, source_build, version, wheel_lines
from rigfit.plan.model import Advice, Alternative, PlanOptions, PythonNeed, Reason, TorchChoice
from rigfit.probe.cpu import X86_ARCHS
from rigfit.probe.profile import Profile, sm_name
from rigfit.probe.visible_devices import hiding_variable
from rigfit.records import field, record, replace

ALLOC_CONF = "garbage_collection_threshold:0.8,max_split_size_mb:512"
ALLOC_DOC = "https://docs.pytorch.org/docs/stable/notes/cuda.html#optimizing-memory-usage-with-pytorch-cuda-alloc-conf"


@record
class Stack:
    torch: TorchChoice
    python: PythonNeed
    reasons: list[Reason] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    warnings: list[Advice] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def _extra_pins(options: PlanOptions) -> list:
    return [p for p in pins() if p.requires_torch and set(p.applies_with) & set(options.extras)]


def _fits_extras(line: WheelLine, options: PlanOptions) -> bool:
    for p in _extra_pins(options):
        if not in_range(line.torch, p.requires_torch):
            return False
        if p.requires_cuda_variant and line.variant not in p.requires_cuda_variant:
            return False
    return True


def _driver_ok(line: WheelLine, profile: Profile) -> bool | None:
    """Whether the NVIDIA driver runs this CUDA line; None when the driver is unknown."""
    have, need = version(profile.nvidia_driver), version(line.min_driver)
    if have is not None and need is not None:
        return have >= need
    cuda_have, cuda_need = version(profile.cuda_driver_version), version(line.cuda)
    if cuda_have is None or cuda_need is None:
        return None
    return cuda_have >= cuda_need or cuda_have.major == cuda_need.major  # minor-version compatibility


def _python_need(line_python: str | None, profile: Profile, extra_python: list[str]) -> PythonNeed:
    specs = list(dict.fromkeys(s for s in [line_python, *extra_python] if s))  # same range from two sources: once
    required = ",".join(specs) or None
    current = profile.python.version
    ok = in_range(current, required) if required else True if current else None
    message = how = None
    if ok is False:
        target = _python_pick(required or "")
        message = f"Python {current} is outside {required}, the range this torch build (and its extras) supports."
        how = (
            f"Get {target} without touching the system Python: `uv python install {target}` then "
            f"`uv venv -p {target} ~/sd/venv` (uv downloads a standalone CPython; no sudo, no PPA)."
        )
    return PythonNeed(required=required, current=current, ok=ok, message=message, how=how)


def _python_pick(required: str) -> str:
    for candidate in ("3.12", "3.11", "3.10", "3.9", "3.8"):
        if in_range(candidate + ".0", required):
            return candidate
    return "3.10"


def _pick_line(candidates: list[WheelLine], profile: Profile, options: PlanOptions) -> WheelLine | None:
    """Newest line that fits the extras; one that fits the current Python wins over a newer one that does not."""
    fitting = [w for w in newest_first(candidates) if _fits_extras(w, options)]
    same_python = [w for w in fitting if in_range(profile.python.version, w.python) is not False]
    return next(iter(same_python or fitting), None)


def _install_cmd(line: WheelLine, pkgs_extra: str = "") -> list[str]:
    def pkg(name: str, ver: str | None) -> str:
        return f"{name}=={ver}" if ver else name

    parts = [pkg("torch", line.torch), pkg("torchvision", line.torchvision)]
    if line.torchaudio:
        parts.append(pkg("torchaudio", line.torchaudio))
    cmd = f"python -m pip install {' '.join(parts)} --index-url {line.index_url}"
    return [cmd + pkgs_extra]


def _wheel_choice(line: WheelLine) -> TorchChoice:
    return TorchChoice(
        source="wheel" if line.kind in ("cuda", "rocm", "xpu", "cpu") else line.kind,  # type: ignore[arg-type]
        version=line.torch,
        variant=line.variant,
        index_url=line.index_url,
        torchvision=line.torchvision,
        torchaudio=line.torchaudio,
        kb=line.id,
        install=_install_cmd(line) if line.index_url else [],
    )


def _cuda_line(cc: str | None, profile: Profile, options: PlanOptions) -> WheelLine:
    """The newest CUDA line with kernels for `cc` that the driver runs (and the extras allow, when one does)."""
    lines = [w for w in wheel_lines() if w.kind == "cuda" and (cc is None or cc_covered(cc, w.cuda_archs))]
    driver_fit = [w for w in lines if _driver_ok(w, profile) is not False]
    bare = replace(options, extras=[])
    # the driver floor before the extras: a line the driver cannot run is never picked for a prebuilt extra
    line = (
        _pick_line(driver_fit, profile, options)
        or _pick_line(driver_fit, profile, bare)
        or _pick_line(lines, profile, options)
        or _pick_line(lines, profile, bare)
    )
    assert line is not None  # the assessment found at least one line with these kernels
    return line


def _cuda_driver_note(line: WheelLine, profile: Profile) -> Advice | Reason | None:
    """A warning when the driver version is unknown or too old for every line with this GPU's kernels; a reason
    when the wheel runs by minor-version compatibility."""
    driver_ok = _driver_ok(line, profile)
    if driver_ok is False:
        return Advice(
            id="driver-too-old",
            message=f"The NVIDIA driver {profile.nvidia_driver or ''} (CUDA {profile.cuda_driver_version or '?'}) is "
            f"older than every torch CUDA line rigfit knows with this GPU's kernels needs: torch {line.torch}+"
            f"{line.variant} needs driver >= {line.min_driver}.",
            fix=fix_text("driver-too-old", min_driver=line.min_driver),
            kb=[line.id],
        )
    if driver_ok is None:
        return Advice(
            id="driver-unknown",
            message=f"The NVIDIA driver version is unknown: torch {line.torch}+{line.variant} needs driver >= "
            f"{line.min_driver}.",
            fix=fix_text("driver-unknown", min_driver=line.min_driver),
            kb=[line.id],
        )
    if (cv := version(profile.cuda_driver_version)) is not None and (cn := version(line.cuda)) and cv < cn:
        return Reason(
            text=f"The driver supports CUDA {profile.cuda_driver_version}; the CUDA {line.cuda} wheel runs on it "
            f"through CUDA minor-version compatibility (driver >= {line.min_driver}); only PTX JIT would need a "
            "newer driver.",
            facts=[f"cuda_driver_version={profile.cuda_driver_version}"],
            kb=[line.id],
        )
    return None


def cuda_stack(a: GpuAssessment, profile: Profile, options: PlanOptions) -> Stack:
    cc = a.gpu.compute_capability
    line = _cuda_line(cc, profile, options)
    warnings = []
    if not _fits_extras(line, options):
        warnings.append(
            Advice(
                id="extras-no-prebuilt",
                message=f"{', '.join(options.extras)}: no prebuilt wheel matches a torch line with kernels for this "
                f"GPU ({_prebuilt_for(options)}).",
                fix=fix_text("extras-no-prebuilt", variant=line.variant, source_builds=_source_builds(options)),
                kb=[p.id for p in _extra_pins(options)],
            )
        )
    reasons = [
        Reason(
            text=f"torch {line.torch}+{line.variant}: the newest official line with {sm_name(cc or '?')} "
            f"kernels{' that the driver runs' if _driver_ok(line, profile) is not False else ''}"
            + (" and the requested extras allow" if options.extras else "")
            + ".",
            facts=[
                f"gpu.compute_capability={cc}",
                f"nvidia_driver={profile.nvidia_driver}",
                f"cuda_driver_version={profile.cuda_driver_version}",
            ],
            kb=[line.id, *(p.id for p in _extra_pins(options))],
        )
    ]
    alternatives = [
        Alternative(choice=f"torch {w.torch}+{w.variant}", why_not=_why_not_cuda(w, cc, profile, options))
        for w in newest_first([w for w in wheel_lines() if w.kind == "cuda"])
        if w is not line
    ][:4]
    note = _cuda_driver_note(line, profile)
    if isinstance(note, Advice):
        warnings.append(note)
    elif note is not None:
        reasons.append(note)
    python = _python_need(line.python, profile, [p.requires_python for p in _extra_pins(options) if p.requires_python])
    return Stack(_wheel_choice(line), python, reasons, alternatives, warnings)


def _prebuilt_for(options: PlanOptions) -> str:
    """Which torch builds the extras' prebuilt wheels exist for: "torch ==2.1.0, cu118/cu121"."""
    return "; ".join(
        f"{p.package}: torch {p.requires_torch}, {'/'.join(p.requires_cuda_variant) or 'any variant'}"
        for p in _extra_pins(options)
    )


def _source_builds(options: PlanOptions) -> str:
    """The commands that compile the extras when no prebuilt wheel fits."""
    cmds = [f"`{p.build_from_source}`" for p in _extra_pins(options) if p.build_from_source]
    return " and ".join(cmds) or "build each from its source repository"


def _why_not_cuda(w: WheelLine, cc: str | None, profile: Profile, options: PlanOptions) -> str:
    if cc and not cc_covered(cc, w.cuda_archs):
        return f"no {sm_name(cc)} kernels (has {', '.join(w.cuda_archs)})"
    if _driver_ok(w, profile) is False:
        return f"needs NVIDIA driver >= {w.min_driver} (have {profile.nvidia_driver})"
    if not _fits_extras(w, options):
        return f"the extras ({', '.join(options.extras)}) have no prebuilt wheels for it"
    if in_range(profile.python.version, w.python) is False:
        return f"no wheels for Python {profile.python.version} ({w.python})"
    return "older than the chosen line"


def _rocm_source_build(a: GpuAssessment, profile: Profile, facts: list[str], checks: list[str]) -> Stack:
    """No AVX: the official ROCm wheels die at import, so torch is built from source against the host ROCm."""
    entry, target = a.gfx_entry, a.kernel_gfx
    assert entry is not None and target is not None
    src = source_build("rocm")
    official = newest_wheel("rocm", needs_avx=True)
    isa = isa_target_for(profile.cpu.flags)
    # the same recipe `rigfit explain` prints for this SIGILL (rigfit/kb/torch_build/, one KB entry)
    steps = [rocm_source_build(isa.id if isa else None, target, profile.rocm.version)]
    borrowed = target != a.gpu.gfx
    reasons = [
        Reason(
            text="This CPU has no AVX, and the official ROCm wheels bundle rocBLAS/MIOpen host code that executes "
            "AVX (Illegal instruction at import): torch must be built from source against the host ROCm.",
            facts=facts,
            kb=[official.id, src.id],
        ),
        Reason(
            text=f"Build for {target}"
            + (
                f", not {a.gpu.gfx}: the host ROCm's rocBLAS/MIOpen packages carry {target} kernels, so the card "
                f"runs them under HSA_OVERRIDE_GFX_VERSION={entry.override} either way."
                if borrowed
                else "."
            ),
            facts=[f"gpu.gfx={a.gpu.gfx}"],
            kb=[entry.id],
        ),
        Reason(
            text="The ROCm host libraries themselves may contain AVX even when built with -mno-avx "
            "(ROCm/rocBLAS#1422): prove the stack on this CPU before relying on it.",
            kb=[src.id],
        ),
    ]
    checks.append("rigfit verify --env ~/sd/venv --cpu westmere  (same check from a newer machine, AVX hidden)")
    alternatives = [
        Alternative(
            choice="official torch ROCm wheel",
            why_not="bundled rocBLAS executes AVX: SIGILL on this CPU (pytorch#125310, ROCm/pytorch#1216)",
        ),
        Alternative(
            choice="distro torch built for ROCm (Ubuntu python3-torch-rocm)",
            why_not="follows the generic amd64 baseline (no AVX) but needs a newer Ubuntu release and its rocBLAS "
            f"must carry {target} kernels: check `apt-cache policy python3-torch-rocm`",
        ),
        Alternative(
            choice="torch CPU wheel",
            why_not="runs on this CPU without AVX, but minutes per image instead of seconds",
        ),
    ]
    choice = TorchChoice(source="source-build", kb=src.id, install=steps)
    python = _python_need(src.python, profile, [])
    return Stack(choice, python, reasons, alternatives, [], checks)


def _rocm_line(a: GpuAssessment, profile: Profile, options: PlanOptions, facts: list[str]) -> tuple[WheelLine, Reason]:
    """The ROCm line for the card's kernel ISA: the known-good one for an unreliable override, else the newest
    official line with its kernels, else the community build."""
    entry, target = a.gfx_entry, a.kernel_gfx
    assert entry is not None and target is not None
    native = [w for w in wheel_lines() if w.kind == "rocm" and target in w.rocm_archs]
    known = [
        w
        for w in wheel_lines()
        if entry.known_good_torch and w.torch == entry.known_good_torch and target in [*w.rocm_archs, a.gpu.gfx]
    ]
    if entry.override_reliability == "unreliable" and known:
        line = known[0]
        return line, Reason(
            text=f"{a.gpu.gfx} ({entry.family}) borrows {target} kernels unreliably; torch {line.torch}+"
            f"{line.variant} is the line known to run Stable Diffusion on it. Newer lines: verify first.",
            facts=facts,
            kb=[entry.id, line.id],
        )
    if native:
        line = _pick_line(native, profile, options) or newest_first(native)[0]
        return line, Reason(
            text=f"torch {line.torch}+{line.variant}: the newest official ROCm line with {target} kernels.",
            facts=facts,
            kb=[line.id, entry.id],
        )
    line = known[0]  # the assessment only routes a card here when a known-good (community) line exists
    return line, Reason(text=f"Only community builds still carry {a.gpu.gfx} kernels.", facts=facts, kb=[line.id])


def rocm_stack(a: GpuAssessment, profile: Profile, options: PlanOptions) -> Stack:
    entry, target = a.gfx_entry, a.kernel_gfx
    assert entry is not None and target is not None
    cpu = profile.cpu
    facts = [f"gpu.gfx={a.gpu.gfx}", f"cpu.avx={cpu.avx}"]
    checks = ["rigfit verify --env ~/sd/venv"]
    if cpu.avx is False:
        return _rocm_source_build(a, profile, facts, checks)
    line, reason = _rocm_line(a, profile, options, facts)
    reasons = [reason]
    alternatives = [
        Alternative(
            choice=f"torch {w.torch}+{w.variant}",
            why_not=f"no {target} kernels" if target not in w.rocm_archs else "older than the chosen line",
        )
        for w in newest_first([w for w in wheel_lines() if w.kind == "rocm"])
        if w is not line
    ][:3]
    choice = _wheel_choice(line)
    if line.kind == "community":
        choice.install = [f"see {s}" for s in line.sources]
    python = _python_need(line.python, profile, [])
    if entry.override_reliability == "unreliable":
        checks.append("rigfit bench --env ~/sd/venv --quick  (an unreliable override shows up as NaN or a crash)")
    return Stack(choice, python, reasons, alternatives, [], checks)


def xpu_stack(profile: Profile, options: PlanOptions) -> Stack:
    """PyTorch's XPU build for an Intel GPU; the driver stack it needs is the host's (Intel's compute runtime)."""
    line = newest_wheel("xpu")
    reasons = [
        Reason(
            text=f"torch {line.torch}+xpu from {line.index_url}: PyTorch's own Intel GPU backend (torch.xpu); the "
            "wheel brings its SYCL runtime, the GPU driver (compute runtime, Level Zero) comes from the host.",
            kb=[line.id],
        )
    ]
    checks = [
        'python -c "import torch; print(torch.xpu.is_available())"  (in the env: True when the driver stack works)',
        "rigfit verify --env ~/sd/venv",
    ]
    alternatives = [Alternative(choice=f"torch {newest_wheel('cpu').torch}+cpu", why_not="minutes per image")]
    python = _python_need(line.python, profile, [])
    driver = Advice(
        id="xpu-driver",
        message="The XPU build needs Intel's GPU driver packages (compute runtime and Level Zero) on the host.",
        fix=fix_text("gpu.intel_xpu", uis=xpu_ui_names()),
        kb=[line.id],
    )
    return Stack(_wheel_choice(line), python, reasons, alternatives, [driver], checks)


def cpu_stack(profile: Profile, options: PlanOptions) -> Stack:
    line = newest_wheel("cpu")
    cpu = profile.cpu
    reasons = [
        Reason(
            text=f"torch {line.torch}+cpu: CPU wheels use DEFAULT kernels when AVX is missing and dispatch "
            "AVX2/AVX-512 when present.",
            facts=[f"cpu.avx={cpu.avx}", f"cpu.x86_64_level={cpu.x86_64_level}"],
            kb=[line.id],
        )
    ]
    warnings = []
    checks = ["rigfit verify --env ~/sd/venv"]
    if cpu.sse4_1 is False and (cpu.arch is None or cpu.arch in X86_ARCHS):  # off x86 there is no SSE to lack
        warnings.append(
            Advice(
                id="sse41-missing",
                message="This CPU lacks SSE4.1, below torch's stated floor: the CPU wheel may die with "
                "'Illegal instruction'.",
                fix=fix_text("sse41-missing"),
                kb=[line.id],
            )
        )
    if cpu.avx is False:
        checks.append("rigfit verify --env ~/sd/venv --cpu westmere  (same check from a newer machine, AVX hidden)")
    alternatives = [
        Alternative(
            choice="Debian python3-torch (distro package)",
            why_not="older torch (2.6 in trixie, 1.13 in bookworm) tied to the system Python; kept as the fallback "
            "if the wheel ever dies with 'Illegal instruction'",
        )
    ]
    python = _python_need(line.python, profile, [])
    return Stack(_wheel_choice(line), python, reasons, alternatives, warnings, checks)


Wanted = dict[str, tuple[str, Reason]]


def _rocm_env(a: GpuAssessment) -> Wanted:
    """The card's own ROCm variables: the gfx override, the KB entry's env, the allocator on small cards."""
    wanted: Wanted = {}
    entry = a.gfx_entry
    assert entry is not None
    if a.kernel_gfx and a.kernel_gfx != a.gpu.gfx and entry.override:
        wanted["HSA_OVERRIDE_GFX_VERSION"] = (
            entry.override,
            Reason(
                text=f"{a.gpu.gfx} runs {a.kernel_gfx} kernels: ROCm must be told to treat it as {entry.override}.",
                facts=[f"gpu.gfx={a.gpu.gfx}"],
                kb=[entry.id],
            ),
        )
    for name, value in entry.env.items():
        wanted[name] = (value, Reason(text=f"{entry.id} needs {name}={value}.", kb=[entry.id]))
    if (a.gpu.vram_bytes or 0) and (a.gpu.vram_bytes or 0) <= 8 * 2**30:
        wanted["PYTORCH_HIP_ALLOC_CONF"] = (
            ALLOC_CONF,
            Reason(
                text=f"8 GiB or less on ROCm: return cached blocks early and cap split sizes to avoid "
                f"fragmentation OOMs ({ALLOC_DOC}).",
                facts=[f"gpu.vram_bytes={a.gpu.vram_bytes}"],
            ),
        )
    return wanted


def _visible_devices_env(a: GpuAssessment, profile: Profile, backend: str) -> Wanted:
    """With several GPUs of the chosen vendor: show torch only the chosen one, as its device 0."""
    wanted: Wanted = {}
    same_vendor = sorted(
        (i for i, g in enumerate(profile.gpus) if g.vendor == a.gpu.vendor),
        key=lambda i: (profile.gpus[i].kfd_node is None, profile.gpus[i].kfd_node or 0, profile.gpus[i].bdf or ""),
    )  # ROCm numbers GPUs in KFD node order; CUDA (with CUDA_DEVICE_ORDER=PCI_BUS_ID) in bus order
    if len(same_vendor) <= 1:
        return wanted
    position = same_vendor.index(a.index)
    if backend == "rocm":
        wanted["HIP_VISIBLE_DEVICES"] = (
            str(position),
            Reason(
                text=f"Hide the other {a.gpu.vendor.upper() if a.gpu.vendor else ''} GPU(s) so torch's "
                "device 0 is the chosen card (an iGPU as device 0 crashes or crawls).",
                facts=[f"gpus={len(profile.gpus)}"],
            ),
        )
    elif backend == "cuda":
        wanted["CUDA_DEVICE_ORDER"] = ("PCI_BUS_ID", Reason(text="Number CUDA devices in PCI order."))
        wanted["CUDA_VISIBLE_DEVICES"] = (
            str(position),
            Reason(text="Show torch only the chosen card.", facts=[f"gpus={len(profile.gpus)}"]),
        )
    return wanted


def _user_differs(name: str, mine: str, value: str, reason: Reason) -> Advice:
    return Advice(
        id="user-env-differs",
        message=f"You set {name}={mine}; rigfit would use {value} ({reason.text.rstrip('.')}). Yours is kept.",
        fix=fix_text("user-env-differs", name=name, value=value),
        kb=reason.kb,
    )


def _stale_override(name: str, value: str, a: GpuAssessment | None) -> Advice:
    return Advice(
        id="stale-override",
        message=f"{name}={value} is set but this card needs no override: a stale override makes "
        "ROCm load the wrong kernels ('Memory access fault').",
        fix=fix_text("stale-override", name=name),
        kb=[a.gfx_entry.id] if a is not None and a.gfx_entry is not None else [],
    )


def device_env(
    a: GpuAssessment | None, profile: Profile, options: PlanOptions, backend: str
) -> tuple[dict[str, str], dict[str, str], list[Reason], list[Advice]]:
    """Variables to set, the user's own kept, reasons, warnings. Never overrides a value the user already set."""
    wanted: Wanted = {}
    if a is not None and backend == "rocm" and a.gfx_entry is not None:
        wanted.update(_rocm_env(a))
    if a is not None:
        wanted.update(_visible_devices_env(a, profile, backend))
    user = dict(options.user_env)
    if profile.rocm.hsa_override and "HSA_OVERRIDE_GFX_VERSION" not in user:
        user["HSA_OVERRIDE_GFX_VERSION"] = profile.rocm.hsa_override
    env: dict[str, str] = {}
    kept: dict[str, str] = {}
    reasons: list[Reason] = []
    warnings: list[Advice] = []
    for name, (value, reason) in wanted.items():
        if name in user:
            kept[name] = user[name]
            if user[name] != value:
                warnings.append(_user_differs(name, user[name], value, reason))
            continue
        env[name] = value
        reasons.append(reason)
    name = "HSA_OVERRIDE_GFX_VERSION"
    if name in user and name not in wanted and backend == "rocm":
        kept[name] = user[name]
        warnings.append(_stale_override(name, user[name], a))
    warnings.extend(_hidden_gpu_advice(a, profile))
    return env, kept, reasons, warnings


def _hidden_gpu_advice(a: GpuAssessment | None, profile: Profile) -> list[Advice]:
    """doctor's finding, as advice: a selection variable set here hides the planned GPU from the UI."""
    if a is None or (hidden := hiding_variable(profile, a.gpu.vendor or "")) is None:
        return []
    name, value = hidden
    return [
        Advice(
            id="gpu-hidden-by-selection-variable",
            message=f"{name}={value!r} is set here: the UI would not see the {a.gpu.name or 'GPU'} this plan is for "
            "and would run on the CPU.",
            fix=fix_text("gpu.hidden-by-selection-variable", variable=name),
        )
    ]
