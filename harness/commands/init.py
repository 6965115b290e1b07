"""``overlay-parity init``: write ``overlay-parity.toml`` and an empty inventory for the GitOps repository at
a directory (default: the working directory), then print the next command.

Never overwrites: existing settings are a USAGE error (exit 2); an existing inventory is kept.
"""

from __future__ import annotations

import os
from pathlib import Path


def init(directory: Path | None = None, *, renderer: str | None = None, fixture: Path | None = None) -> int:
    """Plan, write, print what was written and what to run next; returns 0."""
    from harness.init_project import plan_init, write_init

    root = (directory or Path.cwd()).resolve()
    plan = plan_init(root, renderer=renderer, fixture=fixture)
    written = write_init(plan)
    for path in written:
        print(f"wrote {os.path.relpath(path)}")
    found = plan.fixture
    print(f"fixture {os.path.relpath(found.root)}: {len(found.clusters)} cluster(s): {', '.join(found.clusters)}")
    for note in plan.notes:
        print(f"note: {note}")
    here = "" if root == Path.cwd().resolve() else f"cd {os.path.relpath(root)} && "
    draft = os.path.relpath(plan.inventory.with_suffix(".draft.yaml"), root)
    print(f"next: {here}overlay-parity check   # see every difference; then draft the rules with\n"
          f"      {here}overlay-parity propose --out {draft}")
    return 0
