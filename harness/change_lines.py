"""Where a comparison change sits in the fixture file: the 1-based line of its key (best effort).

Reports anchor a ``PARITY-CONTENT`` finding at the fixture file and the line of the first differing key
(SARIF regions, JUnit, Markdown). The fixture text is parsed again with line information only for a file
that differs; a key the fixture lacks (an ``added`` change) is placed at its nearest existing parent, and
a change in a rendered-only document or in a document the located loader cannot place is line 0.
"""

from __future__ import annotations

import threading

from ruamel.yaml import YAML

from harness.errors import InputError
from harness.nesting import MAX_DEPTH, too_deep
from harness.yamlcompare import Change
from harness.yamlfast import PlainScalars, load_plain
from harness.yamlio import KeyPath, key_lines

_local = threading.local()


def _scalars() -> PlainScalars:
    scalars: PlainScalars | None = getattr(_local, "scalars", None)
    if scalars is None:
        scalars = _local.scalars = PlainScalars(YAML(typ="rt"))
    return scalars


def document_lines(text: str) -> list[dict[KeyPath, int]] | None:
    """Per document of ``text``, the line of every key path; None when the fast located loader cannot read it
    (anchors, tags, errors: then lines are unknown)."""
    try:
        docs = load_plain(text, _scalars(), max_nodes=1_000_000, located=True)
    except InputError:
        return None
    if docs is None or any(too_deep(d, MAX_DEPTH) is not None for d in docs):
        return None
    return [key_lines(d) for d in docs]


def change_line(lines: list[dict[KeyPath, int]] | None, change: Change) -> int:
    """The fixture line of ``change`` (0 when unknown)."""
    if lines is None or not 0 <= change.fixture_doc < len(lines):
        return 0
    doc = lines[change.fixture_doc]
    path = tuple(change.path)
    for end in range(len(path), 0, -1):
        line = doc.get(path[:end])
        if line:
            return line
    return min(doc.values(), default=0)
