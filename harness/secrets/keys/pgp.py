"""OpenPGP secret keys (``-----BEGIN PGP PRIVATE KEY BLOCK-----``): always a marker finding (not parsed)."""

from __future__ import annotations

import re

from harness.secrets.keys import KeyFamily, armoured, never_parsed

LABEL = "PGP PRIVATE KEY BLOCK"


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, material, end) of an armoured PGP key block."""
    material, stop = armoured(text, match.start(), match.end(), f"-----END {LABEL}-----")
    return LABEL, material, stop


FAMILY = KeyFamily("pgp", rf"-----BEGIN {LABEL}(?:-----)?", extent, never_parsed,
                   needles=(b"BEGIN",), encoded_markers=(b"-----BEGIN",), order=10)
