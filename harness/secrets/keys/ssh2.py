"""SSH2 keys (RFC 4716 style `BEGIN SSH2 ENCRYPTED PRIVATE KEY` armour): a marker finding (not parsed)."""

from __future__ import annotations

import re

from harness.secrets.keys import KeyFamily, armoured, never_parsed

LABEL = "SSH2 ENCRYPTED PRIVATE KEY"


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, material, end) of an SSH2 key block."""
    material, stop = armoured(text, match.start(), match.end(), f"---- END {LABEL} ----")
    return LABEL, material, stop


FAMILY = KeyFamily("ssh2", rf"---- BEGIN {LABEL} ----", extent, never_parsed, needles=(b"BEGIN",))
