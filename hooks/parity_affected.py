"""``parity-affected``: ``overlay-parity check --changed`` on every staged path (:mod:`harness.affected`).

The staged paths are asked from git (``staged_paths``), not taken from pre-commit's file list: pre-commit
does not pass deleted files, and a deletion can affect clusters too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from harness.cli import EXIT_OK, guarded
from harness.cli import main as overlay_parity


def main(argv: Sequence[str] | None = None) -> int:
    """Check the clusters the staged change can affect (``pass_filenames: false``; hook ``args`` are check's
    flags, e.g. ``--json report.json``)."""
    extra = list(sys.argv[1:] if argv is None else argv)

    def run() -> int:
        from harness.affected import staged_paths

        paths = staged_paths(Path.cwd())
        if not paths:
            print("parity-affected: nothing staged")
            return EXIT_OK
        return overlay_parity(["check", *extra, "--changed", *map(str, paths)])

    return guarded(run, prog="parity-affected")


if __name__ == "__main__":
    sys.exit(main())
