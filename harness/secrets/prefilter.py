"""The fast pre-filter: most files are done with after one pass over their bytes.

A file needs a closer look when it holds a key family's literal marker, a base64 form of a marker (at
every byte alignment and nesting level, in either alphabet, searched with one trie-shaped regex over the
whitespace-free bytes), or a ``kind: Secret`` document. The pre-filter sees through the line breaks of
the outermost layer (it drops whitespace and ``\\n`` escapes); inner layers' line breaks are encoded with
the text, so it is signed for a break anywhere in the innermost layer (up to :data:`WRAPPED_LEVELS`
layers), and in other layers wrapped at 12 characters or more when the key starts its payload
(``base64 -w 16 key.pem | base64``).
"""

from __future__ import annotations

import base64
import functools
import itertools
import re
from collections.abc import Iterable

from harness.secrets.keys import encoded_markers, literal_needles

MAX_LAYERS = 4
"""Base64 layers decoded below the literal text (the contract asks for two; three are tested)."""
WRAPPED_LEVELS = 3  # nesting levels signed with a wrapped innermost layer (MAX_LAYERS: twice the words)
HEX_BASE64_LEVELS = 2  # base64 layers signed above a hex-encoded key
GZIP_SIGNATURES = (b"H4sI", b"SDRzS")
"""``gzip | base64`` starts ``H4sI`` (the gzip magic at the start of a value); base64'd again, ``SDRzS``."""
_WHITESPACE = b" \t\r\n\f\v"
_STD_TO_URL = bytes.maketrans(b"+/", b"-_")
_ESCAPED_BREAKS = re.compile(rb"\\+[nr]")
SECRET_KIND = re.compile(rb"""\bkind["']?[ \t]*:[ \t]*["']?Secret\b""")
"""A document that plainly looks like a Secret (a parse failure of one is reported as unscannable)."""
_LETTER_ESCAPE = re.compile(rb"\\(?:[xuU]|\r?\n)")
_SECRET_WORD = re.compile(rb"(?<![\w-])Secret(?![\w-])")
"""``Secret`` as a scalar of its own: a value ``Secret`` never has a letter, digit, ``_`` or ``-`` beside
it in the source (``SealedSecret``, ``SecretStore`` or ``Secret-x`` are other values)."""
"""A double-quoted YAML (or JSON) escape that can spell a letter (``\x53``, ``\u0053``), or an escaped
line break that joins two pieces of a scalar without a space."""


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


def trie_regex(words: Iterable[bytes]) -> bytes:
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
def encoded_re() -> re.Pattern[bytes]:
    """The regex of every signed base64 form of every family's encoded markers."""
    words: set[bytes] = set()
    for marker in encoded_markers():
        words |= {_window(s) for s in _signatures(marker, MAX_LAYERS)}  # every layer the decoder descends
        words |= {_window(s) for s in _wrapped_signatures(marker, WRAPPED_LEVELS)}
        for hexed in (marker.hex().encode("ascii"), marker.hex().upper().encode("ascii")):  # hex, then base64
            words |= {_window(hexed)} | {_window(s) for s in _signatures(hexed, HEX_BASE64_LEVELS)}
    words |= set(GZIP_SIGNATURES)
    return re.compile(trie_regex(sorted(words)))


def base64_signatures(levels: int = 3) -> set[bytes]:
    """Every base64 form of every encoded marker (``-----BEGIN``, ``AGE-SECRET-KEY-``) up to ``levels``."""
    return set().union(*(_signatures(marker, levels) for marker in encoded_markers()))


def flatten(data: bytes) -> bytes:
    """``data`` without whitespace and escaped line breaks (``\\n`` at any escaping depth): where the
    encoded signatures are searched, so a wrap anywhere in the outermost layer does not hide them."""
    flat = data.translate(None, _WHITESPACE)
    if b"\\" in flat:  # base64 wrapped inside a JSON string: "...\n...", escaped to any depth
        flat = _ESCAPED_BREAKS.sub(b"", flat)
    return flat


def may_hold_secret(data: bytes) -> bool:
    """Whether some YAML spelling of a Secret (or of a ``secretGenerator``) can be in ``data`` (UTF-8).

    A superset by construction: plain, single-quoted and block scalars, keys and tags (``!!str``) keep the
    characters of ``Secret`` together on one line (folding only ever adds a space) with no word character
    beside them (that would make another value), flow style and the
    next-line form change only what surrounds it, and an alias repeats an anchor written out elsewhere in
    the file. Only a double-quoted escape (``\x53``, ``\u0053``) or an escaped line break can spell it
    otherwise, and any such escape counts."""
    if b"Secret" in data and _SECRET_WORD.search(data):
        return True
    return b"secretGenerator" in data or has_escapes(data)


def has_escapes(data: bytes) -> bool:
    """Whether ``data`` has a double-quoted escape that can spell a letter, or an escaped line break (a YAML
    value may then hold text that its bytes do not show)."""
    return b"\\" in data and _LETTER_ESCAPE.search(data) is not None


def prefilter(data: bytes) -> set[str]:
    """Why ``data`` needs a closer look: any of ``literal`` (a key marker), ``encoded`` (a base64 form
    of one, at any alignment/nesting, across line wraps), ``secret`` (some YAML spelling of a Secret or a
    secretGenerator may be in it: :func:`may_hold_secret`).
    Empty for the vast majority of files, which are then done with."""
    reasons: set[str] = set()
    for needle in literal_needles():
        if needle in data:
            reasons.add("literal")
            break
    if may_hold_secret(data):
        reasons.add("secret")
    if encoded_re().search(flatten(data)):
        reasons.add("encoded")
    return reasons
