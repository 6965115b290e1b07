"""``fixture-secret-scan FILE...``: ``overlay-parity scan-secrets`` on the changed files: key material in every
one, the Secret-value policy in those matching ``fixture_globs``, the ``secret_allowlist`` applied."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.cli import main as overlay_parity


def main(argv: Sequence[str] | None = None) -> int:
    """Scan the changed files; no file changed: nothing to do (exit 0)."""
    files = list(sys.argv[1:] if argv is None else argv)
    return overlay_parity(["scan-secrets", "--only-fixtures", *files]) if files else 0


if __name__ == "__main__":
    sys.exit(main())
