"""The one documented depth limit of the data overlay-parity reads: :data:`MAX_DEPTH` levels of nesting.

Every YAML loader (:mod:`harness.yamlio`) and the JSON report loader refuse a document in which more than
:data:`MAX_DEPTH` mappings/sequences nest inside each other (aliases count with the depth of what they
point to), with one located line (``YAML-TOO-DEEP``, or ``REPORT-INVALID`` for a shard report). So every
walk over loaded data (comparison, formatting, key paths, redaction, the renderer's config view) may
recurse: it never sees more than :data:`MAX_DEPTH` levels, far below Python's recursion limit even with
several frames per level. Real Kubernetes and Flux manifests (CRD schemas included) nest a few dozen
levels at most.

The checks here are iterative: they never recurse, whatever the input.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100
"""Most levels of nested mappings/sequences accepted in any YAML or JSON input (a top-level mapping is 1)."""

KeyPath = tuple[str | int, ...]


def too_deep(data: Any, limit: int = MAX_DEPTH) -> KeyPath | None:
    """The key path of the first mapping or sequence nested deeper than ``limit`` in loaded data, or None.

    Iterative; a node shared by aliases is walked again only when met deeper than before."""
    seen: dict[int, int] = {}
    stack: list[tuple[Any, KeyPath]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if len(path) >= limit:
            return path
        if seen.get(id(node), -1) >= len(path):
            continue
        seen[id(node)] = len(path)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(child, dict | list):
                stack.append((child, (*path, key)))
    return None


def json_too_deep_at(text: str, limit: int = MAX_DEPTH) -> tuple[int, int] | None:
    """1-based (line, column) of the first ``[``/``{`` of JSON ``text`` that nests deeper than ``limit``, or
    None. A character scan (strings skipped), for locating the error once a load refused the text."""
    depth = 0
    line, start = 1, 0
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line, index - start + 1
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line, start = line + 1, index + 1
    return None


def depth_message(limit: int = MAX_DEPTH) -> str:
    """The wording of a too-deep error (one place for every loader)."""
    return f"nested deeper than {limit} levels"


DEPTH_HINT = f"flatten the data; overlay-parity reads at most {MAX_DEPTH} levels of nesting"
