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
from typing import Any

from harness.options import ProjectOptions


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
    from harness.single_path import explanation, overlay_relative, select_one

    project = project_options.load()
    select_one(project, cluster)
    path = overlay_relative(project, cluster, path_text)
    data = explanation(project, cluster, path)
    print(json.dumps(data, indent=2, default=str) if as_json else format_explanation(data))
    return 0
