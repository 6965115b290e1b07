"""Decoders besides base64 (:mod:`harness.secrets.base64runs`): hex runs (``xxd -p``, ``od``-free hex dumps,
wrapped or not) and gzip streams (``gzip | base64``). Each is bounded: a decoder never yields more than
:data:`MAX_DECODED` bytes, so a compression bomb costs nothing."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from harness.secrets.keys import blank_escaped_breaks

GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_DECODED = 8 * 1024 * 1024
MIN_HEX_BYTES = 10  # the hex of "-----BEGIN" or "AGE-SECRET": 20 hex digits
_HEX_RUN = re.compile(rf"(?:[0-9A-Fa-f]{{2}}(?:[ \t]*\r?\n[ \t]*|[ \t:]?)){{{MIN_HEX_BYTES},}}")
_NOT_HEX = re.compile(r"[^0-9A-Fa-f]")


def hex_runs(text: str) -> Iterator[tuple[int, int, bytes]]:
    """(start, end, decoded bytes) of every run of hex byte pairs in ``text`` (separated by nothing, a
    space, a colon or a line break, escaped or not) of :data:`MIN_HEX_BYTES` bytes or more."""
    for match in _HEX_RUN.finditer(blank_escaped_breaks(text)):
        digits = _NOT_HEX.sub("", match.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        yield match.start(), match.end(), bytes.fromhex(digits)


def gunzip(data: bytes) -> tuple[int, bytes] | None:
    """(where the gzip stream starts in ``data``, its decompressed bytes up to :data:`MAX_DECODED`), or None
    when ``data`` holds no gzip stream that decompresses."""
    start = data.find(GZIP_MAGIC)
    if start == -1:
        return None
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data[start:], MAX_DECODED)
    except zlib.error:
        return None
    return (start, out) if out else None
