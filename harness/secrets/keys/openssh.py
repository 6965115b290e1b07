"""OpenSSH private keys (the `BEGIN OPENSSH PRIVATE KEY` armour `ssh-keygen` writes).

Real when ``cryptography`` loads the key (or refuses only for want of a passphrase or of support)."""

from __future__ import annotations

import re

from harness.secrets.keys import KeyFamily, armoured, loads_with

LABEL = "OPENSSH PRIVATE KEY"


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, material, end) of an OpenSSH key block."""
    material, stop = armoured(text, match.start(), match.end(), f"-----END {LABEL}-----")
    return LABEL, material, stop


def is_real(label: str, material: str) -> bool:
    """Whether ``cryptography`` loads the OpenSSH key."""
    from cryptography.hazmat.primitives import serialization

    return loads_with(material, lambda data: serialization.load_ssh_private_key(data, password=None))


FAMILY = KeyFamily("openssh", rf"-----BEGIN {LABEL}(?! BLOCK)(?:-----)?", extent, is_real,
                   needles=(b"BEGIN",), encoded_markers=(b"-----BEGIN",), order=10)
