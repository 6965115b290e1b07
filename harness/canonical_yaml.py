"""Canonical YAML text of parsed documents, for a line diff a reviewer reads (``diff --unified``).

Mapping keys sorted, one block style, secret values masked with the redaction model
(:func:`harness.redact.should_mask`), documents separated by ``---``: two files that compare equal as data
give the same text, so a unified diff of these texts shows exactly the data that differs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from harness.redact import masked, should_mask


def _canonical(value: Any, path: list[str | int], kind: Any) -> Any:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: (type(item[0]).__name__, str(item[0])))
        return {key: _canonical(child, [*path, key], kind) for key, child in items}
    if isinstance(value, list):
        return [_canonical(child, [*path, index], kind) for index, child in enumerate(value)]
    return masked(value) if should_mask(path, value, doc_kind=kind) else value


def canonical_yaml(documents: Sequence[Any]) -> str:
    """The canonical, redacted YAML text of ``documents`` (already bounded in depth by the loaders)."""
    from ruamel.yaml import YAML

    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = False
    out = io.StringIO()
    for index, doc in enumerate(documents):
        if index:
            out.write("---\n")
        kind = doc.get("kind") if isinstance(doc, dict) else None
        dumper.dump(_canonical(doc, [], kind), out)
    return out.getvalue()

