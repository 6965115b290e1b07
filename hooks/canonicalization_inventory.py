"""``canonicalization-inventory FILE...``: each inventory loads (schema, globs, conflicts) and, when its rules
changed since ``HEAD``, carries a strictly greater semantic ``version`` (:mod:`harness.inventory_version`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from harness.cli import EXIT_BAD_INPUT, EXIT_OK, guarded


def main(argv: Sequence[str] | None = None) -> int:
    """One line per problem on stdout; exit 2 when any inventory is invalid or lacks its version bump."""
    files = [Path(name) for name in (sys.argv[1:] if argv is None else argv)]

    def check() -> int:
        from harness.inventory_version import check_inventories

        problems, notes = check_inventories(files)
        for note in notes:
            print(note, file=sys.stderr)
        for problem in problems:
            print(problem.one_line())
        return EXIT_BAD_INPUT if problems else EXIT_OK

    return guarded(check, prog="canonicalization-inventory")


if __name__ == "__main__":
    sys.exit(main())
