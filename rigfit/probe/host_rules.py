"""Findings from the host rules of the knowledge base: rigfit/kb/host.yaml (memory, disk, Python, CPU routes) plus the
instruction-set requirements of package builds in rigfit/kb/cpu_requirements.yaml (schemas in rigfit/kb/host.py)."""

from __future__ import annotations

from rigfit.kb.host import CpuRequirement, HostRule, cpu_requirements, host_rules
from rigfit.kb.loader import by_id
from rigfit.probe.profile import Finding, Severity


def host_rule(rule_id: str) -> HostRule | CpuRequirement:
    """One rule by id (a KeyError here is a bug in rigfit: the id is cited in code)."""
    rules: dict[str, HostRule | CpuRequirement] = {**by_id(cpu_requirements())}
    rules.update(by_id(host_rules()))
    return rules[rule_id]


def min_bytes(rule_id: str) -> int:
    """A host rule's size threshold in bytes."""
    rule = host_rule(rule_id)
    if not isinstance(rule, HostRule) or rule.min_gib is None:
        raise KeyError(f"KB rule {rule_id} has no min_gib")
    return int(rule.min_gib * 2**30)


def rule_finding(
    finding_id: str,
    rule_id: str,
    severity: Severity,
    group: str,
    message: str,
    *,
    fix: str | None = None,
    kb: list[str] | None = None,
) -> Finding:
    """A finding backed by a host rule: the rule's fix unless one is given, and the ids it cites (the rule's)."""
    rule = host_rule(rule_id)
    return Finding(
        id=finding_id, severity=severity, message=message, fix=fix or rule.fix, group=group, kb=kb or [rule.id]
    )
