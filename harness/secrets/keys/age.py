"""age X25519 identities (``AGE-SECRET-KEY-1`` and 58 bech32 characters): real when the bech32 checksum holds
over a 32-byte key; 20 or more characters after the ``1`` make a marker (a bare mention of the prefix in
prose or code is not key material)."""

from __future__ import annotations

import re

from harness.bech32 import Bech32Error, decode
from harness.secrets.keys import KeyFamily

LABEL = "AGE SECRET KEY"
KEY_LENGTH = 74  # AGE-SECRET-KEY-1, then 52 bech32 characters of X25519 key and 6 of checksum


def is_age_secret_key(token: str) -> bool:
    """Whether ``token`` is a well-formed age secret key (bech32 checksum and a 32-byte payload)."""
    try:
        hrp, payload = decode(token.strip().lower())
    except Bech32Error:
        return False
    return hrp.startswith("age-secret-key-") and len(payload) >= 32


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, token, end); a token run on by characters decoded from a neighbouring line is cut back."""
    token = match.group(0)
    if len(token) > KEY_LENGTH and not is_age_secret_key(token) and is_age_secret_key(token[:KEY_LENGTH]):
        token = token[:KEY_LENGTH]
    return LABEL, token, match.start() + len(token)


def is_real(label: str, material: str) -> bool:
    """Whether the token is a real age identity."""
    return is_age_secret_key(material)


FAMILY = KeyFamily("age", r"AGE-SECRET-KEY-1[0-9A-Z]{20,}[0-9A-Z-]*", extent, is_real, needles=(b"AGE-SECRET-KEY-",),
                   encoded_markers=(b"AGE-SECRET-KEY-",))
