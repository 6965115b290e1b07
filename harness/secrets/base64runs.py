"""Base64 decoding of runs of base64 lines: standard or URL-safe alphabet, padded or not, wrapped at any
width and indentation, in YAML block or folded scalars and JSON strings, next to other base64 lines.

A run is kept whole; which of its lines belong to one payload is left to the four alignments
:meth:`Run.decodings` tries. :meth:`Run.origin` maps decoded bytes back to the characters (or lines)
of the run that hold them, so a finding points at the text as given.
"""

from __future__ import annotations

import binascii
import bisect
import itertools
import re
from collections.abc import Iterator

from harness.secrets.keys import blank_escaped_breaks, literal_needles
from harness.secrets.prefilter import MAX_LAYERS, encoded_re

MIN_BLOB = 20  # shortest base64 run worth decoding (base64 of "-----BEGIN PRIVATE" is 24 characters)
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
FOLDED_RE = re.compile(rf"(?:{_B64}+={{0,2}} )+{_B64}+={{0,2}}\n*")
_LINE_RE = re.compile(rf"{_B64}+={{0,2}}")
_CHUNK_RE = re.compile(r"[^=]+")
_B64_BYTE = rb"[A-Za-z0-9+/_-]"
_LONG_RUN = re.compile(rb"%s{%d}|(?:%s{4,}+=*[ \t]*(?:\r?\n|\\n)[ \t]*){4}%s{4}"
                       % (_B64_BYTE, MIN_BLOB, _B64_BYTE, _B64_BYTE))
"""A base64 run worth decoding in decoded text: 20 characters on one line, or lines of 4 or more."""
_RUN_BYTES = bytes(ord("a") if re.fullmatch(rb"[A-Za-z0-9+/_=\s-]", bytes([b])) else 0 for b in range(256))
"""Maps base64 and whitespace to ``a``: a quick test that decoded bytes are not just noise."""
_URL_TO_STD = str.maketrans("-_", "+/")


class Run:
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
        signed = encoded_re().search(self.blob.encode("ascii")) is not None
        for offset in range(4) if signed else (0,):
            decoded, starts = decode(self.blob, offset)
            if decoded:
                yield decoded, starts

    def origin(self, starts: list[tuple[int, int]], first: int, last: int, *,
               whole_lines: bool) -> tuple[int, int, str]:
        """(start, end, alphabet) of the base64 characters (or the whole lines) of the run that decode to
        the bytes ``first`` up to ``last`` of a decoding (``starts`` as :func:`decode` returns them)."""
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


def runs(text: str, *, decoded: bool = False) -> Iterator[Run]:
    """Every run of consecutive base64 lines of ``text`` (any width, any indentation, escaped ``\\n`` line
    breaks too) holding :data:`MIN_BLOB` characters or more."""
    text = blank_escaped_breaks(text)  # wrapped inside a JSON or YAML string: same length, so spans still hold
    for run in (_DECODED_BLOB_RE if decoded else _BLOB_RE).finditer(text):
        if run.end() - run.start() >= MIN_BLOB:
            lines = [m.span() for m in _LINE_RE.finditer(text, run.start(), run.end())]
            if sum(end - start for start, end in lines) >= MIN_BLOB:
                yield Run(text, lines)


def decode(blob: str, offset: int = 0) -> tuple[bytes, list[tuple[int, int]]]:
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


def worth_descending(decoded: bytes, depth: int) -> bool:
    """Whether a decoded run may hold a key: a marker, or (layers permitting) a base64 run of its own,
    wrapped at any width. A misaligned decode is noise with neither."""
    if any(needle in decoded for needle in literal_needles()):
        return True
    return depth + 1 < MAX_LAYERS and b"a" * MIN_BLOB in decoded.translate(_RUN_BYTES) and \
        _LONG_RUN.search(decoded) is not None
