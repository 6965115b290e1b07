"""PEM private keys of every type (``PRIVATE KEY``, ``RSA``/``EC``/``DSA``/``ENCRYPTED PRIVATE KEY``...).

Real when ``cryptography`` loads the PEM (or refuses only for want of a password or of support)."""

from __future__ import annotations

import re

from harness.secrets.keys import KeyFamily, armoured, loads_with


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, material, end) of a PEM block."""
    own = FAMILY.regex.match(text, match.start())
    label = f"{own.group(1) or ''}PRIVATE KEY{own.group(2) or ''}" if own else "PRIVATE KEY"
    material, stop = armoured(text, match.start(), match.end(), f"-----END {label}-----")
    return label, material, stop


def is_real(label: str, material: str) -> bool:
    """Whether ``cryptography`` loads the PEM."""
    from cryptography.hazmat.primitives import serialization

    return loads_with(material, lambda data: serialization.load_pem_private_key(
        data, password=None, unsafe_skip_rsa_key_validation=True))


FAMILY = KeyFamily("pem", r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?(?:-----)?", extent, is_real,
                   needles=(b"BEGIN",), encoded_markers=(b"-----BEGIN",), order=90)
