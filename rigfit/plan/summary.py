"""The plan's summary inside `rigfit doctor`: a few lines, and the plan's warnings/blockers as findings."""

from __future__ import annotations

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.plan.render import launch_line
from rigfit.probe.profile import Finding, Profile

# blockers doctor's own probes already report (group gpus/permissions): the plan does not repeat them
PROBED_BLOCKERS = {
    "pcie-atomics-rejected",
    "kfd-permission-denied",
    "kfd-missing",
    "amdgpu-not-bound",
    "nvidia-driver-not-bound",
}
PROBED_WARNINGS = {"pcie-slow-link"}  # doctor's gpu.pcie_slow_link says it, from the same rigfit.probe.pcie_slots


def doctor_summary(profile: Profile) -> tuple[list[str], list[Finding]]:
    """Lines for the report's Plan section, and findings the plan adds (group="plan")."""
    plan = make_plan(profile, PlanOptions())
    torch = plan.decision("torch")
    lines = [
        f"backend {plan.backend} on {plan.device.name}; {torch.choice if torch else 'torch ?'}",
        f"{plan.precision_detail}, memory mode {plan.memory_mode}, attention {plan.attention}",
        f"Forge: {launch_line(plan)}",
        "full plan with reasons: rigfit plan --explain (other UIs: --ui a1111|comfyui|sdnext|invokeai)",
    ]
    if not profile.whole and not profile.gpus and plan.backend == "cpu":
        lines.append("a plan for the CPU because no GPU was read from what was given, not because the machine has none")
    findings = [
        Finding(
            id=f"plan.{b.id}", severity="blocker", message=b.message, fix=b.fix, group="plan", kb=b.kb, blocks=b.blocks
        )
        for b in plan.blockers
        if b.id not in PROBED_BLOCKERS
    ]
    findings += [
        Finding(id=f"plan.{a.id}", severity="warning", message=a.message, fix=a.fix, group="plan", kb=a.kb)
        for a in plan.warnings
        if a.id not in PROBED_WARNINGS
    ]
    if plan.python.message:
        findings.append(
            Finding(
                id="plan.python-outside-range",
                severity="warning",
                message=plan.python.message,
                fix=plan.python.how,
                group="plan",
            )
        )
    return lines, findings
