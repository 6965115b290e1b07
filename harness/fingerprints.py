"""Fingerprints of values that must never be shown: ``sha256:`` and 8 hex digits to show, the whole digest
for allowlists. The value itself is never part of either's text."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_bytes(value: Any) -> bytes:
    """The bytes a value is hashed as (strings as UTF-8, other data as sorted compact JSON)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    try:
        return json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode("utf-8")
    except TypeError:  # mixed-type mapping keys cannot be sorted
        return repr(value).encode("utf-8")


def fingerprint(value: Any) -> str:
    """``sha256:`` and the first 8 hex digits of the SHA-256 of ``value`` (strings as UTF-8)."""
    return "sha256:" + hashlib.sha256(canonical_bytes(value)).hexdigest()[:8]


def digest(value: Any) -> str:
    """``sha256:`` and the whole SHA-256 hex digest of ``value`` (what a secret allowlist entry names)."""
    return "sha256:" + hashlib.sha256(canonical_bytes(value)).hexdigest()
