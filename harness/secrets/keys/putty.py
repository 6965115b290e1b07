"""PuTTY private key files (``PuTTY-User-Key-File-N:`` up to ``Private-MAC:``): a marker finding (not parsed)."""

from __future__ import annotations

import re

from harness.secrets.keys import KeyFamily, never_parsed, normalise

LABEL = "PUTTY PRIVATE KEY"


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, material, end): from the header to the end of the ``Private-MAC:`` line."""
    end = text.find("Private-MAC:", match.end())
    stop = text.find("\n", end) if end != -1 else -1
    stop = stop if stop != -1 else match.end()
    return LABEL, normalise(text[match.start(): stop]), stop


FAMILY = KeyFamily("putty", r"PuTTY-User-Key-File-[0-9]+:", extent, never_parsed,
                   needles=(b"PuTTY-User-Key-File-",))
