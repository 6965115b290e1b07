"""The ``inventory`` check of a run: the ``path_only`` budget, the stale-rule verdict over the clusters
that ran, every ``security_waiver`` in force (a note each), and the inventory facts reports carry.

Default rules are judged only when every cluster of the fixture ran, so a shard never calls a default rule
stale -- ``merge-reports`` judges the union.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.findings import Finding, Severity
from harness.inventory import Inventory
from harness.project_config import ProjectConfig
from harness.report import CheckResult
from harness.rules import Role, kind_of

INVENTORY_CHECK = "inventory"
HINT_STALE = "delete the rule and bump `version`: what it canonicalized no longer differs or no longer exists"
HINT_BUDGET = ("convert path_only rules to exact or yaml_remove comparison, or raise path_only_budget with a "
               "version bump")
HINT_WAIVER = "a waived rule hides a security-relevant object from parity: re-review it whenever the rule changes"


def stale_rule_findings(inventory: Inventory, matched_ids: Iterable[str], clusters_run: Iterable[str], *,
                        all_clusters: Iterable[str] | None = None) -> list[Finding]:
    """``PARITY-STALE-RULE`` for every judged rule that matched nothing.

    A cluster rule is judged only when its cluster ran. A default rule is judged only when every
    cluster ran -- ``all_clusters`` (pass the fixture's cluster list; default: the clusters named in
    the inventory) must be a subset of ``clusters_run`` -- and is stale when it matched in none of them.
    """
    matched = set(matched_ids)
    ran = set(clusters_run)
    universe = set(all_clusters) if all_clusters is not None else set(inventory.clusters)
    judge_defaults = bool(ran) and universe <= ran
    findings: list[Finding] = []
    for rule in inventory.all_rules():
        if rule.id in matched:
            continue
        if rule.cluster and rule.cluster not in ran:
            continue
        if not rule.cluster and not judge_defaults:
            continue
        where = f"cluster {rule.cluster}" if rule.cluster else f"any of {len(ran)} clusters"
        findings.append(Finding(
            code="PARITY-STALE-RULE", check=INVENTORY_CHECK, cluster=rule.cluster, path=inventory.file,
            line=rule.line, rules=(rule.id,), hint=HINT_STALE,
            message=f"rule '{rule.id}' ({rule.kind} {rule.path}) matched nothing in {where}",
            extra={"rule": rule.to_dict()}))
    return findings


def budget_findings(inventory: Inventory) -> list[Finding]:
    """``PARITY-PATH-ONLY-BUDGET`` (error) when path_only rules outnumber ``path_only_budget`` (absent = 0);
    a note when the budget could shrink. Both carry ``extra = {"count": n, "budget": b}``."""
    rules = [r for r in inventory.all_rules() if kind_of(r.kind).role is Role.PRESENCE_ONLY]
    count, budget = len(rules), inventory.path_only_budget or 0
    extra = {"count": count, "budget": budget}
    if count > budget:
        return [Finding(code="PARITY-PATH-ONLY-BUDGET", check=INVENTORY_CHECK, path=inventory.file,
                        line=rules[-1].line, rules=tuple(r.id for r in rules), hint=HINT_BUDGET, extra=extra,
                        message=f"{count} path_only rules exceed path_only_budget {budget}")]
    if count < budget:
        return [Finding(code="PARITY-PATH-ONLY-BUDGET", check=INVENTORY_CHECK, path=inventory.file,
                        severity=Severity.NOTE, rules=tuple(r.id for r in rules), extra=extra,
                        hint="lower path_only_budget so the budget can only shrink",
                        message=f"{count} path_only rules, budget {budget}: the budget can shrink to {count}")]
    return []


def waivers(inventory: Inventory) -> list[dict[str, Any]]:
    """Every ``security_waiver`` in force, JSON-ready: rule id, kind, path, cluster, file, line, rationale and
    approver of the waiver."""
    return [{"rule": r.id, "kind": r.kind, "path": r.path, "cluster": r.cluster, "file": r.file, "line": r.line,
             "rationale": r.waiver.rationale, "approved_by": r.waiver.approved_by}
            for r in inventory.waivers() if r.waiver is not None]


def waiver_findings(inventory: Inventory) -> list[Finding]:
    """``PARITY-SECURITY-WAIVER`` (a note, never failing) for every waiver in force, so every report lists them."""
    return [Finding(code="PARITY-SECURITY-WAIVER", check=INVENTORY_CHECK, cluster=w["cluster"], path=inventory.file,
                    line=w["line"], rules=(w["rule"],), severity=Severity.NOTE, hint=HINT_WAIVER, extra={"waiver": w},
                    message=f"rule '{w['rule']}' ({w['kind']} {w['path']}) may hide a security-relevant object: "
                            f"waived by {w['approved_by']}: {w['rationale']}")
            for w in waivers(inventory)]


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (POSIX), else as given."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def inventory_findings(inventory: Inventory, matched: Iterable[str], clusters_run: Iterable[str],
                       all_clusters: Iterable[str]) -> list[Finding]:
    """Budget findings, then stale rules over ``clusters_run``.

    Besides :func:`harness.parity.stale_rule_findings`: when every cluster of the fixture ran, rules
    filed under a cluster the fixture does not have can never match and are stale too.
    """
    every = sorted(set(all_clusters))
    ran = set(clusters_run)
    findings = list(budget_findings(inventory))
    findings += stale_rule_findings(inventory, matched, ran, all_clusters=every)
    findings += waiver_findings(inventory)
    if ran and set(every) <= ran:
        for name, rules in inventory.clusters.items():
            if name in every:
                continue
            for rule in rules:
                findings.append(Finding(
                    code="PARITY-STALE-RULE", check=INVENTORY_CHECK, cluster=name, path=inventory.file,
                    line=rule.line, rules=(rule.id,), hint=HINT_STALE,
                    message=f"rule '{rule.id}' ({rule.kind} {rule.path}) is filed under cluster {name}, "
                            f"which has no config in the fixture (clusters: {', '.join(every)})",
                    extra={"rule": rule.to_dict()}))
    return findings


def inventory_notes(project: ProjectConfig, inventory: Inventory) -> dict[str, Any]:
    """Inventory facts for reports; ``path`` is relative to the project root so shard reports merge anywhere."""
    return {
        "path": display_path(project.inventory, project.root),
        "version": inventory.version,
        "digest": inventory.rules_digest(),
        "fixture": display_path(project.fixture, project.root),
        "clusters": project.clusters(),
        "rules": len(inventory.all_rules()),
        "path_only_rules": inventory.path_only_count(),
        "path_only_budget": inventory.path_only_budget,
        "security_waivers": waivers(inventory),
    }


def inventory_result(inventory: Inventory, matched: Iterable[str], clusters_run: Iterable[str],
                     all_clusters: Iterable[str], notes: dict[str, Any] | None = None) -> CheckResult:
    """The ``inventory`` check result (budget + stale rules) for the given union of cluster runs."""
    ran = sorted(set(clusters_run))
    every = sorted(set(all_clusters))
    judged = "all rules" if ran and set(every) <= set(ran) else ("cluster rules of the clusters run" if ran
                                                                 else "nothing (no cluster ran)")
    result_notes = dict(notes or {})
    result_notes.update({"clusters_run": ran, "stale_rules_judged": judged})
    return CheckResult(name="inventory", check=INVENTORY_CHECK,
                       findings=inventory_findings(inventory, matched, ran, every), notes=result_notes)
