"""``overlay-parity explain``: why one path of one cluster is (or is not) compared, and by which rules.

Answers, for an overlay-relative PATH (rendered or fixture side):
- ownership: renderer-owned, bootstrap-owned (``flux-system/``) or other (not compared);
- whether the renderer produces it and which descriptor owns it (from the render plan: template, reason),
  or, when it is not rendered, the descriptor decisions that name it;
- whether the fixture has it, and which path it is compared with (``alias`` rules);
- every rule that concerns it: id, kind, scope, pattern, rationale, approved_by, and whether it
  matched here (made a difference for this file in this render);
- the verdict the check reaches for this file.
Exit 0, or 2 for bad input. ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.options import ProjectOptions
from harness.project_config import ProjectConfig
from harness.single_path import Pair, file_exists, overlay_relative, rendered_cluster, resolve_pair
from harness.tree import Ownership, classify

if TYPE_CHECKING:  # the run imports these; ``explain --help`` does not
    from harness.inventory import Rule
    from harness.renderer_api import Plan

OWNERSHIP = {Ownership.OWNED: "renderer-owned", Ownership.BOOTSTRAP: "bootstrap-owned",
             Ownership.OTHER: "other (not renderer-owned)"}


def _rule_matched(rule: Rule, pair: Pair, has_rendered: bool, has_fixture: bool, differs: bool | None,
                  effective: set[str]) -> tuple[bool, str]:
    """Whether a rule made a difference for this file, and why (the stale-rule semantics, per file)."""
    if rule.kind == "alias":
        return has_rendered, "the rendered file exists" if has_rendered else "the renderer does not produce it"
    if rule.kind == "ignore_rendered":
        return has_rendered, "drops the rendered file" if has_rendered else "nothing rendered to drop"
    if rule.kind == "ignore_fixture":
        return has_fixture, "drops the fixture file" if has_fixture else "no fixture file to drop"
    if rule.kind == "path_only":
        if not (has_rendered or has_fixture):
            return False, "no file on either side"
        if has_rendered and has_fixture and differs is False:
            return False, "both sides are equal anyway: the rule is unnecessary for this file"
        return True, "only presence is compared"
    if rule.id in effective:
        return True, "removed values that differ between the sides"
    if has_rendered and has_fixture:
        return False, "removed nothing, or equal values on both sides"
    return False, "the file is not on both sides"


def _decisions(plan: Plan, path: str) -> list[dict[str, Any]]:
    """Descriptor decisions that name a segment of the path or guard a template under it."""
    segments = set(path.split("/"))
    found = []
    for decision in plan.decisions:
        if decision.descriptor in segments or (decision.subject and path.startswith(decision.subject)):
            found.append({"descriptor": decision.descriptor, "enabled": decision.enabled, "reason": decision.reason,
                          "subject": decision.subject})
    return found


def explain(project: ProjectConfig, cluster: str, path: str) -> dict[str, Any]:
    """The explanation of one path as JSON-ready data (renders the cluster into a temp dir)."""
    from harness.parity import compare_pair

    owner = classify(path)
    data: dict[str, Any] = {"cluster": cluster, "path": path, "ownership": OWNERSHIP[owner]}
    if owner is Ownership.BOOTSTRAP:
        data["summary"] = "bootstrap-owned (flux-system/): never rendered, modified or deleted; excluded from parity"
        return data
    if owner is Ownership.OTHER:
        data["summary"] = ("not renderer-owned (only kustomization.yaml, .sops.yaml, services/, managed-services/ "
                           "and customer-managed/ are): excluded from parity")
        return data
    with rendered_cluster(project, cluster) as (parity_run, out, plan):
        fixture_root: Path = parity_run.fixture_overlay(cluster)
        pair = resolve_pair(parity_run.inventory.rules_for(cluster), path)
        has_rendered = file_exists(out, pair.rendered_path)
        has_fixture = file_exists(fixture_root, pair.fixture_path)
        differs: bool | None = None
        effective: set[str] = set()
        if has_rendered and has_fixture:
            plain, _ = compare_pair(out, pair.rendered_path, fixture_root, pair.fixture_path, (),
                                    max_file_bytes=project.max_file_bytes)
            differs = not plain.equal
            if pair.removals and not pair.path_only:
                canon, effective = compare_pair(out, pair.rendered_path, fixture_root, pair.fixture_path,
                                                pair.removals, max_file_bytes=project.max_file_bytes)
                differs = not canon.equal
        action = next((a for a in plan.actions if a.output == pair.rendered_path), None)
        data.update({
            "rendered_path": pair.rendered_path,
            "fixture_path": pair.fixture_path,
            "rendered": has_rendered,
            "in_fixture": has_fixture,
            "owner": ({"descriptor": action.owner, "template": action.template, "mode": action.mode,
                       "reason": action.reason} if action is not None else None),
            "decisions": _decisions(plan, pair.rendered_path) if action is None else [],
            "rules": [],
        })
        for rule in pair.rules:
            matched, why = _rule_matched(rule, pair, has_rendered, has_fixture, differs, effective)
            entry = rule.to_dict()
            entry.update({"scope": rule.scope, "matched": matched, "why": why})
            data["rules"].append(entry)
        data["summary"] = _verdict(pair, has_rendered, has_fixture, differs)
    return data


def _verdict(pair: Pair, has_rendered: bool, has_fixture: bool, differs: bool | None) -> str:
    ignored = [r.id for r in pair.ignored_rendered + pair.ignored_fixture]
    if ignored:
        return "not compared: ignored by " + ", ".join(ignored)
    if not has_rendered and not has_fixture:
        return "neither side has this file: nothing to compare"
    if not has_rendered:
        return "PARITY-MISSING: the fixture has it, the renderer does not produce it"
    if not has_fixture:
        return "PARITY-UNEXPECTED: the renderer produces it, the fixture does not have it"
    if pair.path_only:
        return "accepted: path_only " + ", ".join(r.id for r in pair.path_only) + " (only presence is compared)"
    if differs:
        return "PARITY-CONTENT: differs (see `overlay-parity diff`)"
    return "equal" + (" after yaml_remove rules" if pair.removals else "")


def format_explanation(data: dict[str, Any]) -> str:
    """The explanation as indented text."""
    lines = [f"{data['path']} (cluster {data['cluster']})", f"  ownership: {data['ownership']}"]
    if "rendered" in data:
        owner = data.get("owner")
        if owner:
            lines.append(f"  rendered:  yes, as {data['rendered_path']} by descriptor {owner['descriptor']} "
                         f"(template {owner['template']}, {owner['mode']}; {owner['reason']})")
        else:
            lines.append(f"  rendered:  {'yes' if data['rendered'] else 'no'}"
                         + ("" if data["rendered"] else f" ({data['rendered_path']})"))
            for decision in data.get("decisions", []):
                state = "enabled" if decision["enabled"] else "disabled"
                subject = f" [{decision['subject']}]" if decision["subject"] else ""
                lines.append(f"    descriptor {decision['descriptor']}{subject} {state}: {decision['reason']}")
        lines.append(f"  fixture:   {'yes' if data['in_fixture'] else 'no'} ({data['fixture_path']})")
        if data["rendered_path"] != data["fixture_path"]:
            lines.append(f"  compared:  rendered {data['rendered_path']} with fixture {data['fixture_path']}")
        rules = data.get("rules", [])
        lines.append(f"  rules:     {len(rules) or 'none'}")
        for rule in rules:
            pattern = rule["path"] + (f" -> {rule['to']}" if rule.get("to") else "")
            if rule.get("pointers"):
                pattern += " " + " ".join(rule["pointers"])
            lines.append(f"    - {rule['id']} ({rule['kind']}, {rule['scope']}, {rule['file']}:{rule['line']}): "
                         f"{pattern}")
            lines.append(f"      rationale: {rule['rationale']}")
            lines.append(f"      approved_by: {rule['approved_by']}")
            lines.append(f"      matched here: {'yes' if rule['matched'] else 'no'} ({rule['why']})")
    lines.append(f"  verdict:   {data['summary']}")
    return "\n".join(lines)


def explain_path(project_options: ProjectOptions, cluster: str, path_text: str, *, as_json: bool = False) -> int:
    """Print the explanation of one path (text, or JSON with ``as_json``); returns 0."""
    from harness.selection import select_clusters

    project = project_options.load()
    select_clusters(project, [cluster])
    path = overlay_relative(project, cluster, path_text)
    data = explain(project, cluster, path)
    print(json.dumps(data, indent=2, default=str) if as_json else format_explanation(data))
    return 0
