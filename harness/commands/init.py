"""``overlay-parity init [DIR] [--renderer CMD] [--fixture DIR]``: write ``overlay-parity.toml`` and an empty
inventory for the GitOps repository at DIR (default: the working directory), then print the next command.

Never overwrites: existing settings are a USAGE error (exit 2); an existing inventory is kept.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.commands import one_line_help


def register(subparsers: Any) -> None:
    """Add the ``init`` sub-command."""
    parser = subparsers.add_parser(
        "init", help=one_line_help("init"),
        description="Find the cluster configs and overlay trees under DIR, write overlay-parity.toml (fixture, "
                    "inventory, renderer, template roots, fixture globs) and an empty inventory.")
    parser.add_argument("directory", nargs="?", type=Path, default=None, metavar="DIR",
                        help="repository root (default: the working directory)")
    parser.add_argument("--renderer", metavar="CMD",
                        help="module:ATTR or a command with {config} and {out} (default: the built-in renderer)")
    parser.add_argument("--fixture", type=Path, metavar="DIR",
                        help="the directory with the .<cluster>-config.yaml files, when DIR holds several")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Plan, write, print what was written and what to run next."""
    from harness.init_project import plan_init, write_init

    root = (args.directory or Path.cwd()).resolve()
    plan = plan_init(root, renderer=args.renderer, fixture=args.fixture)
    written = write_init(plan)
    for path in written:
        print(f"wrote {os.path.relpath(path)}")
    fixture = plan.fixture
    print(f"fixture {os.path.relpath(fixture.root)}: {len(fixture.clusters)} cluster(s): {', '.join(fixture.clusters)}")
    for note in plan.notes:
        print(f"note: {note}")
    here = "" if root == Path.cwd().resolve() else f"cd {os.path.relpath(root)} && "
    draft = os.path.relpath(plan.inventory.with_suffix(".draft.yaml"), root)
    print(f"next: {here}overlay-parity check   # see every difference; then draft the rules with\n"
          f"      {here}overlay-parity propose --out {draft}")
    return 0
