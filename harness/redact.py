"""Redaction: secret values never reach a finding, a diff line, a report or an exception.

A masked value is shown as ``<redacted sha256:1a2b3c4d>`` (first 8 hex digits of the SHA-256 of the
value), so a reviewer still sees *whether* two values differ without seeing either value.

The same model as the secret scanner (:mod:`harness.secrets`): what it treats as secret-bearing is masked.
What is masked when a YAML value is shown (:func:`should_mask`):
- every value under ``data``/``stringData`` of a document whose ``kind`` is ``Secret`` (however the
  ``kind`` was spelled: callers pass the parsed value), and of the ``items`` of any ``*List`` document;
- the ``kubectl.kubernetes.io/last-applied-configuration`` annotation of a Secret (or of any document
  whose annotation holds one), which repeats the Secret's values;
- every value whose key path has a segment containing ``secrets`` (``spec.values.secrets.admin``);
- every value under a key that looks like a credential, at any depth of its key path: ``identity``,
  ``identity.pub``, ``known_hosts``, anything containing ``password``, ``passphrase``, ``token``,
  ``private_key``, ``secret_key``, ``api_key``, ``client_secret``, ``credential``, ``access_key``,
  or ending in ``.key``;
- ``secretGenerator[*].literals`` entries (``name=value``);
- any string that looks like key material: a marker (``PRIVATE KEY``, ``AGE-SECRET-KEY-``...), or an
  encoded form the scanner's pre-filter signs (base64 at any alignment and nesting, URL-safe, hex, gzip,
  wrapped or JSON-escaped).

:func:`redact_text` masks known secret values in free text: the value, its base64 (any alignment, both
alphabets, and base64 of that), and its hex.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from typing import Any

from harness.fingerprints import digest, fingerprint

KeyPath = Sequence[str | int]
__all__ = ["digest", "fingerprint", "is_secret_key", "is_secret_path", "looks_like_key_material", "masked",
           "redact_text", "safe_line", "should_mask"]

SECRET_KINDS = frozenset({"Secret"})
SECRET_DATA_KEYS = frozenset({"data", "stringData"})
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_EXACT_KEYS = frozenset({"identity", "identity.pub", "known_hosts", "secret", "ssh_known_hosts"})
_KEY_PARTS = ("password", "passwd", "passphrase", "token", "private_key", "privatekey", "secret_key",
              "secretkey", "api_key", "apikey", "client_secret", "clientsecret", "credential", "access_key",
              "accesskey")
_MATERIAL = re.compile(r"PRIVATE KEY|AGE-SECRET-KEY-|LS0tLS1CRUdJT|BEGIN PGP PRIVATE|PuTTY-User-Key")
_ASSIGNMENT = re.compile(r"(?P<key>[A-Za-z0-9_.\-]+)(?P<sep>\"?\s*[:=]\s*)(?P<value>\S.*)")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/_=\-]{32,}")


def masked(value: Any) -> str:
    """How a masked value is shown: ``<redacted sha256:xxxxxxxx>``."""
    return f"<redacted {fingerprint(value)}>"


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a credential (``password``, ``identity``, ``known_hosts``...)."""
    name = key.lower().replace("-", "_")
    if name in _EXACT_KEYS or name.endswith(".key"):
        return True
    return any(part in name for part in _KEY_PARTS)


def looks_like_key_material(value: Any) -> bool:
    """Whether a scalar looks like private-key material (PEM/OpenSSH/PGP/age, or base64 of a PEM header)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return False
    if _MATERIAL.search(value) is not None:
        return True
    if len(value) < 10:
        return False
    from harness.secrets.prefilter import encoded_re, flatten

    return encoded_re().search(flatten(value.encode("utf-8", "surrogatepass"))) is not None


def is_secret_path(path: KeyPath, *, doc_kind: Any = None) -> bool:
    """Whether the value at ``path`` (inside a document of kind ``doc_kind``) must be masked."""
    if isinstance(doc_kind, str) and doc_kind in SECRET_KINDS and path and path[0] in SECRET_DATA_KEYS:
        return True
    if isinstance(doc_kind, str) and doc_kind.endswith("List") and len(path) > 2 and path[0] == "items" \
            and path[2] in SECRET_DATA_KEYS:
        return True
    if LAST_APPLIED in path:
        return True
    names = [p for p in path if isinstance(p, str)]
    if any("secrets" in n.lower() or is_secret_key(n) for n in names):
        return True
    return "secretGenerator" in names and "literals" in names[names.index("secretGenerator"):]


def should_mask(path: KeyPath, value: Any, *, doc_kind: Any = None) -> bool:
    """Whether a scalar ``value`` at ``path`` must be shown masked."""
    return is_secret_path(path, doc_kind=doc_kind) or looks_like_key_material(value)


def safe_line(line: str, *, limit: int = 160) -> str:
    """One line of a text/bytes diff, safe to show: key material masks the whole line, a credential-like
    ``key: value``/``key=value`` masks the value, long mixed-case tokens are masked; then truncated."""
    line = line.rstrip("\r\n")
    if looks_like_key_material(line):
        return masked(line)
    match = _ASSIGNMENT.search(line)
    if match and is_secret_key(match.group("key").strip("\"'")):
        line = line[: match.start("value")] + masked(match.group("value"))
    else:
        line = _LONG_TOKEN.sub(_mask_token, line)
    if len(line) > limit:
        line = line[: limit - 3] + "..."
    return line


def _mask_token(match: re.Match[str]) -> str:
    token = match.group(0)
    mixed = any(c.isdigit() for c in token) and any(c.isupper() for c in token) and any(
        c.islower() for c in token)
    return masked(token) if mixed else token


def _b64_cores(raw: bytes) -> set[str]:
    """The base64 text that ``raw`` produces at each of the three byte alignments, minus the edge
    characters that depend on neighbouring bytes; standard and URL-safe alphabets."""
    cores: set[str] = set()
    n = len(raw)
    for k in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            enc = encode(b"\x00" * k + raw).decode("ascii").rstrip("=")
            start = -(-8 * k // 6)
            end = (8 * (k + n)) // 6
            core = enc[start:end]
            if len(core) >= 8:
                cores.add(core)
    return cores


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every literal ``secrets`` value in ``text``, its base64 encoding (any alignment, standard or
    URL-safe, and base64 of that) and its hex, by ``<redacted sha256:...>``. Empty and one-character values
    are ignored."""
    replacements: dict[str, str] = {}
    for secret in secrets:
        if not secret or len(secret) < 2:
            continue
        mark = masked(secret)
        replacements.setdefault(secret, mark)
        raw = secret.encode("utf-8")
        for core in _b64_cores(raw):
            replacements.setdefault(core, mark)
            for inner in _b64_cores(core.encode("ascii")):  # base64 of base64
                replacements.setdefault(inner, mark)
        if len(raw) >= 4:
            replacements.setdefault(raw.hex(), mark)
            replacements.setdefault(raw.hex().upper(), mark)
    if not replacements:
        return text
    pattern = re.compile("|".join(re.escape(s) for s in sorted(replacements, key=len, reverse=True)))
    return pattern.sub(lambda m: replacements[m.group(0)], text)
