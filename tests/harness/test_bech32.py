"""Bech32 (BIP-173) decoding and the age recipient check (harness.bech32), moved with the code from
tests/renderer/test_trust.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import bech32

DEV_RECIPIENT = "age1mhsertvk3tszzjp96wdakpdwj5z342j6xcw5hp5v4u8n0u48lg0sk6qgu0"


@pytest.mark.parametrize("text", ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                                  "?1ezyfcl", "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"])
def test_bip173_valid_vectors(text: str) -> None:
    hrp, _ = bech32.decode(text)
    assert hrp == text.lower()[: text.rfind("1")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pzry9x8gf2tvdw0s3jn54khce6mua7l", "separator"),
        ("1qzzfhee", "human-readable part"),
        ("A1G7SGD8", "checksum mismatch"),
        ("10a06t8", "human-readable part"),
        ("x1b4n0q5v", "outside the Bech32 alphabet"),
        ("li1dgmt3", "shorter than the 6-character checksum"),
        ("A12uEL5L", "mixes upper and lower case"),
        ("a1lqfn3a", "checksum mismatch"),  # valid Bech32m, which age does not use
        ("a12uel5l\x7f", "printable ASCII"),
    ],
)
def test_bip173_invalid_vectors(text: str, problem: str) -> None:
    with pytest.raises(bech32.Bech32Error, match=problem):
        bech32.decode(text)


def test_age_recipient_accepts_fixture_recipients() -> None:
    assert bech32.age_recipient_problem(DEV_RECIPIENT) is None
    assert bech32.decode(DEV_RECIPIENT)[0] == "age"
    assert len(bech32.decode(DEV_RECIPIENT)[1]) == 32


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=64))
def test_encode_decode_round_trip(payload: bytes) -> None:
    assert bech32.decode(bech32.encode("age", payload)) == ("age", payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(min_value=4, max_value=61), st.sampled_from(bech32.CHARSET))
def test_single_substitution_is_detected(payload: bytes, position: int, char: str) -> None:
    text = bech32.encode("age", payload)
    mutated = text[:position] + char + text[position + 1:]
    if mutated == text:
        return
    assert bech32.age_recipient_problem(mutated) is not None


def test_non_zero_padding_rejected() -> None:
    # 32 bytes = 256 bits -> 52 five-bit groups with 4 padding bits; set one of them.
    data = bech32.convert_bits(bytes(32), 8, 5, pad=True)
    data[-1] |= 1
    checksum = bech32._create_checksum("age", data)
    text = "age1" + "".join(bech32.CHARSET[d] for d in [*data, *checksum])
    with pytest.raises(bech32.Bech32Error, match="non-zero padding"):
        bech32.decode(text)
