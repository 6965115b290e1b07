"""What the scanner reports: the check name, the finding codes' hints, and key paths as text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.keypath import key_path_text

CHECK = "secrets"
PLACEHOLDER_PREFIX = "PLACEHOLDER-"

HINTS = {
    "SECRET-REAL-KEY": "remove it and rotate the key out of band (treat it as compromised); fixtures hold "
                       "only PLACEHOLDER-... values or sops-encrypted data",
    "SECRET-PRIVATE-KEY": "replace the key material with a PLACEHOLDER-... value, or encrypt the file with sops",
    "SECRET-NOT-PLACEHOLDER": "use a PLACEHOLDER-<name> value (base64-encoded under `data`) or encrypt the "
                              "Secret with sops",
    "SECRET-UNSCANNABLE": "make the file valid YAML (no duplicate keys) or keep it under max_file_bytes so it "
                          "can be checked",
}


@dataclass
class Located:
    """A finding in a parsed document, waiting for its line (resolved from a round-trip parse only when
    needed)."""

    code: str
    message: str
    hint: str
    doc: int
    key: tuple[str | int, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def key_text(key: Sequence[str | int]) -> str:
    """``data.identity``, ``items[0].data["tls.key"]``: a key path as shown in findings."""
    return key_path_text(key)
