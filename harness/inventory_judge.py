"""The ``inventory`` check of a run: the ``path_only`` budget and the stale-rule verdict over the clusters
that ran, and the inventory facts reports carry.

Default rules are judged only when every cluster of the fixture ran, so a shard never calls a default rule
stale -- ``merge-reports`` judges the union.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.findings import Finding
from harness.inventory import Inventory
from harness.parity import HINT_STALE, INVENTORY_CHECK, budget_findings, stale_rule_findings
from harness.project_config import ProjectConfig
from harness.report import CheckResult


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
