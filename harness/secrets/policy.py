"""The Secret-value policy (fixture files only): every value of a Secret's ``data`` (after base64
decoding) or ``stringData`` is a ``PLACEHOLDER-...`` value or sops-encrypted.

Where Secrets are found (:func:`secret_documents`): a ``kind: Secret`` document however its ``kind`` is
spelled (the YAML parser reads escapes, tags, flow style and quoted keys), the items of any ``kind: *List``
(items of a ``SecretList`` need no ``kind`` of their own), and the copy kubectl keeps in the
``kubectl.kubernetes.io/last-applied-configuration`` annotation (parsed as JSON, checked like the rest).

Encrypted means sops' value grammar, ``ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`` with valid
base64 parts (a 32-byte iv, a 16-byte tag), in a document that carries sops metadata (a top-level ``sops``
mapping with ``mac`` and ``version``). ``ENC[anything]`` elsewhere is just a value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

from harness.fingerprints import digest, fingerprint
from harness.secrets.model import HINTS, PLACEHOLDER_PREFIX, Located, key_text

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_WS_RE = re.compile(r"\s+")
_B64_PART = r"[A-Za-z0-9+/]*={0,2}"
_SOPS_VALUE = re.compile(rf"ENC\[AES256_GCM,data:(?P<data>{_B64_PART}),iv:(?P<iv>{_B64_PART}),"
                         rf"tag:(?P<tag>{_B64_PART}),type:(?:str|int|float|bool|bytes|comment)\]")
_IV_BYTES, _TAG_BYTES = 32, 16

KeyPath = tuple[str | int, ...]


def is_sops_value(value: str) -> bool:
    """Whether ``value`` follows sops' encrypted-value grammar with valid base64 parts."""
    match = _SOPS_VALUE.fullmatch(value.strip())
    if match is None:
        return False
    try:
        parts = {name: base64.b64decode(match.group(name), validate=True) for name in ("data", "iv", "tag")}
    except (binascii.Error, ValueError):
        return False
    return len(parts["iv"]) == _IV_BYTES and len(parts["tag"]) == _TAG_BYTES


def has_sops_metadata(doc: Any) -> bool:
    """Whether a parsed document carries sops metadata (a top-level ``sops`` mapping with mac and version)."""
    meta = doc.get("sops") if isinstance(doc, dict) else None
    return isinstance(meta, dict) and "mac" in meta and "version" in meta


def last_applied(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The object kubectl kept in the last-applied-configuration annotation, parsed (None when absent or
    not a JSON object)."""
    meta = doc.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    text = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not isinstance(text, str):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def secret_documents(doc: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
    """Every Secret in a parsed document, with its key path (see the module docstring for where)."""
    if not isinstance(doc, dict):
        return
    kind = doc.get("kind")
    if kind == "Secret":
        yield path, doc
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if kind == "SecretList" and isinstance(item, dict) and "kind" not in item:
                yield (*path, "items", index), item
            else:
                yield from secret_documents(item, (*path, "items", index))
    embedded = last_applied(doc)
    if embedded is not None:
        yield from secret_documents(embedded, (*path, "metadata", "annotations", LAST_APPLIED))


def secret_policy(secret: dict[str, Any], path: KeyPath, number: int, suffix: str, *,
                  encrypted: bool) -> list[Located]:
    """The policy findings of one Secret (document ``number``; ``suffix`` names it in messages;
    ``encrypted``: the document carries sops metadata, so sops values count as encrypted)."""
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
                                    "digest": digest(values), "document": number + 1}))
            continue
        for raw_key, value in values.items():
            key = (*path, section, str(raw_key))
            problem = policy_problem(section, value, encrypted=encrypted)
            if problem:
                located.append(Located(
                    "SECRET-NOT-PLACEHOLDER", f"{who}: {key_text(key)} {problem}{suffix}",
                    HINTS["SECRET-NOT-PLACEHOLDER"], number, key,
                    {"key_path": key_text(key), "layer": "base64" if section == "data" else "literal",
                     "fingerprint": fingerprint(value), "digest": digest(value), "document": number + 1}))
    return located


def policy_problem(section: str, value: Any, *, encrypted: bool) -> str:
    """Why a Secret value breaks the fixture policy ('' when it is a placeholder or sops-encrypted)."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a PLACEHOLDER-... string or sops ENC[...] value"
    if value.lstrip().startswith("ENC["):
        return value_problem(value, encrypted=encrypted)
    if section == "stringData":
        return "" if value.startswith(PLACEHOLDER_PREFIX) else "is neither PLACEHOLDER-... nor sops ENC[...]"
    try:
        decoded = base64.b64decode(_WS_RE.sub("", value), validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64 (and not sops ENC[...])"
    if decoded.startswith(PLACEHOLDER_PREFIX.encode("ascii")):
        return ""
    return "decodes to neither PLACEHOLDER-... nor sops ENC[...]"


def value_problem(value: str, *, encrypted: bool) -> str:
    """Why a plain value (a stringData value, a literal, an env entry) is neither PLACEHOLDER-... nor a sops
    value ('' when it is one of them)."""
    if value.startswith(PLACEHOLDER_PREFIX):
        return ""
    if not value.lstrip().startswith("ENC["):
        return "is neither PLACEHOLDER-... nor sops ENC[...]"
    if not is_sops_value(value):
        return "looks like ENC[...] but does not follow sops' ENC[AES256_GCM,data:,iv:,tag:,type:] grammar"
    return "" if encrypted else "is a sops ENC[...] value in a document without sops metadata"
