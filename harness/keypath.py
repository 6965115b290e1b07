"""A key path (mapping keys and list indices) as text: the one way messages and findings write one.

``spec.dependsOn[0].name``; with ``quote`` (findings, diffs) a key that is not a plain name is written
as a JSON string in brackets, ``metadata.annotations["kustomize.toolkit.fluxcd.io/reconcile"]``, so the
text names exactly one path; without it (schema messages about inventories and configs, whose keys are
names) keys are joined with dots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def key_path_text(path: Iterable[Any], *, quote: bool = True, empty: str = "") -> str:
    """``a.b[0].c`` for ``("a", "b", 0, "c")``; ``empty`` for the empty path (see the module docstring)."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
            continue
        key = part if isinstance(part, str) else json.dumps(part, default=str)
        if quote and not _PLAIN.fullmatch(key):
            text += f"[{json.dumps(key, ensure_ascii=False)}]"
        else:
            text += f".{key}" if text else key
    return text or empty
