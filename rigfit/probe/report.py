"""Render doctor's report (text and JSON) and decide its exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rigfit.kb.typed import dump
from rigfit.probe.memory import gib
from rigfit.probe.profile import CpuInfo, Finding, GpuInfo, MemoryInfo, OsInfo, Profile, PythonInfo, TorchInfo, isa_name
from rigfit.probe.torch_probe import supported_ccs
from rigfit.terminal import escape, prose

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "rigfit.doctor/1"
SECTIONS = (
    ("cpu", "CPU"),
    ("memory", "Memory and disk"),
    ("gpus", "GPUs"),
    ("drivers", "Drivers and runtimes"),
    ("permissions", "Permissions"),
    ("python", "Python"),
    ("torch", "Installed torch"),
    ("plan", "Plan"),
    ("system", "System"),
)
MARK = {"blocker": "[bold red]✗[/]", "warning": "[yellow]![/]", "info": "[green]✓[/]"}
NOTE_MARK = "[cyan]i[/]"  # an info finding that still carries a fix (something to do): not a "✓"


def mark_of(finding: Finding) -> str:
    return NOTE_MARK if finding.severity == "info" and finding.fix else MARK[finding.severity]


def nothing_can_run(profile: Profile, findings: list[Finding]) -> bool:
    """True when blockers leave no device for Stable Diffusion (doctor exits 1)."""
    blocked = {f.blocks for f in findings if f.severity == "blocker"}
    if "all" in blocked:
        return True
    gpu_out = "gpu" in blocked or not profile.gpus
    return "cpu" in blocked and gpu_out


def doctor_json(profile: Profile, findings: list[Finding]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "profile": dump(profile),
        "findings": dump(findings),
    }


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _cpu_lines(c: CpuInfo) -> list[str]:
    flags = ", ".join(
        f"{name} {yes_no(getattr(c, name))}"
        for name in ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_bf16")
    )
    level = f"x86-64-v{c.x86_64_level}" if c.x86_64_level else "x86-64 level unknown"
    return [
        f"{c.model or 'model unknown'} ({c.arch or 'arch unknown'})",
        f"{c.sockets or '?'} socket(s), {c.cores or '?'} cores, {_threads(c)} threads",
        f"{flags}; {level}" if c.arch in (None, "x86_64") else f"features: {' '.join(c.flags or []) or 'unknown'}",
    ]


def _threads(c: CpuInfo) -> str:
    if c.threads:
        return str(c.threads)
    return f"at least {c.threads_at_least}" if c.threads_at_least else "?"


def _memory_lines(m: MemoryInfo) -> list[str]:
    return [
        f"RAM {gib(m.total_bytes)} (available {gib(m.available_bytes)}), swap {gib(m.swap_total_bytes)}",
        f"free disk at {m.disk_path or '?'}: {gib(m.disk_free_bytes)}",
    ]


def _given_python_lines(p: PythonInfo, o: OsInfo) -> list[str]:
    """What a paste (or any part of a machine) shows of its Python and OS, and nothing it does not show."""
    python = f"Python {p.version}" if p.version else None
    family = f"{o.system}{'' if o.kernel else ' (release unknown)'}" if o.system else None
    named = o.pretty_name or o.distro_id or family
    system = ", ".join(part for part in (named, f"kernel {o.kernel}" if o.kernel else None, p.container) if part)
    return [python or "Python: not in what was given", system or "OS and kernel: not in what was given"]


def _python_lines(p: PythonInfo, o: OsInfo, whole: bool = True) -> list[str]:
    if not whole and p.executable is None:
        return _given_python_lines(p, o)
    return [
        f"Python {p.version or 'unknown'} at {p.executable or '?'}; venv {yes_no(p.in_venv)}; "
        f"externally managed (PEP 668) {yes_no(p.externally_managed)}",
        f"{o.pretty_name or o.distro_id or 'OS unknown'}, kernel {o.kernel or 'unknown'}"
        + (f", container {p.container}" if p.container else "")
        + (", WSL" if p.wsl else ""),
    ]


def _gpu_line(i: int, g: GpuInfo) -> str:
    ident = isa_name(g.gfx, g.compute_capability)
    link = ""
    if g.pcie and g.pcie.speed_gts:
        link = f", PCIe {g.pcie.speed_gts:g} GT/s x{g.pcie.width or '?'}"
        if g.pcie.max_speed_gts:
            link += f" (max {g.pcie.max_speed_gts:g} GT/s x{g.pcie.max_width or '?'})"
    kind = {True: "integrated", False: "discrete", None: "discrete/integrated unknown"}[g.integrated]
    vendor = {"amd": "AMD", "nvidia": "NVIDIA", "intel": "Intel"}.get(g.vendor or "")
    unnamed = f"{vendor} GPU, model not shown" if vendor else "unknown GPU"
    return (
        f"[{i}] {g.name or unnamed} [{g.pci_id or 'PCI id unknown'}] {ident or ''} VRAM {gib(g.vram_bytes)}, "
        f"{kind}, "
        f"driver {g.driver or 'none/unknown'}{link}"
    )


def _driver_lines(profile: Profile) -> list[str]:
    lines = []
    r = profile.rocm
    if profile.nvidia_driver or profile.cuda_driver_version:
        lines.append(f"NVIDIA driver {profile.nvidia_driver or '?'} (CUDA up to {profile.cuda_driver_version or '?'})")
    if profile.cuda_toolkit:
        lines.append(f"CUDA toolkit (nvcc) {profile.cuda_toolkit}")
    if r.version or r.hip_version or r.gpu_agents:
        lines.append(
            f"ROCm {r.version or '?'} (HIP {r.hip_version or '?'}); "
            f"rocminfo agents: {', '.join(r.gpu_agents) or 'none'}"
        )
    if r.hsa_override:
        lines.append(f"HSA_OVERRIDE_GFX_VERSION={r.hsa_override} is set")
    if profile.pcie_atomics_rejected:
        lines.append(f"KFD rejected (no PCIe atomics): {', '.join(profile.pcie_atomics_rejected)}")
    return lines


def _permission_lines(profile: Profile) -> list[str]:
    lines = []
    perm = profile.permissions
    if perm.groups is not None:
        lines.append(f"groups: {', '.join(perm.groups) or 'none'}")
    if profile.kfd_access in ("ok", "permission_denied") or any(g.vendor == "amd" for g in profile.gpus):
        lines.append(f"/dev/kfd: {profile.kfd_access or 'unknown'}")  # ROCm's door: noise on a machine without AMD GPU
    for node, access in perm.render_nodes.items():
        lines.append(f"{node}: {access}")
    return lines


def _torch_lines(t: TorchInfo | None) -> list[str]:
    if t is not None and t.version is None and (supports := supported_ccs(t)):
        return [f"a torch of unknown version (its own warning: it supports {supports})"]
    if t is not None and t.version is None and (said := _build_said(t)):
        return [f"a torch of unknown version: {said}"]
    if t is None or t.version is None:
        return ["no torch installed in this Python" if t is not None else "not checked"]
    backend = (
        "build not shown: no +cuXXX/+rocm/+cpu tag"
        if t.build_unknown
        else f"CUDA {t.cuda}"
        if t.cuda
        else f"ROCm/HIP {t.hip}"
        if t.hip
        else "CPU-only build"
    )
    status = t.import_status or "not imported"
    where = f" at {t.location}" if t.location else ""
    lines = [f"torch {t.version} ({backend}){where}: import {status}"]
    if t.device_names:
        lines.append(f"devices: {', '.join(t.device_names)}")
    return lines


def _build_said(t: TorchInfo) -> str:
    """What a UI's lines say of a torch it does not name (ComfyUI's cu130 warning, comfy_kitchen's backends)."""
    sees = {
        True: "it sees a GPU (torch.cuda.is_available() True)",
        False: "it sees no GPU (torch.cuda.is_available() False)",
    }
    parts = [
        f"a CUDA build older than {t.cuda_below} (ComfyUI's cu130 warning)" if t.cuda_below else None,
        "not a ROCm build (comfy_kitchen: PyTorch ROCm/HIP runtime not available)"
        if t.not_rocm and not t.cuda_below
        else None,
        sees.get(t.gpu_available) if t.gpu_available is not None else None,
    ]
    return "; ".join(part for part in parts if part)


def _no_gpu_line(profile: Profile) -> str:
    if profile.whole:
        return "no GPU found"
    return (
        "no GPU read from what was given: whether this machine has one is unknown (run `rigfit doctor` on it to know)"
    )


def facts_by_section(profile: Profile) -> dict[str, list[str]]:
    """Short lines of what was found, for every report section ("plan" stays empty: render_doctor is given those)."""
    lines: dict[str, list[str]] = {key: [] for key, _ in SECTIONS}
    lines |= {
        "cpu": _cpu_lines(profile.cpu),
        "memory": _memory_lines(profile.memory),
        "python": _python_lines(profile.python, profile.os, profile.whole),
        "gpus": [_gpu_line(i, g) for i, g in enumerate(profile.gpus)] or [_no_gpu_line(profile)],
        "drivers": _driver_lines(profile),
        "permissions": _permission_lines(profile),
        "torch": _torch_lines(profile.torch),
    }
    return lines


def render_doctor(
    profile: Profile, findings: list[Finding], console: Console, plan_lines: list[str] | None = None
) -> None:
    console.print(f"[bold]rigfit doctor[/] — {escape(profile.source or 'this machine')}")
    facts = facts_by_section(profile)
    if plan_lines:
        facts["plan"] = plan_lines
    for key, title in SECTIONS:
        section_findings = [f for f in findings if f.group == key]
        lines = facts[key]
        if not lines and not section_findings:
            continue
        console.print(f"\n[bold underline]{title}[/]")
        for line in lines:
            console.print(f"  {escape(line)}")
        for f in section_findings:
            console.print(f"  {mark_of(f)} {prose(f.message, 4, 4, console)}")
            if f.fix:
                console.print(f"      [cyan]fix:[/] {prose(f.fix, 11, 11, console)}")
    if profile.warnings:
        console.print("\n[bold underline]Not known[/] (what could not be read, and why)")
        for w in profile.warnings:
            console.print(f"  [dim]?[/] {prose(w, 4, 4, console)}")
    blockers = [f for f in findings if f.severity == "blocker"]
    verdict = (
        "[bold red]Stable Diffusion cannot run on any device here until the blockers above are fixed.[/]"
        if nothing_can_run(profile, findings)
        else f"[bold green]Stable Diffusion can run {'here' if profile.whole else 'on what was given'}[/] "
        f"({len(blockers)} blocker(s) for some devices, "
        f"{sum(f.severity == 'warning' for f in findings)} warning(s))."
    )
    console.print("\n" + verdict)
