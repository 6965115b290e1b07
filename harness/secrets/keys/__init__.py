"""Key families: one small module each, discovered from this package (as detect-secrets finds its plugins).

A family module defines ``FAMILY``, a :class:`KeyFamily`: the regex of its marker, the bytes every marker
of it contains (the literal pre-filter), the markers whose base64 forms the pre-filter signs, how far its
material runs from a marker, and whether that material is a real key. Adding a key type is one new module
here; nothing else changes.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class _Parser(Protocol):
    def __call__(self, label: str, material: str) -> bool: ...


class _Extent(Protocol):
    def __call__(self, text: str, match: re.Match[str]) -> tuple[str, str, int]: ...


@dataclass(frozen=True)
class KeyFamily:
    """One family of private-key formats.

    ``pattern`` matches a marker; ``extent(text, match)`` returns (label, normalised material, where the
    material ends in ``text``); ``is_real(label, material)`` says whether it parses as a real key.
    ``order`` ranks families whose markers overlap (lower is tried first)."""

    name: str
    pattern: str
    extent: _Extent
    is_real: _Parser
    needles: tuple[bytes, ...]
    encoded_markers: tuple[bytes, ...] = ()
    order: int = 50
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))


@functools.cache
def families() -> tuple[KeyFamily, ...]:
    """Every family in this package, in matching order."""
    found = [importlib.import_module(f"{__name__}.{info.name}").FAMILY
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return tuple(sorted(found, key=lambda family: (family.order, family.name)))


@functools.cache
def marker_re() -> re.Pattern[str]:
    """One regex for every family's marker; ``lastgroup`` names the family."""
    return re.compile("|".join(f"(?P<{f.name}>{f.pattern})" for f in families()))


@functools.cache
def _by_name() -> dict[str, KeyFamily]:
    return {family.name: family for family in families()}


def family_of(match: re.Match[str]) -> KeyFamily:
    """The family whose marker ``match`` (from :func:`marker_re`) found."""
    return _by_name()[match.lastgroup or ""]


@functools.cache
def literal_needles() -> tuple[bytes, ...]:
    """Bytes of which every marker of every family contains one."""
    return tuple(dict.fromkeys(needle for family in families() for needle in family.needles))


@functools.cache
def encoded_markers() -> tuple[bytes, ...]:
    """Markers whose base64 forms (at every alignment and nesting) the pre-filter signs."""
    return tuple(dict.fromkeys(marker for family in families() for marker in family.encoded_markers))


ESCAPED_BREAK = re.compile(r"(?:\\+r)?\\+n")
"""A line break escaped in a JSON or double-quoted YAML string, at any depth of escaping."""


def blank_escaped_breaks(text: str) -> str:
    """``text`` with each escaped line break turned into spaces and a real one, keeping every offset."""
    if "\\" not in text:
        return text
    return ESCAPED_BREAK.sub(lambda m: " " * (m.end() - m.start() - 1) + "\n", text)


def normalise(block: str) -> str:
    """The same key in a YAML block scalar, a JSON string (escaped to any depth: ``\\n``, ``\\\\n``...)
    or a decoded layer normalises identically."""
    block = ESCAPED_BREAK.sub("\n", block)
    return "\n".join(line.strip() for line in block.splitlines()).strip() + "\n"


def armoured(text: str, start: int, after: int, end_marker: str) -> tuple[str, int]:
    """(normalised material, where it ends) of an armoured block from ``start`` to ``end_marker`` (or to
    ``after``, the end of the marker, when the end marker is missing)."""
    end = text.find(end_marker, after)
    stop = end + len(end_marker) if end != -1 else after
    return normalise(text[start:stop]), stop


def loads_with(material: str, load: Callable[[bytes], object]) -> bool:
    """Whether ``load`` (a ``cryptography`` loader) accepts the ASCII bytes of ``material``, or refuses
    them only for want of a password or of support for the key type (an encrypted key is a real key)."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        data = material.encode("ascii")
    except UnicodeEncodeError:
        return False
    try:
        with warnings.catch_warnings():  # a DSA key is still a key: its deprecation is not our news
            warnings.simplefilter("ignore")
            load(data)
    except (TypeError, UnsupportedAlgorithm):
        return True
    except Exception:  # any parse failure means "not a loadable key"
        return False
    return True


def never_parsed(label: str, material: str) -> bool:
    """For formats this project does not parse: a marker, never a proven real key."""
    return False
