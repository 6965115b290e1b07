"""Parsed YAML files by content, shared by every tree a run reads.

The clusters of a fleet hold many byte-identical files (the same sources, the same base kustomizations):
each distinct text is parsed once per process (:class:`harness.yamlio.DocumentMemo`, bounded by size),
with the first line of every document. The parsed documents are shared: never modify them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from harness.yamlio import DocumentMemo, load_documents

__all__ = ["ParsedText", "parse_text", "parses"]


@dataclass(frozen=True)
class ParsedText:
    """The documents of one text (empty ones dropped) and the 1-based first content line of each."""

    docs: tuple[Any, ...]
    starts: tuple[int, ...]


def doc_starts(text: str) -> list[int]:
    """1-based first content line of every non-empty YAML document in ``text``."""
    starts: list[int] = []
    current: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if line.startswith("---") and (len(line) == 3 or line[3] in " \t#"):
            if current is not None:
                starts.append(current)
            current = None
            continue
        if line.startswith("..."):
            continue
        if current is None and stripped and not stripped.startswith("#") and not stripped.startswith("%"):
            current = number
    if current is not None:
        starts.append(current)
    return starts


_lock = threading.Lock()
_PARSES = [0]


def _parse(text: Any, name: str) -> list[Any]:
    docs = load_documents(str(text), name)
    with _lock:
        _PARSES[0] += 1
    return [ParsedText(tuple(docs), tuple(doc_starts(str(text))))]


_MEMO = DocumentMemo(budget=64 << 20, max_text=1 << 20, parse=_parse)


def parse_text(text: str, name: str) -> ParsedText:
    """The parsed documents of ``text`` (errors name ``name``: an InputError, never memoized)."""
    parsed: ParsedText = _MEMO.documents(text, name)[0]
    return parsed


def parses() -> int:
    """Texts parsed so far in this process (memo hits not counted): scaling tests assert on it."""
    return _PARSES[0]
