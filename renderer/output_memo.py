"""Rendered template outputs shared by the clusters of one batch, keyed by exactly what each template reads.

Across a fleet most templates render the same text for many clusters: a template that reads only
``flux`` and ``base_repo`` renders once per distinct pair of values, not once per cluster. The key of an
output is the template's name and the values of every context name the template (and every template it
includes or imports) looks up, found statically with ``jinja2.meta``:

- values are frozen with their types and in their order (``1``, ``1.0``, ``True`` and ``"1"`` differ, and a
  mapping whose keys come in another order renders another order);
- a callable of the context takes part through its ``memo_key`` (the data it answers from); a template
  that reads any other callable, or that includes a template whose name is computed, is never memoized;
- the environment is sandboxed and immutable (templates cannot change their context), and every filter
  and global is a pure function, so equal keys render equal text.

Only successful renders are kept (their output was validated when first rendered); an error is raised
again by rendering again. A template is analysed only when a batch renders it a second time, and the
analysis is kept on disk next to the compiled templates, so a one-cluster run pays nothing for the memo.
The memo lives for one batch (:meth:`renderer.api.ReferenceRenderer.batch`), inside which the templates
do not change, and holds at most ``budget`` bytes of output.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Hashable, Mapping
from typing import Any

import jinja2
from jinja2 import meta

_MISSING = ("missing",)


class _NotKeyable(Exception):
    """A value the memo cannot key (a callable without ``memo_key``, an unknown object)."""


def freeze(value: Any) -> Hashable:
    """A hashable image of a context value that differs whenever the value could render differently."""
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, bool | int | float) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, Mapping):
        return ("map", tuple((freeze(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    key = getattr(value, "memo_key", None)
    if key is not None:
        return ("call", type(value).__qualname__, key)
    raise _NotKeyable(type(value).__name__)


def local_reads(env: jinja2.Environment, template: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """The context names ``template`` itself looks up and the templates it includes, imports or extends (None
    for a computed name), kept next to the compiled templates of ``env`` (its bytecode cache directory),
    keyed by the source text: parsing a template to find them costs ~2 ms, reading them back ~50 µs."""
    assert env.loader is not None
    source = env.loader.get_source(env, template)[0]
    folder = getattr(env.bytecode_cache, "directory", None)
    path = os.path.join(folder, f"reads-{hashlib.sha256(source.encode()).hexdigest()}.json") if folder else None
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            names, pulled_in = tuple(data["names"]), tuple(data["pulled_in"])
            if all(isinstance(n, str) for n in names) and all(p is None or isinstance(p, str) for p in pulled_in):
                return names, pulled_in
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not there or damaged: work it out again
    tree = env.parse(source)
    names = tuple(sorted(meta.find_undeclared_variables(tree)))
    pulled_in = tuple(meta.find_referenced_templates(tree))
    if path is not None:
        _write_atomically(path, json.dumps({"names": names, "pulled_in": pulled_in}))
    return names, pulled_in


def _write_atomically(path: str, text: str) -> None:
    """Best effort: a cache that cannot be written only means parsing again next time."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


class OutputMemo:
    """Rendered bytes by (template, values of the names it reads), for the renders of one batch."""

    def __init__(self, *, budget: int = 64 << 20) -> None:
        self.budget = budget
        self.hits = 0
        self._size = 0
        self._reads: dict[str, tuple[str, ...] | None] = {}
        self._seen: set[str] = set()
        self._outputs: dict[Hashable, bytes] = {}
        self._context: Mapping[str, Any] | None = None
        self._frozen: dict[int, tuple[Any, Hashable]] = {}

    def reads(self, env: jinja2.Environment, template: str) -> tuple[str, ...] | None:
        """The context names ``template`` and the templates it pulls in look up, sorted; None when that cannot
        be known (a computed template name)."""
        if template not in self._reads:
            names = self._names(env, template, set())
            self._reads[template] = None if names is None else tuple(sorted(names))
        return self._reads[template]

    def _names(self, env: jinja2.Environment, template: str, seen: set[str]) -> frozenset[str] | None:
        seen.add(template)
        names, pulled_in = local_reads(env, template)
        found = set(names)
        for other in pulled_in:
            if other is None:
                return None
            if other in seen:
                continue
            pulled = self._names(env, other, seen)
            if pulled is None:
                return None
            found |= pulled
        return frozenset(found)

    def key(self, env: jinja2.Environment, template: str, context: Mapping[str, Any],
            shared: Mapping[str, Any]) -> Hashable | None:
        """The memo key of rendering ``template`` with ``context``; None: not memoizable. ``shared`` is the
        cluster's context (the same object for every file of one render): frozen values are reused while it
        stays the same, each held with the value it was made from, so an id is never mistaken."""
        if template not in self._reads and template not in self._seen:
            self._seen.add(template)  # a template rendered once in a batch costs no analysis
            return None
        names = self.reads(env, template)
        if names is None:
            return None
        if shared is not self._context:
            self._context, self._frozen = shared, {}
        parts: list[Hashable] = [template]
        try:
            for name in names:
                value = context.get(name, _MISSING)
                if type(value) is str:
                    parts.append(value)
                    continue
                known = self._frozen.get(id(value))
                if known is None or known[0] is not value:
                    known = self._frozen[id(value)] = (value, freeze(value))
                parts.append(known[1])
        except _NotKeyable:
            return None
        return tuple(parts)

    def get(self, key: Hashable) -> bytes | None:
        """The output rendered before under ``key``, if any."""
        found = self._outputs.get(key)
        if found is not None:
            self.hits += 1
        return found

    def put(self, key: Hashable, data: bytes) -> None:
        """Keep a successful render (unless the budget is spent)."""
        if self._size + len(data) <= self.budget:
            self._outputs[key] = data
            self._size += len(data)
