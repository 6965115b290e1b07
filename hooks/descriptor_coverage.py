"""``descriptor-coverage``: ``overlay-parity coverage`` on the whole configured template and descriptor roots."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.cli import main as overlay_parity


def main(argv: Sequence[str] | None = None) -> int:
    """Check coverage of the whole tree (``pass_filenames: false``; hook ``args`` are coverage's flags)."""
    return overlay_parity(["coverage", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
