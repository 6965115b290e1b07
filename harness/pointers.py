"""RFC 6901 JSON pointers over plain YAML data: parse, validate, resolve, remove.

``/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile`` names the annotation key
``kustomize.toolkit.fluxcd.io/reconcile`` (``~1`` is ``/``, ``~0`` is ``~``); ``/spec/dependsOn/0``
names the first list item. Pointers are only used to *remove* values, so two things are refused when
the pointer is loaded: the empty pointer (it would remove the whole document) and the token ``-``
(RFC 6901's "one past the last item", which never names an existing value). A token used as a list
index must be ``0`` or a decimal number without a leading zero; a token that is not an index simply
does not resolve inside a list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_BAD_ESCAPE = re.compile(r"~(?![01])")


class PointerError(ValueError):
    """A malformed pointer (the inventory loader turns it into ``INVENTORY-INVALID``)."""


@dataclass(frozen=True)
class Pointer:
    """A parsed pointer: the original text and its unescaped reference tokens."""

    text: str
    tokens: tuple[str, ...]

    def __str__(self) -> str:
        return self.text


def escape_token(token: str) -> str:
    """Escape one reference token (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Unescape one reference token (``~1`` -> ``/``, then ``~0`` -> ``~``)."""
    return token.replace("~1", "/").replace("~0", "~")


def format_pointer(tokens: Sequence[str | int]) -> str:
    """Build pointer text from tokens."""
    return "".join("/" + escape_token(str(t)) for t in tokens)


def parse_pointer(text: str) -> Pointer:
    """Parse and validate a pointer meant for removal; raises :class:`PointerError` with the reason."""
    if not isinstance(text, str):
        raise PointerError("a pointer must be a string")
    if text == "":
        raise PointerError("the empty pointer names the whole document; remove a field instead")
    if not text.startswith("/"):
        raise PointerError("a pointer must start with '/'")
    if _BAD_ESCAPE.search(text):
        raise PointerError("'~' must be followed by 0 or 1 ('~0' is '~', '~1' is '/')")
    raw = text[1:].split("/")
    tokens = tuple(unescape_token(t) for t in raw)
    for part in raw:
        if part == "-":
            raise PointerError("'-' names the position after the last list item and can never be removed")
    return Pointer(text=text, tokens=tokens)


def is_index(token: str) -> bool:
    """Whether ``token`` is a valid RFC 6901 array index."""
    return _INDEX.match(token) is not None


def _step(node: Any, token: str) -> tuple[bool, Any]:
    if isinstance(node, dict):
        if token in node:
            return True, node[token]
        return False, None
    if isinstance(node, list):
        if is_index(token):
            index = int(token)
            if index < len(node):
                return True, node[index]
        return False, None
    return False, None


def resolve(data: Any, pointer: Pointer) -> tuple[bool, Any]:
    """``(True, value)`` if ``pointer`` names a value in ``data``, else ``(False, None)``.

    Mapping keys are compared as strings only: a YAML key that loaded as an int or bool (``on``, ``1``)
    is not reachable by pointer, which keeps removals explicit.
    """
    node = data
    for token in pointer.tokens:
        found, node = _step(node, token)
        if not found:
            return False, None
    return True, node


def locate(data: Any, pointer: Pointer) -> tuple[Any, str | int] | None:
    """The container holding the pointed-at value and its key/index, or None when it does not resolve."""
    found, parent = resolve(data, Pointer(pointer.text, pointer.tokens[:-1]))
    if not found:
        return None
    last = pointer.tokens[-1]
    if isinstance(parent, dict):
        return (parent, last) if last in parent else None
    if isinstance(parent, list) and is_index(last) and int(last) < len(parent):
        return parent, int(last)
    return None


def remove_at(data: Any, pointer: Pointer) -> bool:
    """Remove the value ``pointer`` names from ``data`` in place; return whether something was removed."""
    place = locate(data, pointer)
    if place is None:
        return False
    container, key = place
    del container[key]
    return True


def remove_all(data: Any, pointers: Sequence[Pointer]) -> list[tuple[int, Any]]:
    """Remove every pointed-at value *as the pointers read against the unmodified data*, in place.

    All pointers are resolved first and then removed (list items highest index first), so
    ``/spec/items/0`` and ``/spec/items/1`` both remove what the author saw. Returns
    ``(position in pointers, removed value)`` for every pointer that resolved, in pointer order
    (the same value named twice is reported for both pointers and removed once).
    """
    found: list[tuple[int, Any, str | int, Any]] = []
    for position, pointer in enumerate(pointers):
        place = locate(data, pointer)
        if place is None:
            continue
        container, key = place
        found.append((position, container, key, container[key]))
    list_removals: dict[int, tuple[list[Any], set[int]]] = {}
    map_removals: dict[tuple[int, str], dict[str, Any]] = {}
    for _, container, key, _ in found:
        if isinstance(container, list) and isinstance(key, int):
            list_removals.setdefault(id(container), (container, set()))[1].add(key)
        elif isinstance(container, dict) and isinstance(key, str):
            map_removals[(id(container), key)] = container
    for (_, key), mapping in map_removals.items():
        del mapping[key]
    for items, indices in list_removals.values():
        for index in sorted(indices, reverse=True):
            del items[index]
    return [(position, value) for position, _, _, value in found]
