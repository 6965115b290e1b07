"""Fixture secret scanner: private-key material and non-placeholder Secret values in fixture files.

What is found, in any file, at any position:
- PEM private keys of every type (``PRIVATE KEY``, ``RSA/EC/DSA/OPENSSH/ENCRYPTED PRIVATE KEY``,
  ``PGP PRIVATE KEY BLOCK``...), SSH2 and PuTTY private keys, and ``AGE-SECRET-KEY-1...``;
- the same inside base64 (standard or URL-safe alphabet, padded or not, wrapped at any width and
  indentation), nested up to :data:`MAX_LAYERS` levels deep.

``-----BEGIN AGE ENCRYPTED FILE-----`` (in every sops-encrypted file) and certificates are not keys.

Findings (``check="secrets"``):
- ``SECRET-REAL-KEY``: the material parses as a real key (``cryptography`` loads the PEM or OpenSSH key,
  or it needs a password to do so; an age key has a valid bech32 checksum), whatever its label says.
- ``SECRET-PRIVATE-KEY``: a private-key marker that does not parse (still forbidden in fixtures).
- ``SECRET-NOT-PLACEHOLDER``: a value of a ``kind: Secret`` document's ``data`` (after base64 decoding)
  or ``stringData`` that is neither ``PLACEHOLDER-...`` nor SOPS-encrypted (``ENC[...]``).
- ``SECRET-UNSCANNABLE``: a file that may hold secrets but cannot be fully checked (a Secret that does
  not parse as YAML, a file over ``max_file_bytes`` whose pre-filter matched).

Every finding names the file, line, key path (for YAML values), the decoding layer (``literal``,
``base64``, ``base64url>base64``...) and a fingerprint (``sha256:`` + 8 hex) of the matched material.
The material itself never enters a finding, a message or an exception.

Speed: each file is read once and passed through one pre-filter (literal markers, ``kind: Secret``,
and the base64 forms of ``-----BEGIN``/``AGE-SECRET-KEY-`` at every alignment and nesting level, searched
with one trie-shaped regex over the whitespace-free bytes). Only files that match are decoded or parsed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError
from harness.findings import Finding
from harness.redact import fingerprint

if TYPE_CHECKING:
    from harness.globs import GlobSet

CHECK = "secrets"
MAX_LAYERS = 4
"""Base64 layers decoded below the literal text (the contract asks for two; three are tested)."""
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
PLACEHOLDER_PREFIX = "PLACEHOLDER-"
YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                       ".pytest_cache", ".tox", ".hypothesis"})
"""Directories never walked (tool caches and environments, not fixtures); a file in one can still be named."""

_MIN_BLOB = 20  # shortest base64 run worth decoding (base64 of "-----BEGIN PRIVATE" is 24 characters)
_CHUNK = 1 << 20
_OVERLAP = 4096

_MARKER_RE = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?(?:-----)?"
    r"|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
    r"|PuTTY-User-Key-File-[0-9]+:"
    r"|AGE-SECRET-KEY-[0-9A-Z-]*"
)
_LITERAL_NEEDLES = (b"BEGIN", b"AGE-SECRET-KEY-")  # every marker has one (PuTTY is in the encoded regex)
_B64 = r"[A-Za-z0-9+/_-]"
_BLOB_RE = re.compile(
    rf"{_B64}{{8,}}={{0,2}}"
    rf"(?:[ \t]*\r?\n[ \t]*{_B64}+={{0,2}}(?=[ \t]*(?:\r?\n|\Z|[\"',}}\]])))*"
)
_WS_RE = re.compile(r"\s+")
_LINE_RE = re.compile(rf"{_B64}+={{0,2}}")
_PAD_SPLIT = re.compile(r"=+")
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff]")
_LONG_RUN = re.compile(rb"[A-Za-z0-9+/_-]{%d}" % _MIN_BLOB)
_SECRET_KIND = re.compile(rb"""\bkind["']?[ \t]*:[ \t]*["']?Secret\b""")
_ENC = re.compile(r"ENC\[[A-Za-z0-9_]+,.*\]", re.S)
_URL_TO_STD = str.maketrans("-_", "+/")
_WHITESPACE = b" \t\r\n\f\v"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


# ------------------------------------------------------------------------------------------- pre-filter

def _signatures(marker: bytes, levels: int) -> set[bytes]:
    """The base64 text a ``marker`` produces at every byte alignment, nested ``levels`` deep, in both
    alphabets, minus the edge characters that depend on neighbouring bytes."""
    found: set[bytes] = set()
    current = {marker}
    for _ in range(levels):
        following: set[bytes] = set()
        for text in current:
            for k in range(3):
                encoded = base64.b64encode(b"\x00" * k + text)
                core = encoded[-(-8 * k // 6): (8 * (k + len(text))) // 6]
                following.add(core)
                following.add(core.translate(bytes.maketrans(b"+/", b"-_")))
        found |= following
        current = following
    return found


_RARE_FIRST = b"QXZJKVBWYGFUMPHCDLORNISATE9876543210+/_-zqxjkvbwygfumphcdlornisate"


def _window(signature: bytes, size: int = 10) -> bytes:
    """A ``size``-byte window of ``signature`` starting at a character rare in YAML (cheap to skip)."""
    if len(signature) <= size:
        return signature
    rank = {c: i for i, c in enumerate(_RARE_FIRST)}
    return min((signature[i:i + size] for i in range(len(signature) - size + 1)),
               key=lambda w: rank.get(w[0], len(rank)))


def _trie_regex(words: Iterable[bytes]) -> bytes:
    """One regex source matching any of ``words``, shaped as a trie so the engine never retries prefixes."""
    trie: dict[int, Any] = {}
    for word in words:
        node = trie
        for byte in word:
            node = node.setdefault(byte, {})
        node[-1] = {}

    def emit(node: dict[int, Any]) -> bytes:
        branches = [re.escape(bytes([k])) + emit(v) for k, v in sorted(node.items()) if k != -1]
        if not branches:
            return b""
        if len(branches) == 1 and -1 not in node:
            return branches[0]
        return b"(?:" + b"|".join(branches) + b")" + (b"?" if -1 in node else b"")

    return emit(trie)


@functools.cache
def _encoded_re() -> re.Pattern[bytes]:
    words: set[bytes] = set()
    for marker in (b"-----BEGIN", b"AGE-SECRET-KEY-"):
        words |= {_window(s) for s in _signatures(marker, MAX_LAYERS)}  # every layer _descend decodes
    words.add(b"PuTTY-User-Key-File-")
    return re.compile(_trie_regex(sorted(words)))


def base64_signatures(levels: int = 3) -> set[bytes]:
    """Every base64 form of ``-----BEGIN`` and ``AGE-SECRET-KEY-`` up to ``levels`` nesting levels."""
    return _signatures(b"-----BEGIN", levels) | _signatures(b"AGE-SECRET-KEY-", levels)


def prefilter(data: bytes) -> set[str]:
    """Why ``data`` needs a closer look: any of ``literal`` (a key marker), ``encoded`` (a base64 form
    of one, at any alignment/nesting, across line wraps), ``secret`` (a ``kind: Secret`` document).
    Empty for the vast majority of files, which are then done with."""
    reasons: set[str] = set()
    if any(needle in data for needle in _LITERAL_NEEDLES):
        reasons.add("literal")
    if b"Secret" in data and _SECRET_KIND.search(data):
        reasons.add("secret")
    if _encoded_re().search(data.translate(None, _WHITESPACE)):
        reasons.add("encoded")
    return reasons


# ---------------------------------------------------------------------------------------- key material

@dataclass(frozen=True)
class KeyMatch:
    """Private-key material found in a text. ``start``/``end`` delimit, in the scanned text, the literal
    marker or the outermost base64 run that holds it; ``fingerprint`` is that of the key material."""

    label: str
    real: bool
    layer: str
    start: int
    end: int
    fingerprint: str


def _material(text: str, match: re.Match[str]) -> tuple[str, str]:
    """(label, normalised key material) for one marker match."""
    token = match.group(0)
    if token.startswith("AGE-SECRET-KEY-"):
        return "AGE SECRET KEY", token
    if token.startswith("PuTTY"):
        end = text.find("Private-MAC:", match.end())
        stop = text.find("\n", end) if end != -1 else -1
        block = text[match.start(): stop if stop != -1 else match.end()]
        return "PUTTY PRIVATE KEY", _normalise(block)
    if token.startswith("---- BEGIN SSH2"):
        label, end_marker = "SSH2 ENCRYPTED PRIVATE KEY", "---- END SSH2 ENCRYPTED PRIVATE KEY ----"
    else:
        label = f"{match.group(1) or ''}PRIVATE KEY{match.group(2) or ''}"
        end_marker = f"-----END {label}-----"
    end = text.find(end_marker, match.end())
    block = text[match.start(): end + len(end_marker)] if end != -1 else token
    return label, _normalise(block)


def _normalise(block: str) -> str:
    """The same key in a YAML block scalar, a JSON string or a decoded layer normalises identically."""
    block = block.replace("\\r\\n", "\n").replace("\\n", "\n")
    return "\n".join(line.strip() for line in block.splitlines()).strip() + "\n"


def _bech32_polymod(values: Iterable[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for bit in range(5):
            check ^= generator[bit] if (top >> bit) & 1 else 0
    return check


def is_age_secret_key(token: str) -> bool:
    """Whether ``token`` is a well-formed age secret key (bech32 checksum and a 32-byte payload)."""
    text = token.strip().lower()
    pos = text.rfind("1")
    hrp, data = text[:pos], text[pos + 1:]
    if pos < 1 or not hrp.startswith("age-secret-key-") or len(data) < 6 + 52:
        return False
    try:
        values = [_BECH32.index(c) for c in data]
    except ValueError:
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return _bech32_polymod(expanded + values) == 1 and (len(values) - 6) * 5 // 8 >= 32


def parses_as_key(label: str, material: str) -> bool:
    """Whether ``material`` is a real private key: ``cryptography`` loads it, or refuses only for want of
    a password (an encrypted key is still a real key). PGP, SSH2 and PuTTY keys are never parsed."""
    if label == "AGE SECRET KEY":
        return is_age_secret_key(material)
    if label.startswith(("PGP", "SSH2", "PUTTY")):
        return False
    try:
        data = material.encode("ascii")
    except UnicodeEncodeError:
        return False
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        if label == "OPENSSH PRIVATE KEY":
            serialization.load_ssh_private_key(data, password=None)
        else:
            serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except (TypeError, UnsupportedAlgorithm):
        return True  # well-formed: needs a password, or a key type this build cannot use
    except Exception:  # any parse failure means "not a loadable key"
        return False
    return True


def _decode(blob: str, offset: int = 0) -> bytes | None:
    """Decode a whitespace-free base64 run (either alphabet, padding optional, concatenated runs ok)."""
    text = blob[offset:].translate(_URL_TO_STD)
    out = bytearray()
    for chunk in _PAD_SPLIT.split(text):
        if len(chunk) % 4 == 1:
            chunk = chunk[:-1]
        if not chunk:
            continue
        try:
            out += binascii.a2b_base64(chunk + "=" * (-len(chunk) % 4), strict_mode=True)
        except binascii.Error:
            return None
    return bytes(out)


def _worth_descending(decoded: bytes, depth: int) -> bool:
    if any(needle in decoded for needle in _LITERAL_NEEDLES) or b"PuTTY-User-Key-File-" in decoded:
        return True
    return depth + 1 < MAX_LAYERS and not _BINARY.search(decoded) and _LONG_RUN.search(decoded) is not None


def _blobs(text: str) -> Iterator[tuple[str, int, int]]:
    """Base64 runs of ``text``, joined across line wraps: (run without whitespace, start, end).

    Wrapped base64 has lines of one width (a multiple of 4) and a shorter or padded last line; a line
    after a short, padded or odd-length one starts a new run, so adjacent payloads are decoded
    separately (the first line may be shorter: a value that starts after ``key: ``). Three or more lines
    of one width that is not a multiple of 4 (``base64 -w 50``), a shorter last line and padding only at
    its end, are one payload.
    Escaped line breaks (``\\n`` in a JSON string) count as line breaks."""
    if "\\n" in text:  # wrapped inside a JSON or double-quoted YAML string: same length, so spans still hold
        text = text.replace("\\r\\n", "   \n").replace("\\n", " \n")
    for run in _BLOB_RE.finditer(text):
        lines = [(m.group(0), m.start(), m.end()) for m in _LINE_RE.finditer(run.group(0))]
        count = _odd_width_payload([part for part, _, _ in lines])
        if count:
            yield from _joined(lines[:count], run.start())
        yield from _groups(lines[count:], run.start())


def _odd_width_payload(lines: list[str]) -> int:
    """How many leading lines form one payload wrapped at a width that is not a multiple of 4 (0 if none):
    a first line no wider than the second, three or more lines in all, every line but the first and the
    last as wide as the second, the last no wider, padding only at its end."""
    if len(lines) < 3 or len(lines[1]) % 4 == 0 or len(lines[0]) > len(lines[1]):
        return 0
    width = len(lines[1])
    end = 1
    while end < len(lines) and len(lines[end]) == width and not lines[end - 1].endswith("="):
        end += 1
    if end < len(lines) and len(lines[end]) < width and not lines[end - 1].endswith("="):
        end += 1  # the shorter last line
    if any(line.endswith("=") for line in lines[: end - 1]):
        return 0
    return end if end >= 3 else 0


def _groups(lines: list[tuple[str, int, int]], offset: int) -> Iterator[tuple[str, int, int]]:
    """The payloads of one run of base64 lines (see :func:`_blobs`)."""
    group: list[tuple[str, int, int]] = []
    for index, line in enumerate(lines):
        if group:
            previous = group[-1][0]
            width = len(group[1][0]) if len(group) > 1 else len(line[0])
            full = len(previous) % 4 == 0 and (len(group) == 1 or len(previous) == width)
            # a shorter line followed by one as long is the first line of the next payload
            # (and a longer line cannot end a block of this width)
            shorter = len(group) > 1 and len(line[0]) < width and index + 1 < len(lines) and \
                len(lines[index + 1][0]) == len(line[0])
            longer = len(group) > 1 and len(line[0]) > width
            if previous.endswith("=") or not full or shorter or longer:
                yield from _joined(group, offset)
                group = []
        group.append(line)
    yield from _joined(group, offset)


def _joined(group: list[tuple[str, int, int]], offset: int) -> Iterator[tuple[str, int, int]]:
    blob = "".join(part for part, _, _ in group)
    if len(blob) >= _MIN_BLOB:
        yield blob, offset + group[0][1], offset + group[-1][2]


def find_key_material(text: str) -> list[KeyMatch]:
    """Every private key in ``text``, literal or base64-encoded (up to :data:`MAX_LAYERS` deep)."""
    found: list[KeyMatch] = []
    _descend(text, (), None, 0, found)
    return found


def _descend(text: str, layers: tuple[str, ...], span: tuple[int, int] | None, depth: int,
             found: list[KeyMatch]) -> None:
    layer = ">".join(layers) or "literal"
    for match in _MARKER_RE.finditer(text):
        label, material = _material(text, match)
        start, end = span or match.span()
        found.append(KeyMatch(label, parses_as_key(label, material), layer, start, end, fingerprint(material)))
    if depth >= MAX_LAYERS:
        return
    for blob, start, end in _blobs(text):
        alphabet = "base64url" if ("-" in blob or "_" in blob) else "base64"
        offsets = (0, 1, 2, 3) if _encoded_re().search(blob.encode("ascii")) else (0,)
        for offset in offsets:
            decoded = _decode(blob, offset)
            if decoded and _worth_descending(decoded, depth):  # a misaligned decode is binary noise
                _descend(decoded.decode("latin-1"), (*layers, alphabet), span or (start, end), depth + 1, found)
                break


# ------------------------------------------------------------------------------------------- scanning

@dataclass
class _Located:
    """A finding waiting for its line (resolved from the round-trip parse only when needed)."""

    code: str
    message: str
    hint: str
    doc: int
    key: tuple[str | int, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def _key_text(key: Sequence[str | int]) -> str:
    text = ""
    for part in key:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


_HINTS = {
    "SECRET-REAL-KEY": "remove it and rotate the key out of band (treat it as compromised); fixtures hold "
                       "only PLACEHOLDER-... values or sops-encrypted data",
    "SECRET-PRIVATE-KEY": "replace the key material with a PLACEHOLDER-... value, or encrypt the file with sops",
    "SECRET-NOT-PLACEHOLDER": "use a PLACEHOLDER-<name> value (base64-encoded under `data`) or encrypt the "
                              "Secret with sops",
    "SECRET-UNSCANNABLE": "make the file valid YAML (no duplicate keys) or keep it under max_file_bytes so it "
                          "can be checked",
}


def _key_finding(match: KeyMatch, where: str) -> tuple[str, str]:
    code = "SECRET-REAL-KEY" if match.real else "SECRET-PRIVATE-KEY"
    what = f"real {match.label}" if match.real else f"private-key marker ({match.label})"
    return code, f"{what}{where}, layer {match.layer}"


def scan_text(text: str, name: str, *, as_yaml: bool | None = None) -> list[Finding]:
    """Scan one file's text (``name`` is shown in findings). YAML parsing (key paths, Secret policy) is
    used when ``as_yaml`` is true, or by default for ``.yaml/.yml/.json`` names and ``kind: Secret`` texts."""
    try:
        data = text.encode("utf-8", "surrogateescape")  # undoes a surrogateescape decode
    except UnicodeEncodeError:  # a lone surrogate outside that range (e.g. from a "\ud800" escape)
        data = text.encode("utf-8", "surrogatepass")
    return _scan(data, name, as_yaml=as_yaml, text=text)


def scan_bytes(data: bytes, name: str, *, as_yaml: bool | None = None) -> list[Finding]:
    """Scan one file's bytes: pre-filter, then (only on a match) decode, parse and check."""
    return _scan(data, name, as_yaml=as_yaml)


def _scan(data: bytes, name: str, *, as_yaml: bool | None, text: str | None = None) -> list[Finding]:
    reasons = prefilter(data)
    if not reasons:
        return []
    secret_kind = "secret" in reasons
    yaml_text: str | None = text
    if yaml_text is None:
        try:
            yaml_text = data.decode("utf-8")
        except UnicodeDecodeError:
            yaml_text = None
    scan_as_text = yaml_text if yaml_text is not None else data.decode("latin-1")
    text_matches = find_key_material(scan_as_text) if reasons & {"literal", "encoded"} else []
    if as_yaml is None:
        as_yaml = Path(name).suffix.lower() in YAML_SUFFIXES or secret_kind
    wants_yaml = as_yaml and (secret_kind or bool(text_matches))  # parse only for policy or key paths
    located: list[_Located] = []
    findings: list[Finding] = []
    docs: list[Any] | None = None
    if wants_yaml and yaml_text is not None:
        from harness.yamlio import load_documents

        try:
            docs = load_documents(yaml_text, name)
        except InputError as exc:
            if secret_kind:
                findings.append(Finding(
                    code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                    line=exc.location.line if exc.location else 0,
                    message=f"looks like a Secret but does not parse as YAML ({exc.code}); its values cannot be "
                            "checked", hint=_HINTS["SECRET-UNSCANNABLE"]))
    elif secret_kind and yaml_text is None:
        findings.append(Finding(code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                                message="looks like a Secret but is not UTF-8 text; its values cannot be checked",
                                hint=_HINTS["SECRET-UNSCANNABLE"]))
    seen: set[str] = set()
    if docs is not None:
        multi = len(docs) > 1
        for number, doc in enumerate(docs):
            located.extend(_scan_document(doc, number, multi, seen))
    for match in text_matches:
        if match.fingerprint in seen:
            continue  # already reported with its key path
        seen.add(match.fingerprint)
        code, message = _key_finding(match, "")
        line = scan_as_text.count("\n", 0, match.start) + 1
        findings.append(Finding(code=code, message=message, check=CHECK, path=name, line=line, hint=_HINTS[code],
                                extra={"layer": match.layer, "key_path": "", "fingerprint": match.fingerprint,
                                       "key_type": match.label}))
    if located:
        lines = _RoundTripLines(yaml_text or "", name)
        for item in located:
            findings.append(Finding(code=item.code, message=item.message, check=CHECK, path=name,
                                    line=lines.line(item.doc, item.key), hint=item.hint, extra=item.extra))
    return sorted(findings, key=lambda f: (f.line, f.code, f.extra.get("key_path", ""), f.message))


def _secret_documents(doc: Any) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    if not isinstance(doc, dict):
        return
    if doc.get("kind") == "Secret":
        yield (), doc
    items = doc.get("items")
    if isinstance(doc.get("kind"), str) and doc["kind"].endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            for path, secret in _secret_documents(item):
                yield ("items", index, *path), secret


def _leaves(data: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*prefix, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*prefix, index))
    else:
        yield prefix, data


def _scan_document(doc: Any, number: int, multi: bool, seen: set[str]) -> list[_Located]:
    located: list[_Located] = []
    suffix = f" (document {number + 1})" if multi else ""
    for key, value in _leaves(doc):
        if not isinstance(value, str) or len(value) < 15:
            continue
        for match in find_key_material(value):
            seen.add(match.fingerprint)
            code, message = _key_finding(match, f" in {_key_text(key)}{suffix}")
            located.append(_Located(code, message, _HINTS[code], number, key, {
                "layer": match.layer, "key_path": _key_text(key), "fingerprint": match.fingerprint,
                "key_type": match.label, "document": number + 1}))
    for path, secret in _secret_documents(doc):
        located.extend(_secret_policy(secret, path, number, suffix))
    return located


def _secret_policy(secret: dict[str, Any], path: tuple[str | int, ...], number: int, suffix: str) -> list[_Located]:
    located: list[_Located] = []
    meta = secret.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    who = f"Secret {name}" if isinstance(name, str) else "Secret"
    for section in ("data", "stringData"):
        values = secret.get(section)
        if values is None:
            continue
        if not isinstance(values, dict):
            key = (*path, section)
            located.append(_Located("SECRET-NOT-PLACEHOLDER", f"{who}: {_key_text(key)} is not a mapping{suffix}",
                                    _HINTS["SECRET-NOT-PLACEHOLDER"], number, key,
                                    {"key_path": _key_text(key), "layer": "", "fingerprint": fingerprint(values),
                                     "document": number + 1}))
            continue
        for raw_key, value in values.items():
            key = (*path, section, str(raw_key))
            problem = _policy_problem(section, value)
            if problem:
                located.append(_Located(
                    "SECRET-NOT-PLACEHOLDER", f"{who}: {_key_text(key)} {problem}{suffix}",
                    _HINTS["SECRET-NOT-PLACEHOLDER"], number, key,
                    {"key_path": _key_text(key), "layer": "base64" if section == "data" else "literal",
                     "fingerprint": fingerprint(value), "document": number + 1}))
    return located


def _policy_problem(section: str, value: Any) -> str:
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


class _RoundTripLines:
    """Line numbers of key paths, from a round-trip parse done once and only when a finding needs one."""

    def __init__(self, text: str, name: str) -> None:
        self._text = text
        self._name = name
        self._docs: list[Any] | None = None

    def line(self, doc: int, key: tuple[str | int, ...]) -> int:
        if self._docs is None:
            self._docs = self._load()
        if doc >= len(self._docs):
            return 0
        from harness.yamlio import line_of

        node = self._docs[doc]
        line = line_of(node, key)
        if not line:
            lc = getattr(node, "lc", None)
            line = int(lc.line) + 1 if lc is not None else 0
        return line

    def _load(self) -> list[Any]:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            loader = YAML(typ="rt")
            return [d for d in loader.load_all(self._text) if d is not None]
        except (YAMLError, RecursionError, ValueError, IndexError):  # IndexError: ruamel on ``0o_`` (YAML 1.2)
            return []


# ----------------------------------------------------------------------------------------------- files

def _display(path: Path, root_abs: str) -> str:
    """``path`` relative to the (absolute) root when inside it, else as given; no filesystem calls."""
    absolute = os.path.abspath(path)
    if absolute.startswith(root_abs.rstrip(os.sep) + os.sep):
        return Path(absolute[len(root_abs.rstrip(os.sep)) + 1:]).as_posix()
    return str(path)


def _walk_files(directory: Path) -> Iterator[Path]:
    stack = [directory]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield Path(entry.path)


def fixture_files(root: Path, globs: Sequence[str]) -> list[Path]:
    """Files under ``root`` matching any of the gitignore-style ``globs`` (``testdata/**``), sorted.

    Only the literal leading directories of each glob are walked; :data:`SKIP_DIRS` and symlinks are
    skipped."""
    from harness.globs import compile_pattern, has_magic

    compiled = [compile_pattern(g) for g in globs]
    starts: set[Path] = set()
    for glob in compiled:
        parts = glob.pattern.strip("/").split("/")
        lead: list[str] = []
        if glob.anchored:
            for part in parts[:-1]:
                if has_magic(part) or part == "**":
                    break
                lead.append(part)
        starts.add(root.joinpath(*lead))
    found: set[Path] = set()
    for start in sorted(starts):
        if not start.is_dir() or start.is_symlink():
            continue
        for path in _walk_files(start):
            rel = path.relative_to(root).as_posix()
            if any(g.match(rel) for g in compiled):
                found.add(path)
    return sorted(found)


def is_fixture(path: Path, root: Path, globs: Sequence[str]) -> bool:
    """Whether ``path`` (inside ``root``) matches one of the fixture ``globs`` (compiled once per glob list)."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False
    return _fixture_globs(tuple(globs)).any_match(rel)


@functools.lru_cache(maxsize=16)
def _fixture_globs(globs: tuple[str, ...]) -> GlobSet[str]:
    from harness.globs import compile_all

    return compile_all(globs)


def _prefilter_stream(path: Path) -> bool:
    """Pre-filter a file too large to scan whole, chunk by chunk (chunks overlap)."""
    tail = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                return False
            if prefilter(tail + chunk):
                return True
            tail = chunk[-_OVERLAP:]


def scan_file(path: Path, *, display: str | None = None, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Finding]:
    """Scan one file (symlinks are not followed: they hold no material themselves)."""
    name = display or str(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise InputError("FILE-MISSING", "file does not exist", file=name, hint="check the path") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        return []
    if info.st_size > max_file_bytes:
        if not _prefilter_stream(path):
            return []
        return [Finding(code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                        message=f"file is {info.st_size} bytes, over max_file_bytes ({max_file_bytes}), and its "
                                "pre-filter matched: it may hold key material or a Secret",
                        hint=_HINTS["SECRET-UNSCANNABLE"])]
    return scan_bytes(path.read_bytes(), name)


def scan_paths(paths: Iterable[Path], *, root: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Finding]:
    """Scan files and directories (walked recursively, :data:`SKIP_DIRS` and symlinks skipped); names are
    shown relative to ``root`` when inside it. A missing path is a FILE-MISSING input error. Each key is
    reported once per file and key path (its fingerprint identifies it across encodings)."""
    findings: list[Finding] = []
    root_abs = os.path.abspath(root)
    for given in paths:
        path = Path(given)
        if path.is_symlink():
            continue
        if path.is_dir():
            files: Iterable[Path] = _walk_files(path)
        elif path.exists():
            files = [path]
        else:
            raise InputError("FILE-MISSING", "path does not exist", file=str(path), hint="check the path")
        for file in files:
            findings.extend(scan_file(file, display=_display(file, root_abs), max_file_bytes=max_file_bytes))
    return sorted(findings, key=lambda f: (f.path, f.line, f.code, f.extra.get("key_path", "")))
