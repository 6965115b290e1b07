"""The code version of everything the renderer keeps across processes: rendered outputs, outputs known
valid and loaded descriptor sets (:func:`harness.digest_store.code_stamp` of the harness and the renderer,
with the YAML and template library versions: descriptors are parsed with both)."""

from __future__ import annotations

from harness.digest_store import code_stamp


def renderer_code_stamp() -> str:
    """The renderer's code stamp (computed once per process)."""
    return code_stamp("harness", "renderer", libraries=("ruamel.yaml", "jinja2"))
