"""detect-secrets plugin: the fixture scanner's private-key detection, line by line.

    detect-secrets scan --all-files -p harness/detect_secrets_plugin.py [PATH]    # outside git: --all-files
    detect-secrets scan --baseline .secrets.baseline -p harness/detect_secrets_plugin.py

Import path: ``harness.detect_secrets_plugin:FixtureKeyDetector`` (secret type ``Fixture private key``).
Unlike detect-secrets' own ``PrivateKeyDetector`` it also finds keys that are base64-encoded (standard
or URL-safe, nested) on a line, such as a key in a Kubernetes Secret's ``data``. detect-secrets hands
plugins one line at a time, so a base64 value wrapped over several lines is only seen by
``overlay-parity scan-secrets``. Baselines store a hash of what this plugin yields (the marker or the
base64 run on the line), never the value.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

from detect_secrets.plugins import base as _base

try:
    from harness.secrets import find_key_material as _find_key_material
except ImportError:  # loaded by file path from a checkout that is not installed: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from harness.secrets import find_key_material as _find_key_material


class FixtureKeyDetector(_base.BasePlugin):
    """Private keys (PEM of every type, OpenSSH, PGP, SSH2, PuTTY, age), literal or base64-encoded."""

    secret_type = "Fixture private key"  # noqa: S105 - a detector name, not a password

    def analyze_string(self, string: str, **kwargs: Any) -> Generator[str, None, None]:
        """Yield the marker or the outermost base64 run of every key found in ``string``."""
        seen: set[tuple[int, int]] = set()
        for match in _find_key_material(string):
            span = (match.start, match.end)
            if span not in seen:
                seen.add(span)
                yield string[match.start:match.end]
