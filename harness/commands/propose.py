"""``overlay-parity propose``: draft the inventory rules that explain today's differences (for review).

Writes a complete draft inventory (current rules plus the minimal draft rules that make the check pass;
:mod:`harness.propose`), never over the current inventory. Exit 0 when every difference has a draft rule,
1 when some cannot be expressed narrowly (listed; fix those in the renderer or fixture), 2 bad input.
``narrow`` prints, for each ``path_only`` rule, the ``yaml_remove`` pointers that would replace it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.options import ProjectOptions
from harness.report.output import write_report_file


def _load(project: Any) -> tuple[Any, bool]:
    """The current inventory, or an empty one when the file does not exist yet (then True)."""
    from harness.init_project import empty_inventory, inventory_name
    from harness.inventory import load_inventory, parse_inventory
    from harness.inventory_judge import display_path

    shown = display_path(project.inventory, project.root)
    if not project.inventory.exists():
        return parse_inventory(empty_inventory(inventory_name(project.fixture)), shown), True
    return load_inventory(project.inventory, max_bytes=project.max_file_bytes, display=shown,
                          security_kinds=project.security_kinds), False


def propose_rules(project_options: ProjectOptions, *, clusters: Sequence[str] = (), out: Path | None = None,
                  narrow_only: bool = False) -> int:
    """Draft rules into ``out`` (and with ``narrow_only`` say which pointers would replace each path_only
    rule), print a summary; returns 0, or 1 when some difference has no narrow draft rule."""
    from harness.propose import narrow, proposal_text, propose
    from harness.renderers import renderer_for
    from harness.selection import select_clusters

    if not narrow_only and out is None:
        raise InputError("USAGE", "propose needs --out DRAFT.yaml (or --narrow)", hint="add --out DRAFT.yaml")
    project = project_options.load()
    inventory, new = _load(project)
    if out is not None and out.resolve() == project.inventory.resolve():
        raise InputError("USAGE", "--out is the current inventory; a draft never overwrites it", file=str(out),
                         hint="write the draft next to it and compare, e.g. --out DRAFT.yaml")
    selected = select_clusters(project, clusters)
    renderer = renderer_for(project)
    if narrow_only:
        found = narrow(project, inventory, renderer, selected)
        if not found:
            print("no path_only rule applies to the selected clusters")
        for item in found:
            where = f"{item.rule} [{item.cluster}] {item.path}".rstrip()
            if item.pointers:
                kind = f" (match_kind {item.match_kind})" if item.match_kind else ""
                print(f"{where}: yaml_remove{kind} " + " ".join(item.pointers))
            else:
                print(f"{where}: none: {item.reason}")
    if out is None:  # only with narrow_only (checked above)
        return 0
    proposal = propose(project, inventory, renderer, selected)
    text = proposal_text(proposal, new_inventory=new)
    write_report_file(out, text)  # atomic for a file; /dev/stdout and the like written in place, not replaced
    for rule in proposal.stale:
        print(f"stale: {rule.id} ({rule.kind} {rule.path}) matched nothing: left out of the draft")
    for problem in proposal.unresolved:
        print(f"unresolved: [{problem.cluster}] {problem.path or '(cluster)'}: {problem.reason}")
    scope = "every cluster" if set(proposal.all_clusters) <= set(selected) else ", ".join(selected)
    print(f"wrote {os.path.relpath(out)}: {len(proposal.rules)} draft rule(s) over {scope} "
          f"({sum(1 for r in proposal.rules if not r.cluster)} in defaults), {len(proposal.unresolved)} unresolved")
    if proposal.rules:
        print(f"next: write rationale and approved_by for each DRAFT rule in {os.path.relpath(out)}, then run\n"
              f"      overlay-parity check --inventory {os.path.relpath(out)}")
    return 1 if proposal.unresolved else 0
