"""CPU: architecture, model, topology, and the instruction-set flags that decide which binaries can run."""

from __future__ import annotations

from collections.abc import Callable

from rigfit.kb.fixes import fix_text
from rigfit.lazy_re import later
from rigfit.probe.cpu_text import CpuText, flag_states, parse_cpuinfo, parse_lscpu, x86_64_level
from rigfit.probe.gpu.rocminfo import RocmAgent, parse_rocminfo
from rigfit.probe.gpu.rocminfo_grep import with_grepped_agents
from rigfit.probe.gpu.torch_reports import parse_torch_report
from rigfit.probe.gpus import NVIDIA_SMI, ROCMINFO
from rigfit.probe.host_rules import rule_finding
from rigfit.probe.profile import CpuInfo, Finding, Profile, Severity
from rigfit.probe.source import CommandSpec, Source
from rigfit.probe.sysinfo_host import parse_sysinfo_host

LSCPU = CommandSpec("lscpu", ("lscpu",))
UNAME_M = CommandSpec("uname-m", ("uname", "-m"))
COMMANDS = (LSCPU, UNAME_M)
X86_ARCHS = ("x86_64", "amd64", "i386", "i486", "i586", "i686")
ARCH_32BIT = ("i386", "i486", "i586", "i686", "armv6l", "armv7l", "armhf", "arm")
_ARCH_NAME = later(r"^[a-z0-9_]{2,16}$")


def probe_cpu(source: Source, warn: Callable[[str], None]) -> CpuInfo:
    """Merge /proc/cpuinfo (flags), lscpu (topology, model names for ARM) and `uname -m` (architecture)."""
    read = source.read_text("/proc/cpuinfo")
    from_file = parse_cpuinfo(read.text, whole_file=source.whole_files) if read.text else CpuText()
    lscpu = source.run(LSCPU)
    from_lscpu = parse_lscpu(lscpu.output) if lscpu.ok and lscpu.output else _pasted_lscpu(source)
    uname = source.run(UNAME_M)
    machine = (uname.output or "").strip().lower() if uname.ok else ""

    cpu = CpuInfo(
        arch=machine if _ARCH_NAME.match(machine) else from_lscpu.arch or from_file.arch,
        vendor=from_lscpu.vendor or from_file.vendor,
        model=_model(source, from_lscpu, from_file),
        sockets=from_lscpu.sockets or from_file.sockets,
        cores=from_lscpu.cores or from_file.cores,
        threads=from_lscpu.threads or from_file.threads,
    )
    _sysinfo_counts(source, cpu)
    if cpu.threads is None:
        cpu.threads_at_least = from_file.threads_at_least
    best = from_file if from_file.flags is not None else from_lscpu
    _set_flags(cpu, best, warn)
    if cpu.flags is None:
        reasons = [f"/proc/cpuinfo {read.error or 'has no flags line'}", f"lscpu {lscpu.error or 'printed no Flags'}"]
        warn(
            f"CPU instruction sets unknown ({'; '.join(reasons)}): AVX/SSE4.2 checks skipped. "
            "Check by hand with `grep -m1 -E '^(flags|Features)' /proc/cpuinfo`."
        )
    elif not best.flags_complete:
        warn("the CPU flag list looks cut short: flags it does not reach are reported unknown")
    if cpu.arch is None:
        warn("CPU architecture unknown (no `uname -m`, lscpu or /proc/cpuinfo answer)")
    return cpu


def _pasted_lscpu(source: Source) -> CpuText:
    """Without lscpu's own output: the lscpu output a pasted torch collect_env holds under "CPU:" (pasted where
    nvidia-smi's output goes)."""
    report = parse_torch_report(source.run(NVIDIA_SMI).output)
    return parse_lscpu("\n".join(report.cpu_lines)) if report and report.cpu_lines else CpuText()


def _sysinfo_counts(source: Source, cpu: CpuInfo) -> None:
    """Without lscpu or /proc/cpuinfo: the logical and physical CPU counts a pasted A1111/Forge sysinfo holds (pasted
    where nvidia-smi's output goes); its "model" is no model name (rigfit.probe.sysinfo_host)."""
    if cpu.threads is not None or cpu.cores is not None:
        return
    host = parse_sysinfo_host(source.run(NVIDIA_SMI).output)
    cpu.threads, cpu.cores = host.threads, host.cores


def _model(source: Source, *read: CpuText) -> str | None:
    """lscpu's or /proc/cpuinfo's model name; without either: the one a pasted rocminfo's CPU agent names."""
    named = next((text.model for text in read if text.model), None)
    if named or any(text.flags is not None or text.arch for text in read):
        return named
    result = source.run(ROCMINFO)
    agents = with_grepped_agents(parse_rocminfo(result.output), result.output).agents if result.output else []
    cpu = next((a for a in agents if a.device_type == "CPU"), None) or _first_agent_cut(agents)
    model = (cpu.marketing_name or cpu.name) if cpu else None
    # WSL's and some containers' rocminfo name the CPU agent just "CPU": a placeholder, not a model
    return model if model and model.strip().upper() != "CPU" else None


def _first_agent_cut(agents: list[RocmAgent]) -> RocmAgent | None:
    """A rocminfo cut inside its first agent, before the line that says it is a CPU: rocminfo lists the agents in
    KFD topology order, CPU nodes first, and a GPU agent's name is its gfx target; so an untyped first agent named
    otherwise is the CPU."""
    first = agents[0] if len(agents) == 1 else None
    if first is None or first.device_type or first.gfx or not first.name or first.name.startswith("gfx"):
        return None
    return first


def _set_flags(cpu: CpuInfo, best: CpuText, warn: Callable[[str], None]) -> None:
    """The instruction-set booleans and x86-64 level from the flag list (all False off x86)."""
    cpu.flags = best.flags
    x86 = cpu.arch in X86_ARCHS if cpu.arch else best.isa == "x86" if best.isa else None
    if x86 is False:
        # not an x86 CPU: it has none of the x86 extensions (known, not unknown)
        for name in flag_states([], True)[0]:
            setattr(cpu, name, False)
    elif best.flags is not None:
        states, problems = flag_states(best.flags, best.flags_complete)
        for name, value in states.items():
            setattr(cpu, name, value)
        cpu.x86_64_level = x86_64_level(best.flags, best.flags_complete)
        for problem in problems:
            warn(f"{problem}; the flags it contradicts are reported unknown")


def _finding(
    rule_id: str, severity: Severity, message: str, *, fix: str | None = None, kb: list[str] | None = None
) -> Finding:
    """A cpu finding named after the KB rule it rests on."""
    return rule_finding(f"cpu.{rule_id}", rule_id, severity, "cpu", message, fix=fix, kb=kb)


def _arch_findings(c: CpuInfo) -> list[Finding]:
    """What the architecture alone rules out: 32-bit systems, ARM CPUs without LSE atomics."""
    found: list[Finding] = []
    if c.arch in ARCH_32BIT:
        found.append(
            Finding(
                id="cpu.32-bit",
                severity="warning",
                message=f"this system runs a 32-bit {c.arch} kernel: PyTorch publishes no wheels for 32-bit CPUs.",
                fix=fix_text("cpu.32-bit"),
                group="cpu",
            )
        )
    if c.arch == "aarch64" and c.flags is not None and "atomics" not in c.flags:
        found.append(
            _finding(
                "torch-aarch64-lse-atomics",
                "warning",
                "this ARM CPU lacks LSE atomics (no 'atomics' in its features): aarch64 torch wheels built with them "
                "die with 'Illegal instruction' on it (2.4.0 and 2.10.0 at import, 2.6.0 in TorchScript).",
            )
        )
    return found


def _x86_findings(c: CpuInfo) -> list[Finding]:
    """x86 instruction-set extensions the builds assume (SSE4.1, x86-64-v2, AVX, AVX2), and VMs that hide them."""
    assert c.flags is not None
    found: list[Finding] = []
    if c.sse4_1 is False:
        found.append(
            _finding(
                "torch-sse4_1-floor",
                "warning",
                "this CPU lacks SSE4.1, the oldest x86 extension PyTorch wheels still assume: official torch wheels "
                "may die with 'Illegal instruction' at import.",
            )
        )
    if c.sse4_2 is False or c.popcnt is False:
        missing = " and ".join(n.upper().replace("_", ".") for n in ("sse4_2", "popcnt") if getattr(c, n) is False)
        found.append(
            _finding(
                "numpy-2.4-x86-64-v2",
                "warning",
                f"this CPU lacks {missing} (it is x86-64-v1): numpy 2.4 and later do not run on it "
                "(they need x86-64-v2); every env for Stable Diffusion must pin numpy below 2.4.",
                fix=fix_text("cpu.numpy-2.4-x86-64-v2"),
            )
        )
    if c.avx is False:
        cpu_route = (
            "CPU-only torch wheels do run on this CPU (x86-64-v2: torch 2.13 verified under qemu Westmere)"
            if c.sse4_2
            else "CPU-only torch also needs a build for x86-64-v1"
        )
        found.append(
            _finding(
                "no-avx-routes",
                "warning",
                "this CPU has no AVX: official ROCm builds of torch crash with 'Illegal instruction' at import "
                f"(their ROCm host libraries use AVX). {cpu_route}.",
                kb=["torch-rocm-avx", "no-avx-routes", "torch-cpu-wheels-x86-64-v2"],
            )
        )
    elif c.avx and c.avx2 is False:
        found.append(
            _finding(
                "torch-avx-without-avx2-mkl",
                "info",
                "this CPU has AVX but not AVX2: torch CPU kernels run their DEFAULT (non-AVX2) versions, and "
                "torch 2.10.0+cpu was reported to hit SIGILL in MKL on such CPUs; check the build you install.",
            )
        )
    hidden = c.avx is False or c.sse4_2 is False
    virtual = "hypervisor" in c.flags or "qemu" in (c.model or "").lower() or "kvm" in (c.model or "").lower()
    if hidden and virtual:
        found.append(
            _finding(
                "vm-cpu-model-hides-features",
                "warning",
                f"this is a virtual machine whose CPU model ({c.model or 'unknown'}) exposes no "
                f"{'AVX' if c.avx is False else 'SSE4.2'}: the host CPU may well have it.",
            )
        )
    return found


def cpu_findings(profile: Profile) -> list[Finding]:
    """Instruction-set problems with the exact consequence and fix; nothing x86-specific off x86."""
    c = profile.cpu
    found = _arch_findings(c)
    if c.arch not in (None, *X86_ARCHS) or c.flags is None:
        return found
    return found + _x86_findings(c)
