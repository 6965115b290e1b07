"""Bech32 (BIP-173) decoding with checksum verification, and the age X25519 recipient check.

age recipients are Bech32 strings (the original constant, not Bech32m) with the human-readable
part ``age`` and a 32-byte X25519 public key as payload. Like age, no 90-character length limit
is applied. Nothing here echoes the checked string back: problems are described, never quoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONST = 1
_CHECKSUM_LEN = 6

AGE_HRP = "age"
AGE_KEY_BYTES = 32


class Bech32Error(ValueError):
    """A string is not valid Bech32; the message describes the problem without quoting the input."""


def _polymod(values: Iterable[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATORS):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: Sequence[int]) -> list[int]:
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ _BECH32_CONST
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(_CHECKSUM_LEN)]


def convert_bits(data: Iterable[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    """Regroup a sequence of ``from_bits``-bit values into ``to_bits``-bit values.

    Without ``pad``, leftover bits must be fewer than ``from_bits`` and all zero (strict decoding).
    """
    acc = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    max_acc = (1 << (from_bits + to_bits - 1)) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise Bech32Error(f"value out of range for {from_bits}-bit groups")
        acc = ((acc << from_bits) | value) & max_acc
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits:
        raise Bech32Error("too many padding bits")
    elif (acc << (to_bits - bits)) & max_value:
        raise Bech32Error("non-zero padding bits")
    return out


def encode(hrp: str, payload: bytes) -> str:
    """Encode ``payload`` as a lowercase Bech32 string with human-readable part ``hrp``."""
    if not hrp or any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise Bech32Error("human-readable part must be 1+ printable ASCII characters")
    hrp = hrp.lower()
    data = convert_bits(payload, 8, 5, pad=True)
    return hrp + "1" + "".join(CHARSET[d] for d in [*data, *_create_checksum(hrp, data)])


def decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string into (lowercase human-readable part, payload bytes).

    Raises :class:`Bech32Error` for bad characters, mixed case, a missing separator, a short data
    part, a checksum mismatch (including Bech32m strings) or bad padding.
    """
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise Bech32Error("contains characters outside printable ASCII")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("mixes upper and lower case")
    lowered = text.lower()
    sep = lowered.rfind("1")
    if sep < 1:
        raise Bech32Error("has no human-readable part before the '1' separator")
    if len(lowered) - sep - 1 < _CHECKSUM_LEN:
        raise Bech32Error("data part is shorter than the 6-character checksum")
    hrp = lowered[:sep]
    try:
        data = [_CHARSET_INDEX[c] for c in lowered[sep + 1 :]]
    except KeyError:
        raise Bech32Error("data part has a character outside the Bech32 alphabet") from None
    if _polymod([*_hrp_expand(hrp), *data]) != _BECH32_CONST:
        raise Bech32Error("checksum mismatch")
    payload = convert_bits(data[:-_CHECKSUM_LEN], 5, 8, pad=False)
    return hrp, bytes(payload)


def age_recipient_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed age X25519 recipient (``age1...``), or None when it is."""
    if not text.startswith(AGE_HRP + "1"):
        return "must start with 'age1'"
    if text != text.lower():
        return "must be lowercase"
    try:
        hrp, payload = decode(text)
    except Bech32Error as exc:
        return f"is not valid Bech32: {exc}"
    if hrp != AGE_HRP:  # pragma: no cover - implied by the prefix check, kept as a guard
        return "human-readable part must be 'age'"
    if len(payload) != AGE_KEY_BYTES:
        return f"payload is {len(payload)} bytes, an age X25519 recipient has {AGE_KEY_BYTES}"
    return None


def is_age_recipient(text: str) -> bool:
    """True when ``text`` is a well-formed age X25519 recipient."""
    return age_recipient_problem(text) is None
