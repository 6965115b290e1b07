"""``overlay-parity propose [--cluster C]... --out DRAFT.yaml`` / ``propose --narrow``.

Writes a complete draft inventory (current rules plus the minimal draft rules that make the check pass;
:mod:`harness.propose`), never over the current inventory. Exit 0 when every difference has a draft rule,
1 when some cannot be expressed narrowly (listed; fix those in the renderer or fixture), 2 bad input.
``--narrow`` prints, for each ``path_only`` rule, the ``yaml_remove`` pointers that would replace it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.commands.check import add_project_options, project_from_args
from harness.errors import InputError


def register(subparsers: Any) -> None:
    """Add the ``propose`` sub-command."""
    parser = subparsers.add_parser(
        "propose", help=one_line_help("propose"),
        description="Compare every cluster with its oracle tree and write a draft inventory whose new rules "
                    "(alias, ignore_fixture, ignore_rendered, yaml_remove; never path_only) make the check pass. "
                    "Draft rules have an empty rationale and approved_by: a reviewer must write them.")
    add_project_options(parser)
    parser.add_argument("--cluster", action="append", default=[], metavar="C",
                        help="draft only for this cluster (repeatable; default: every cluster)")
    parser.add_argument("--out", type=Path, metavar="DRAFT.yaml", help="where to write the draft inventory")
    parser.add_argument("--narrow", action="store_true",
                        help="say which yaml_remove pointers would replace each path_only rule, or why none can")
    parser.set_defaults(func=run)


def _load(project: Any) -> tuple[Any, bool]:
    """The current inventory, or an empty one when the file does not exist yet (then True)."""
    from harness.init_project import empty_inventory, inventory_name
    from harness.inventory import load_inventory, parse_inventory
    from harness.inventory_judge import display_path

    shown = display_path(project.inventory, project.root)
    if not project.inventory.exists():
        return parse_inventory(empty_inventory(inventory_name(project.fixture)), shown), True
    return load_inventory(project.inventory, max_bytes=project.max_file_bytes, display=shown), False


def run(args: argparse.Namespace) -> int:
    """Draft, write, summarize."""
    from harness.propose import narrow, proposal_text, propose
    from harness.renderers import renderer_for
    from harness.selection import select_clusters

    if not args.narrow and args.out is None:
        raise InputError("USAGE", "propose needs --out DRAFT.yaml (or --narrow)", hint="add --out DRAFT.yaml")
    project = project_from_args(args)
    inventory, new = _load(project)
    if args.out is not None and args.out.resolve() == project.inventory.resolve():
        raise InputError("USAGE", "--out is the current inventory; a draft never overwrites it", file=str(args.out),
                         hint="write the draft next to it and compare, e.g. --out DRAFT.yaml")
    clusters = select_clusters(project, args.cluster)
    renderer = renderer_for(project)
    if args.narrow:
        found = narrow(project, inventory, renderer, clusters)
        if not found:
            print("no path_only rule applies to the selected clusters")
        for item in found:
            where = f"{item.rule} [{item.cluster}] {item.path}".rstrip()
            if item.pointers:
                kind = f" (match_kind {item.match_kind})" if item.match_kind else ""
                print(f"{where}: yaml_remove{kind} " + " ".join(item.pointers))
            else:
                print(f"{where}: none: {item.reason}")
        if args.out is None:
            return 0
    proposal = propose(project, inventory, renderer, clusters)
    text = proposal_text(proposal, new_inventory=new)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_name(f".{out.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, out)
    for rule in proposal.stale:
        print(f"stale: {rule.id} ({rule.kind} {rule.path}) matched nothing: left out of the draft")
    for problem in proposal.unresolved:
        print(f"unresolved: [{problem.cluster}] {problem.path or '(cluster)'}: {problem.reason}")
    scope = "every cluster" if set(proposal.all_clusters) <= set(clusters) else ", ".join(clusters)
    print(f"wrote {os.path.relpath(out)}: {len(proposal.rules)} draft rule(s) over {scope} "
          f"({sum(1 for r in proposal.rules if not r.cluster)} in defaults), {len(proposal.unresolved)} unresolved")
    if proposal.rules:
        print(f"next: write rationale and approved_by for each DRAFT rule in {os.path.relpath(out)}, then run\n"
              f"      overlay-parity check --inventory {os.path.relpath(out)}")
    return 1 if proposal.unresolved else 0
