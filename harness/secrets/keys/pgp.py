"""OpenPGP secret keys (the `BEGIN PGP PRIVATE KEY BLOCK` armour of `gpg --export-secret-keys -a`).

Real when the armour's body decodes to an OpenPGP Secret-Key packet (tag 5, key version 3 to 6) and its
CRC-24 checksum line, when present, matches; any other block is a marker finding."""

from __future__ import annotations

import base64
import binascii
import re

from harness.secrets.keys import KeyFamily, armoured

LABEL = "PGP PRIVATE KEY BLOCK"
_SECRET_KEY_TAG = 5
_CRC24_INIT, _CRC24_POLY = 0xB704CE, 0x1864CFB


def extent(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, material, end) of an armoured PGP key block."""
    material, stop = armoured(text, match.start(), match.end(), f"-----END {LABEL}-----")
    return LABEL, material, stop


def _crc24(data: bytes) -> int:
    crc = _CRC24_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= _CRC24_POLY
    return crc & 0xFFFFFF


def _body(material: str) -> tuple[bytes, bytes | None] | None:
    """(decoded packets, decoded checksum or None) of an armoured block, or None when it does not decode."""
    lines = material.splitlines()[1:]
    if "" in lines:  # armour headers ("Version: ...") end at the first blank line
        lines = lines[lines.index("") + 1:]
    body = [line for line in lines if line and not line.startswith("-----")]
    checksum = body.pop()[1:] if body and body[-1].startswith("=") and len(body[-1]) == 5 else None
    try:
        packets = base64.b64decode("".join(body), validate=True)
        return packets, base64.b64decode(checksum, validate=True) if checksum else None
    except (binascii.Error, ValueError):
        return None


def is_real(label: str, material: str) -> bool:
    """Whether the block holds an OpenPGP Secret-Key packet (checksum verified when the armour has one)."""
    decoded = _body(material)
    if decoded is None or len(decoded[0]) < 3:
        return False
    packets, checksum = decoded
    if checksum is not None and int.from_bytes(checksum, "big") != _crc24(packets):
        return False
    header = packets[0]
    if not header & 0x80:
        return False
    tag = header & 0x3F if header & 0x40 else (header >> 2) & 0x0F
    if header & 0x40:  # new format: one-, two- or five-octet length
        length_octets = 1 if packets[1] < 192 else 2 if packets[1] < 224 else 5
    else:  # old format: length type in the low two bits
        length_octets = {0: 1, 1: 2, 2: 4}.get(header & 0x03, 0)
    version_at = 1 + length_octets
    return tag == _SECRET_KEY_TAG and version_at < len(packets) and packets[version_at] in (3, 4, 5, 6)


FAMILY = KeyFamily("pgp", rf"-----BEGIN {LABEL}(?:-----)?", extent, is_real,
                   needles=(b"BEGIN",), encoded_markers=(b"-----BEGIN",), order=10)
