"""The Secret-value policy (fixture files only): every value of a Secret's ``data`` (after base64
decoding) or ``stringData`` is a ``PLACEHOLDER-...`` value or sops-encrypted (``ENC[...]``)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

from harness.redact import fingerprint
from harness.secrets.model import HINTS, PLACEHOLDER_PREFIX, Located, key_text

_WS_RE = re.compile(r"\s+")
_ENC = re.compile(r"ENC\[[A-Za-z0-9_]+,.*\]", re.S)


def secret_documents(doc: Any) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every Secret in a parsed document (itself, or an item of a ``kind: *List``), with its key path."""
    if not isinstance(doc, dict):
        return
    if doc.get("kind") == "Secret":
        yield (), doc
    items = doc.get("items")
    if isinstance(doc.get("kind"), str) and doc["kind"].endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            for path, secret in secret_documents(item):
                yield ("items", index, *path), secret


def secret_policy(secret: dict[str, Any], path: tuple[str | int, ...], number: int, suffix: str) -> list[Located]:
    """The policy findings of one Secret (document ``number``; ``suffix`` names it in messages)."""
    located: list[Located] = []
    meta = secret.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    who = f"Secret {name}" if isinstance(name, str) else "Secret"
    for section in ("data", "stringData"):
        values = secret.get(section)
        if values is None:
            continue
        if not isinstance(values, dict):
            key = (*path, section)
            located.append(Located("SECRET-NOT-PLACEHOLDER", f"{who}: {key_text(key)} is not a mapping{suffix}",
                                   HINTS["SECRET-NOT-PLACEHOLDER"], number, key,
                                   {"key_path": key_text(key), "layer": "", "fingerprint": fingerprint(values),
                                    "document": number + 1}))
            continue
        for raw_key, value in values.items():
            key = (*path, section, str(raw_key))
            problem = policy_problem(section, value)
            if problem:
                located.append(Located(
                    "SECRET-NOT-PLACEHOLDER", f"{who}: {key_text(key)} {problem}{suffix}",
                    HINTS["SECRET-NOT-PLACEHOLDER"], number, key,
                    {"key_path": key_text(key), "layer": "base64" if section == "data" else "literal",
                     "fingerprint": fingerprint(value), "document": number + 1}))
    return located


def policy_problem(section: str, value: Any) -> str:
    """Why a Secret value breaks the fixture policy ('' when it is a placeholder or sops-encrypted)."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a PLACEHOLDER-... string or sops ENC[...] value"
    if _ENC.fullmatch(value.strip()):
        return ""
    if section == "stringData":
        return "" if value.startswith(PLACEHOLDER_PREFIX) else "is neither PLACEHOLDER-... nor sops ENC[...]"
    try:
        decoded = base64.b64decode(_WS_RE.sub("", value), validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64 (and not sops ENC[...])"
    if decoded.startswith(PLACEHOLDER_PREFIX.encode("ascii")):
        return ""
    return "decodes to neither PLACEHOLDER-... nor sops ENC[...]"
