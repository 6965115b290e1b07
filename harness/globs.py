"""Gitignore-style path patterns, compiled once to regular expressions.

Patterns match POSIX paths relative to an overlay root (``services/harbor/kustomization.yaml``):

- ``*`` matches within one path segment, ``?`` one character of a segment, ``[abc]``/``[a-z]``/``[!x]``
  one character from a class (never ``/``); ``\\x`` is a literal ``x``.
- ``**`` as a whole segment matches zero or more directories: ``**/x`` (``x`` at any depth),
  ``a/**`` (everything below ``a``), ``a/**/b``. Any other ``**`` is an ordinary ``*``.
- A leading ``/`` anchors the pattern at the root. A pattern with a ``/`` anywhere but at its end is
  anchored as well; a pattern without one (``kustomization.yaml``, ``*.yaml``) matches at any depth.
- A trailing ``/`` means a directory: the pattern matches every file below that directory. Without it
  a pattern matches the path itself and, as in gitignore, everything below a directory it names.

Negation (``!``), empty segments and ``.``/``..`` segments are rejected: a canonicalization rule names
paths positively and inside the tree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from harness.errors import InputError

T = TypeVar("T")

_META = frozenset("*?[\\")


class GlobError(ValueError):
    """A malformed pattern (converted to ``INVENTORY-INVALID`` by :func:`compile_glob`)."""


@dataclass(frozen=True)
class Glob:
    """One translated pattern. ``literal`` is set when the pattern has no wildcard (fast path). The regex is
    compiled on first use: an inventory of hundreds of rules is loaded whole, but a run that checks one
    cluster matches only that cluster's rules (and :class:`GlobSet` combines sources into one regex)."""

    pattern: str
    source: str
    anchored: bool
    directory: bool
    literal: str | None

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled regular expression (``source``)."""
        return re.compile(self.source)

    def match(self, path: str) -> bool:
        """Whether the POSIX relative ``path`` (a file) matches this pattern."""
        return self.regex.match(path) is not None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the compiled regex: a kept inventory compiles only what its next run uses."""
        return {k: v for k, v in self.__dict__.items() if k != "regex"}


def has_magic(pattern: str) -> bool:
    """Whether ``pattern`` contains a wildcard or escape (``*``, ``?``, ``[``, ``\\``)."""
    return any(ch in _META for ch in pattern)


def _class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the ``[...]`` class starting at ``pattern[start] == '['``; return (regex, next index)."""
    i = start + 1
    negate = False
    if i < len(pattern) and pattern[i] in "!^":
        negate = True
        i += 1
    items: list[str] = []
    first = True
    while True:
        if i >= len(pattern):
            raise GlobError("unclosed '[' character class")
        ch = pattern[i]
        if ch == "]" and not first:
            i += 1
            break
        first = False
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise GlobError("trailing '\\' inside a character class")
            ch = pattern[i + 1]
            i += 1
        if ch == "/":
            raise GlobError("'/' cannot appear inside a character class")
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            end = pattern[i + 2]
            if end == "\\":
                if i + 3 >= len(pattern):
                    raise GlobError("trailing '\\' inside a character class")
                end = pattern[i + 3]
                i += 1
            if end < ch:
                raise GlobError(f"reversed range '{ch}-{end}' in a character class")
            items.append(f"{re.escape(ch)}-{re.escape(end)}")
            i += 3
            continue
        items.append(re.escape(ch))
        i += 1
    body = "".join(items)
    return (f"[^/{body}]" if negate else f"[{body}]"), i


def _segment(segment: str) -> str:
    """Translate one path segment (no ``/``) that is not exactly ``**``.

    The text between two ``*`` matches at its leftmost place, in an atomic group: a later place could only
    shorten what the next ``*`` takes, so the match is the same, and the regex engine never backtracks
    into it (``*a*a*a*a*b`` against a long name of ``a`` takes linear time, not polynomial)."""
    chunks: list[list[str]] = [[]]
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            while i < len(segment) and segment[i] == "*":
                i += 1
            chunks.append([])
            continue
        out = chunks[-1]
        if ch == "?":
            out.append("[^/]")
        elif ch == "[":
            regex, i = _class(segment, i)
            out.append(regex)
            continue
        elif ch == "\\":
            if i + 1 >= len(segment):
                raise GlobError("trailing '\\' escapes nothing")
            out.append(re.escape(segment[i + 1]))
            i += 1
        else:
            out.append(re.escape(ch))
        i += 1
    texts = ["".join(chunk) for chunk in chunks]
    if len(texts) == 1:
        return texts[0]
    return texts[0] + "".join(f"(?>[^/]*?{text})" for text in texts[1:-1]) + "[^/]*" + texts[-1]


def _split(pattern: str) -> list[str]:
    """Split on ``/`` outside character classes (a class cannot contain ``/`` anyway)."""
    return pattern.split("/")


def translate(pattern: str) -> tuple[str, bool, bool]:
    """Translate ``pattern`` to a regex source; return (regex, anchored, directory). Raises GlobError."""
    if not pattern or not pattern.strip():
        raise GlobError("empty pattern")
    if pattern != pattern.strip():
        raise GlobError("leading or trailing whitespace")
    if pattern.startswith("!"):
        raise GlobError("negated patterns ('!') are not supported; name paths positively")
    if "\x00" in pattern or "\n" in pattern:
        raise GlobError("control character in pattern")
    body = pattern
    anchored = body.startswith("/")
    if anchored:
        body = body[1:]
    directory = body.endswith("/")
    if directory:
        body = body[:-1]
    if not body:
        raise GlobError("pattern names the root itself")
    segments = _split(body)
    for seg in segments:
        if seg == "":
            raise GlobError("empty path segment ('//')")
        if seg in (".", ".."):
            raise GlobError(f"'{seg}' segments are not allowed")
    if len(segments) > 1:
        anchored = True
    # "**/**" is "**" (and "a/**/**" would otherwise need an empty segment).
    segments = [seg for index, seg in enumerate(segments)
                if not (seg == "**" and index and segments[index - 1] == "**")]
    if segments == ["**"]:
        return "(?s:[^/]+(?:/[^/]+)*)\\Z", anchored, directory
    # Runs of ordinary segments between "**" segments; a run after a "**" (or, unanchored, at the start) may
    # begin below any number of directories. A run followed by another "**" matches at its leftmost place,
    # atomically (as text between two "*" in a segment does), so several "**" never backtrack polynomially.
    runs: list[list[str]] = [[]]
    for seg in segments:
        if seg == "**":
            runs.append([])
        else:
            runs[-1].append(_segment(seg))
    parts: list[str] = []
    last = len(runs) - 1
    for index, run in enumerate(runs):
        if not run:  # a leading or trailing "**"
            continue
        floating = index > 0 or not anchored
        text = "/".join(run)
        if index > 0 and runs[index - 1]:
            parts.append("/")
        if floating and index < last:
            parts.append(f"(?>(?:[^/]+/)*?{text}(?=/|\\Z))")
        else:
            parts.append(("(?:[^/]+/)*" if floating else "") + text)
    if segments[-1] == "**":
        parts.append("/.+")
    regex = "".join(parts)
    if segments[-1] == "**":
        tail = ""
    elif directory:
        tail = "/.+"
    else:
        tail = "(?:/.+)?"
    return f"(?s:{regex}{tail})\\Z", anchored, directory


def compile_pattern(pattern: str) -> Glob:
    """Compile ``pattern``; raises :class:`GlobError` with a reason when it is malformed."""
    source, anchored, directory = translate(pattern)
    stripped = pattern.lstrip("/").rstrip("/")
    literal = None if has_magic(pattern) else stripped
    return Glob(pattern=pattern, source=source, anchored=anchored, directory=directory,
                literal=literal)


def compile_glob(pattern: str, *, file: str | None = None, line: int = 0) -> Glob:
    """Compile ``pattern``; a malformed pattern is an ``INVENTORY-INVALID`` input error at file:line."""
    try:
        return compile_pattern(pattern)
    except GlobError as exc:
        raise InputError("INVENTORY-INVALID", f"bad glob {pattern!r}: {exc}", file=file, line=line,
                         hint="use gitignore-style patterns: *, ?, [..], **, leading / anchors, trailing / dirs"
                         ) from None


def match(pattern: str, path: str) -> bool:
    """One-off match (compiles each call: use :class:`GlobSet` or :class:`Glob` in loops)."""
    return compile_pattern(pattern).match(path)


def ancestors(path: str) -> list[str]:
    """Proper ancestor directories of ``path``: ``a/b/c`` -> ``['a', 'a/b']``."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


@dataclass
class GlobSet(Generic[T]):
    """Many compiled patterns, each with a payload; :meth:`matches` returns every payload whose pattern
    matches, in insertion order. One regex of every pattern turns away a path that matches nothing (the
    common case) in one search; for the rest, literal patterns are looked up in dictionaries and wildcard
    patterns are guarded by a combined regex of their own."""

    _items: list[tuple[Glob, T]] = field(default_factory=list)
    _anchored: dict[str, list[int]] = field(default_factory=dict)
    _anchored_dir: dict[str, list[int]] = field(default_factory=dict)
    _names: dict[str, list[int]] = field(default_factory=dict)
    _names_dir: dict[str, list[int]] = field(default_factory=dict)
    _wild: list[int] = field(default_factory=list)
    _guard: re.Pattern[str] | None = None
    _any: re.Pattern[str] | None = None  # every pattern in one regex: most paths match none

    @classmethod
    def build(cls, items: Iterable[tuple[Glob, T]]) -> GlobSet[T]:
        """Index ``(glob, payload)`` pairs."""
        gs: GlobSet[T] = cls()
        for glob, payload in items:
            gs.add(glob, payload)
        return gs

    def add(self, glob: Glob, payload: T) -> None:
        """Add one pattern."""
        index = len(self._items)
        self._items.append((glob, payload))
        self._any = None
        if glob.literal is None:
            self._wild.append(index)
            self._guard = None
            return
        if glob.anchored:
            table = self._anchored_dir if glob.directory else self._anchored
        else:
            table = self._names_dir if glob.directory else self._names
        table.setdefault(glob.literal, []).append(index)

    def __len__(self) -> int:
        return len(self._items)

    def payloads(self) -> list[T]:
        """Every payload, in insertion order."""
        return [payload for _, payload in self._items]

    def matches(self, path: str) -> list[T]:
        """Payloads of every pattern matching ``path``, in insertion order."""
        if not self.any_match(path):
            return []
        hits: set[int] = set()
        if self._anchored or self._anchored_dir:
            dirs = ancestors(path)
            hits.update(*filter(None, map(self._anchored.get, (path, *dirs))))
            hits.update(*filter(None, map(self._anchored_dir.get, dirs)))
        if self._names or self._names_dir:
            segments = path.split("/")
            hits.update(*filter(None, map(self._names.get, segments)))
            hits.update(*filter(None, map(self._names_dir.get, segments[:-1])))
        if self._wild and self._guard is None:
            self._guard = re.compile("|".join(f"(?:{self._items[i][0].source})" for i in self._wild))
        if self._guard is not None and self._guard.match(path):
            hits.update(i for i in self._wild if self._items[i][0].regex.match(path))
        return [self._items[i][1] for i in sorted(hits)]

    def any_match(self, path: str) -> bool:
        """Whether any pattern matches ``path`` (one regex search)."""
        if not self._items:
            return False
        return self.any_pattern().match(path) is not None

    def matching(self, paths: Iterable[str]) -> list[str]:
        """The ``paths`` some pattern matches, in order (one regex search each, without a Python-level loop)."""
        if not self._items:
            return []
        return list(filter(self.any_pattern().match, paths))

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the combined regexes (compiled again on first use, see :meth:`Glob.__getstate__`)."""
        return dict(self.__dict__, _guard=None, _any=None)

    def any_pattern(self) -> re.Pattern[str]:
        """Every pattern in one regex (compiled on first use; most paths match none)."""
        if self._any is None:
            self._any = re.compile("|".join(f"(?:{glob.source})" for glob, _ in self._items))
        return self._any


def compile_all(patterns: Sequence[str]) -> GlobSet[str]:
    """A GlobSet whose payloads are the patterns themselves (convenience for callers and tests)."""
    return GlobSet.build((compile_pattern(p), p) for p in patterns)
