"""``fixture-secret-scan FILE...``: ``overlay-parity scan-secrets --only-fixtures`` on the changed files."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.cli import main as overlay_parity


def main(argv: Sequence[str] | None = None) -> int:
    """Scan the changed files that match ``fixture_globs``; no file changed: nothing to do (exit 0)."""
    files = list(sys.argv[1:] if argv is None else argv)
    return overlay_parity(["scan-secrets", "--only-fixtures", *files]) if files else 0


if __name__ == "__main__":
    sys.exit(main())
