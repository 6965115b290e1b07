"""Fixture secret scanner: private-key material and non-placeholder Secret values in fixture files.

What is found, in any file, at any position:
- PEM private keys of every type (``PRIVATE KEY``, ``RSA/EC/DSA/OPENSSH/ENCRYPTED PRIVATE KEY``,
  ``PGP PRIVATE KEY BLOCK``...), SSH2 and PuTTY private keys, and ``AGE-SECRET-KEY-1...``;
- the same inside base64 (standard or URL-safe alphabet, padded or not, wrapped at any width and
  indentation, in YAML block or folded scalars and JSON strings, next to other base64 lines), nested up
  to :data:`MAX_LAYERS` levels deep.

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
The pre-filter sees through the line breaks of the outermost layer (it drops whitespace and ``\\n``
escapes); inner layers' line breaks are encoded with the text, so it is signed for a break anywhere in
the innermost layer (up to :data:`_WRAPPED_LEVELS` layers), and in other layers wrapped at 12 characters
or more when the key starts its payload (``base64 -w 16 key.pem | base64``).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import itertools
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
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
_JUNK = r"\x00-\x08\x0e-\x1f\x7f-\xff"


def _blob_re(ends: str) -> re.Pattern[str]:
    """A run of base64 lines: a token of 8+ characters, or of 4+ (``base64 -w 4``) followed by more lines.
    A line is base64 only up to its padding, a line end, a closing quote or bracket, or one of ``ends``."""
    next_line = rf"[ \t]*\r?\n[ \t]*{_B64}+(?:={{1,2}}|(?=[ \t]*(?:\r?\n|\Z|[\"',}}\]{ends}])))"
    return re.compile(rf"(?:{_B64}{{8,}}+={{0,2}}|{_B64}{{4,7}}+={{0,2}}(?={next_line}))(?:{next_line})*")


_BLOB_RE = _blob_re("")
# In decoded text a line may also end at binary junk: the bytes of a neighbouring line decoded along with the
# payload. Not in the text as given, where "Tür" or "h\x1f" after a payload is no continuation of it.
_DECODED_BLOB_RE = _blob_re(_JUNK)
_WS_RE = re.compile(r"\s+")
_FOLDED_RE = re.compile(rf"(?:{_B64}+={{0,2}} )+{_B64}+={{0,2}}\n*")
_LINE_RE = re.compile(rf"{_B64}+={{0,2}}")
_CHUNK_RE = re.compile(r"[^=]+")
_B64_BYTE = rb"[A-Za-z0-9+/_-]"
_LONG_RUN = re.compile(rb"%s{%d}|(?:%s{4,}+=*[ \t]*(?:\r?\n|\\n)[ \t]*){4}%s{4}"
                       % (_B64_BYTE, _MIN_BLOB, _B64_BYTE, _B64_BYTE))
"""A base64 run worth decoding in decoded text: 20 characters on one line, or lines of 4 or more."""
_RUN_BYTES = bytes(ord("a") if re.fullmatch(rb"[A-Za-z0-9+/_=\s-]", bytes([b])) else 0 for b in range(256))
"""Maps base64 and whitespace to ``a``: a quick test that decoded bytes are not just noise."""
_SECRET_KIND = re.compile(rb"""\bkind["']?[ \t]*:[ \t]*["']?Secret\b""")
_ENC = re.compile(r"ENC\[[A-Za-z0-9_]+,.*\]", re.S)
_URL_TO_STD = str.maketrans("-_", "+/")
_STD_TO_URL = bytes.maketrans(b"+/", b"-_")
_WRAPPED_LEVELS = 3  # nesting levels signed with a wrapped innermost layer (MAX_LAYERS: twice the words)
_WHITESPACE = b" \t\r\n\f\v"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_AGE_KEY_LENGTH = 74  # AGE-SECRET-KEY-1, then 52 bech32 characters of X25519 key and 6 of checksum


# ------------------------------------------------------------------------------------------- pre-filter

def _cores(text: bytes) -> set[bytes]:
    """The base64 of ``text`` at every byte alignment, in both alphabets, minus the edge characters that
    depend on neighbouring bytes."""
    found: set[bytes] = set()
    for k in range(3):
        core = base64.b64encode(b"\x00" * k + text)[-(-8 * k // 6): (8 * (k + len(text))) // 6]
        found |= {core, core.translate(_STD_TO_URL)}
    return found


def _signatures(marker: bytes, levels: int) -> set[bytes]:
    """The base64 text a ``marker`` produces at every byte alignment, nested ``levels`` deep."""
    found: set[bytes] = set()
    current = {marker}
    for _ in range(levels):
        current = {core for text in current for core in _cores(text)}
        found |= current
    return found


def _wrapped_signatures(marker: bytes, levels: int) -> set[bytes]:
    """The same, from the second level on, when the innermost layer is wrapped with a line break inside
    the marker's base64 (a key in the middle of a ``base64 -w 76`` bundle, encoded again)."""
    found: set[bytes] = set()
    current = {text[:i] + b"\n" + text[i:] for text in _cores(marker) for i in range(1, len(text))}
    for _ in range(1, levels):
        current = {core for text in current for core in _cores(text)}
        found |= current
    return found


_RARE_FIRST = b"QXZJKVBWYGFUMPHCDLORNISATE9876543210+/_-zqxjkvbwygfumphcdlornisate"
_RARITY = [_RARE_FIRST.find(bytes([c])) % (len(_RARE_FIRST) + 1) for c in range(256)]  # -1 (absent): last


def _window(signature: bytes, size: int = 10) -> bytes:
    """A ``size``-byte window of ``signature`` starting at a character rare in YAML (cheap to skip)."""
    if len(signature) <= size:
        return signature
    start = min(range(len(signature) - size + 1), key=lambda i: _RARITY[signature[i]])
    return signature[start: start + size]


def _trie_regex(words: Iterable[bytes]) -> bytes:
    """One regex source matching any of ``words``, shaped as a trie so the engine never retries prefixes."""
    return _trie(sorted(set(words)), 0)


_ESCAPED = [re.escape(bytes([byte])) for byte in range(256)]


def _trie(words: list[bytes], depth: int) -> bytes:
    """The trie of sorted ``words`` that share their first ``depth`` bytes, from there on."""
    if len(words[0]) == depth:  # a word ends here: a match, whatever follows
        return b""
    branches = [_ESCAPED[byte] + _trie(list(group), depth + 1)
                for byte, group in itertools.groupby(words, key=lambda word: word[depth])]
    return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"


@functools.cache
def _encoded_re() -> re.Pattern[bytes]:
    words: set[bytes] = set()
    for marker in (b"-----BEGIN", b"AGE-SECRET-KEY-"):
        words |= {_window(s) for s in _signatures(marker, MAX_LAYERS)}  # every layer _descend decodes
        words |= {_window(s) for s in _wrapped_signatures(marker, _WRAPPED_LEVELS)}
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
    flat = data.translate(None, _WHITESPACE)
    if b"\\" in flat:  # base64 wrapped inside a JSON string: "...\n..."
        flat = flat.replace(b"\\n", b"").replace(b"\\r", b"")
    if _encoded_re().search(flat):
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


def _material(text: str, match: re.Match[str]) -> tuple[str, str, int]:
    """(label, normalised key material, where the material ends in ``text``) for one marker match."""
    token = match.group(0)
    if token.startswith("AGE-SECRET-KEY-"):
        if len(token) > _AGE_KEY_LENGTH and not is_age_secret_key(token) and \
                is_age_secret_key(token[:_AGE_KEY_LENGTH]):
            token = token[:_AGE_KEY_LENGTH]  # run on by characters decoded from a neighbouring line
        return "AGE SECRET KEY", token, match.start() + len(token)
    if token.startswith("PuTTY"):
        end = text.find("Private-MAC:", match.end())
        stop = text.find("\n", end) if end != -1 else -1
        stop = stop if stop != -1 else match.end()
        return "PUTTY PRIVATE KEY", _normalise(text[match.start(): stop]), stop
    if token.startswith("---- BEGIN SSH2"):
        label, end_marker = "SSH2 ENCRYPTED PRIVATE KEY", "---- END SSH2 ENCRYPTED PRIVATE KEY ----"
    else:
        label = f"{match.group(1) or ''}PRIVATE KEY{match.group(2) or ''}"
        end_marker = f"-----END {label}-----"
    end = text.find(end_marker, match.end())
    stop = end + len(end_marker) if end != -1 else match.end()
    return label, _normalise(text[match.start(): stop]), stop


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


class _Run:
    """A run of consecutive base64 lines of a text: its characters without whitespace, and where each
    line lies in the text."""

    def __init__(self, text: str, lines: list[tuple[int, int]]) -> None:
        self.blob = "".join(text[start:end] for start, end in lines)
        self.lines = lines
        self._line_starts = list(itertools.accumulate((end - start for start, end in lines[:-1]), initial=0))

    def decodings(self) -> Iterator[tuple[bytes, list[tuple[int, int]]]]:
        """The run decoded at each of the four alignments when it holds an encoded marker (every payload
        in it, whatever base64-only lines surround it, is aligned in one of them; what its neighbours
        decode to does no harm), else as it starts."""
        signed = _encoded_re().search(self.blob.encode("ascii")) is not None
        for offset in range(4) if signed else (0,):
            decoded, starts = _decode(self.blob, offset)
            if decoded:
                yield decoded, starts

    def origin(self, starts: list[tuple[int, int]], first: int, last: int, *,
               whole_lines: bool) -> tuple[int, int, str]:
        """(start, end, alphabet) of the base64 characters (or the whole lines) of the run that decode to
        the bytes ``first`` up to ``last`` of a decoding (``starts`` as :func:`_decode` returns them)."""
        low = _blob_index(starts, first, 0)
        high = min(_blob_index(starts, max(last - 1, first), 7), len(self.blob) - 1)
        alphabet = "base64url" if any(c in self.blob[low: high + 1] for c in "-_") else "base64"
        first_line = bisect.bisect_right(self._line_starts, low) - 1
        last_line = bisect.bisect_right(self._line_starts, high) - 1
        if whole_lines:
            return self.lines[first_line][0], self.lines[last_line][1], alphabet
        start = self.lines[first_line][0] + low - self._line_starts[first_line]
        return start, self.lines[last_line][0] + high - self._line_starts[last_line] + 1, alphabet


def _blob_index(starts: list[tuple[int, int]], index: int, round_up: int) -> int:
    """The first (``round_up=0``) or last (``7``) base64 character that carries bits of byte ``index``."""
    decoded_start, blob_start = starts[max(bisect.bisect_right(starts, index, key=lambda s: s[0]) - 1, 0)]
    return blob_start + (8 * (index - decoded_start) + round_up) // 6


def _runs(text: str, *, decoded: bool = False) -> Iterator[_Run]:
    """Every run of consecutive base64 lines of ``text`` (any width, any indentation, escaped ``\\n`` line
    breaks too) holding :data:`_MIN_BLOB` characters or more. A run is kept whole: which of its lines
    belong to one payload is left to the alignments :meth:`_Run.decodings` tries."""
    if "\\n" in text:  # wrapped inside a JSON or double-quoted YAML string: same length, so spans still hold
        text = text.replace("\\r\\n", "   \n").replace("\\n", " \n")
    for run in (_DECODED_BLOB_RE if decoded else _BLOB_RE).finditer(text):
        if run.end() - run.start() >= _MIN_BLOB:
            lines = [m.span() for m in _LINE_RE.finditer(text, run.start(), run.end())]
            if sum(end - start for start, end in lines) >= _MIN_BLOB:
                yield _Run(text, lines)


def _decode(blob: str, offset: int = 0) -> tuple[bytes, list[tuple[int, int]]]:
    """Decode a whitespace-free base64 run (either alphabet, padding optional), each padding-delimited
    chunk from its ``offset``-th character; also (decoded index, blob index) where each chunk starts."""
    text = blob.translate(_URL_TO_STD)
    out = bytearray()
    starts: list[tuple[int, int]] = []
    for chunk_match in _CHUNK_RE.finditer(text):
        chunk = chunk_match.group(0)[offset:]
        chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk
        if chunk:
            starts.append((len(out), chunk_match.start() + offset))
            out += binascii.a2b_base64(chunk + "=" * (-len(chunk) % 4))
    return bytes(out), starts


def _worth_descending(decoded: bytes, depth: int) -> bool:
    """Whether a decoded run may hold a key: a marker, or (layers permitting) a base64 run of its own,
    wrapped at any width. A misaligned decode is noise with neither."""
    if any(needle in decoded for needle in _LITERAL_NEEDLES) or b"PuTTY-User-Key-File-" in decoded:
        return True
    return depth + 1 < MAX_LAYERS and b"a" * _MIN_BLOB in decoded.translate(_RUN_BYTES) and \
        _LONG_RUN.search(decoded) is not None


def find_key_material(text: str) -> list[KeyMatch]:
    """Every private key in ``text``, literal or base64-encoded (up to :data:`MAX_LAYERS` deep), each once."""
    found: dict[str, KeyMatch] = {}
    for match, _ in _descend(text, 0):
        found.setdefault(match.fingerprint, match)
    return list(found.values())


def _descend(text: str, depth: int) -> Iterator[tuple[KeyMatch, int]]:
    """The keys in ``text`` and in the base64 below it, each with where its material ends in ``text``.
    Layers are relative to ``text``; an encoded key's span is that of its base64 (of the whole lines
    holding it, in the text :func:`find_key_material` was given)."""
    for match in _MARKER_RE.finditer(text):
        label, material, end = _material(text, match)
        key = KeyMatch(label, parses_as_key(label, material), "literal", match.start(), match.end(),
                       fingerprint(material))
        yield key, end
    if depth >= MAX_LAYERS:
        return
    for run in _runs(text, decoded=depth > 0):
        for decoded, starts in run.decodings():
            if not _worth_descending(decoded, depth):
                continue
            for inner, inner_end in _descend(decoded.decode("latin-1"), depth + 1):
                start, end, alphabet = run.origin(starts, inner.start, inner_end, whole_lines=depth == 0)
                layer = alphabet if inner.layer == "literal" else f"{alphabet}>{inner.layer}"
                yield replace(inner, layer=layer, start=start, end=end), end


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


def _scan_document(doc: Any, number: int, multi: bool, seen: set[str]) -> list[_Located]:
    from harness.yamlio import iter_paths  # loaded already: the document was parsed with it

    located: list[_Located] = []
    suffix = f" (document {number + 1})" if multi else ""
    for key, value in iter_paths(doc):
        if not isinstance(value, str) or len(value) < 15:
            continue
        for match in find_key_material(_unfolded(value)):
            seen.add(match.fingerprint)
            code, message = _key_finding(match, f" in {_key_text(key)}{suffix}")
            located.append(_Located(code, message, _HINTS[code], number, key, {
                "layer": match.layer, "key_path": _key_text(key), "fingerprint": match.fingerprint,
                "key_type": match.label, "document": number + 1}))
    for path, secret in _secret_documents(doc):
        located.extend(_secret_policy(secret, path, number, suffix))
    return located


def _unfolded(value: str) -> str:
    """A YAML string value with base64 lines that a folded (``>``) or multi-line plain scalar joined with
    spaces put back on their lines (same length, so spans hold)."""
    if " " in value and _FOLDED_RE.fullmatch(value) and not _MARKER_RE.search(value):
        return value.replace(" ", "\n")
    return value


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
    return map(Path, _walk(str(directory)))


def _walk(directory: str) -> Iterator[str]:
    """Every regular file under ``directory`` as a path string, names sorted per directory; symlinks and
    :data:`SKIP_DIRS` are skipped."""
    stack = [directory]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_file(follow_symlinks=False):
                    yield entry.path
                elif entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
                    stack.append(entry.path)


def fixture_files(root: Path, globs: Sequence[str]) -> list[Path]:
    """Files under ``root`` matching any of the gitignore-style ``globs`` (``testdata/**``), sorted.

    Only the literal leading directories of each glob are walked; :data:`SKIP_DIRS` and symlinks are
    skipped. Paths stay strings until the end (this lists every file of a fleet)."""
    from harness.globs import compile_pattern, has_magic

    starts: dict[Path, str] = {}  # walk root -> its path relative to ``root``, as a prefix
    for glob in (compile_pattern(g) for g in globs):
        parts = glob.pattern.strip("/").split("/")
        lead: list[str] = []
        if glob.anchored:
            for part in parts[:-1]:
                if has_magic(part) or part == "**":
                    break
                lead.append(part)
        starts[root.joinpath(*lead)] = "".join(f"{part}/" for part in lead)
    matches = _fixture_globs(tuple(globs)).any_match
    found: set[str] = set()
    for start, prefix in sorted(starts.items()):
        if not start.is_dir() or start.is_symlink():
            continue
        cut = len(os.path.join(str(start), ""))
        found.update(path for path in _walk(str(start)) if matches(prefix + path[cut:].replace(os.sep, "/")))
    return [Path(path) for path in sorted(found, key=lambda path: path.split(os.sep))]


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
        try:
            mode = os.lstat(path).st_mode  # one call: a fleet's fixture_files come through here
        except OSError:
            raise InputError("FILE-MISSING", "path does not exist", file=str(path), hint="check the path") from None
        if stat.S_ISLNK(mode):
            continue
        files: Iterable[Path] = _walk_files(path) if stat.S_ISDIR(mode) else [path]
        for file in files:
            findings.extend(scan_file(file, display=_display(file, root_abs), max_file_bytes=max_file_bytes))
    return sorted(findings, key=lambda f: (f.path, f.line, f.code, f.extra.get("key_path", "")))
