"""Rendered template outputs shared by the clusters of one batch, keyed by exactly what each template reads.

Across a fleet most templates render the same text for many clusters: a template that reads only
``flux`` and ``base_repo`` renders once per distinct pair of values, not once per cluster. The key of an
output is the template's name and the values of every context name the template (and every template it
includes or imports) looks up, found statically with ``jinja2.meta``:

- values are frozen with their types and in their order (``1``, ``1.0``, ``True`` and ``"1"`` differ, and a
  mapping whose keys come in another order renders another order), and each frozen value stands in the key
  as the digest of its ``repr`` (worked out once per value of a cluster's context);
- a callable of the context takes part through its ``memo_key`` (the data it answers from, made of strings,
  booleans and tuples or frozensets of them, so two keys are equal exactly when they answer alike; the
  renderer's callables' keys are checked in tests); a template that reads any other callable, or that
  includes a template whose name is computed, is never memoized;
- the environment is sandboxed and immutable (templates cannot change their context), and every filter
  and global is a pure function, so equal keys render equal text.

Only successful renders are kept (their output was validated when first rendered); an error is raised
again by rendering again. A template is analysed only when a batch renders it a second time, and the
analysis is kept on disk next to the compiled templates, so a one-cluster run pays nothing for the memo.
The memo lives for one batch (:meth:`renderer.api.ReferenceRenderer.batch`), inside which the templates
do not change, and holds at most ``budget`` bytes of output.

With a ``store`` (:class:`harness.digest_store.DigestStore` of the renderer's code version, or a
:class:`~harness.digest_store.ShardedStore` with a file per cluster, :meth:`OutputMemo.for_cluster`, so a
run of one cluster reads that cluster's outputs only, whatever the size of the fleet), outputs also
outlive the process: a key is then written as the ``repr`` of its frozen parts (the same text in every
process: :func:`freeze` makes only tuples of typed scalars) and digested together with the source text of
the template and of every template it pulls in, so an edited template, another config value, another
renderer or Jinja2 version never finds an old output. A template seen for the first time in a batch looks
there only when its analysis is already on disk (nothing is parsed for it). Outputs over 64 KiB, those of
templates that read the render time or the config's secrets (:data:`BATCH_ONLY`), and any output holding a
secret-looking value of the cluster's context (by any name, as it is or base64-encoded) are not kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from harness.cache_dir import write_cache_file
from harness.digest_store import DigestStore, ShardedStore, digest
from harness.redact import should_mask
from harness.yamlio import iter_paths
from renderer.code_version import renderer_code_stamp

_MISSING = ("missing",)
_MISSING_PART = b"missing"  # not 16 bytes: never a value's digest
_PLAIN_TYPES = frozenset({dict, list, tuple, int, float, bool, type(None)})
STORE = ShardedStore("outputs", renderer_code_stamp)
"""Outputs kept across processes for the renderer's code version, a file per cluster (see the module
docstring)."""
BATCH_ONLY = frozenset({"rendered_at", "secrets"})
"""Context names whose templates' outputs are kept for one batch only: the render time changes from run to
run, and secret material (the config's ``secrets``) never leaves the process, not even into the private
cache."""


class _NotKeyable(Exception):
    """A value the memo cannot key (a callable without ``memo_key``, an unknown object)."""


def freeze(value: Any) -> Hashable:
    """A hashable image of a context value that differs whenever the value could render differently. It is
    made of tuples, strings, integers, booleans and None only (floats by ``repr``, so ``0.0``/``-0.0`` and
    NaN are told apart; sets sorted), so its ``repr`` is the same text in every process."""
    if isinstance(value, str):
        return ("str", value if type(value) is str else str.__str__(value))
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, float):
        return ("float", repr(float(value)))
    if isinstance(value, int):
        return (type(value).__name__, int(value))
    if isinstance(value, Mapping):
        return ("map", tuple((freeze(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    key = getattr(value, "memo_key", None)
    if key is not None:
        return ("call", type(value).__qualname__, _stable(key))
    raise _NotKeyable(type(value).__name__)


_SORTED_SETS: dict[int, tuple[frozenset[Any], Hashable]] = {}  # held with the set, so an id stays its own


def _stable(value: Any) -> Hashable:
    """A callable's ``memo_key`` made of what :func:`freeze` makes (sets become sorted tuples)."""
    if isinstance(value, tuple | list):
        return tuple(_stable(v) for v in value)
    if isinstance(value, frozenset):  # often the same set for many files (a descriptor's outputs): sorted once
        known = _SORTED_SETS.get(id(value))
        if known is None or known[0] is not value:
            if len(_SORTED_SETS) > 4096:
                _SORTED_SETS.clear()
            known = _SORTED_SETS[id(value)] = (value, _sorted_set(value))
        return known[1]
    if isinstance(value, set):
        return _sorted_set(value)
    if isinstance(value, str | bool | int | float) or value is None:
        return freeze(value)
    raise _NotKeyable(type(value).__name__)


def _sorted_set(value: frozenset[Any] | set[Any]) -> Hashable:
    return ("set", tuple(sorted((_stable(v) for v in value), key=repr)))


def _part(frozen: Hashable) -> bytes:
    """A key part: the digest of a frozen value's ``repr``, the same in every process for what :func:`freeze`
    makes, and equal exactly when the frozen values are (a dictionary hashes it quickly, however deep the
    value)."""
    return digest(repr(frozen).encode("utf-8", "surrogatepass"))


def _reads_path(env: jinja2.Environment, source: str) -> str | None:
    folder = getattr(env.bytecode_cache, "directory", None)
    return os.path.join(folder, f"reads-{hashlib.sha256(source.encode()).hexdigest()}.json") if folder else None


def analysed(env: jinja2.Environment, template: str) -> bool:
    """Whether :func:`local_reads` of ``template`` is already on disk (answered without parsing)."""
    assert env.loader is not None
    try:
        path = _reads_path(env, env.loader.get_source(env, template)[0])
    except jinja2.TemplateNotFound:
        return False
    return path is not None and os.path.isfile(path)


def local_reads(env: jinja2.Environment, template: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """The context names ``template`` itself looks up and the templates it includes, imports or extends (None
    for a computed name), kept next to the compiled templates of ``env`` (its bytecode cache directory),
    keyed by the source text: parsing a template to find them costs ~2 ms, reading them back ~50 µs."""
    assert env.loader is not None
    source = env.loader.get_source(env, template)[0]
    path = _reads_path(env, source)
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
        write_cache_file(Path(path), json.dumps({"names": names, "pulled_in": pulled_in}))
    return names, pulled_in


class OutputMemo:
    """Rendered bytes by (template, values of the names it reads), for the renders of one batch."""

    def __init__(self, *, budget: int = 64 << 20, store: DigestStore | ShardedStore | None = None,
                 batch_only: frozenset[str] = BATCH_ONLY) -> None:
        self.budget = budget
        self.batch_only = batch_only  # outputs of templates reading these names never go to the store
        self.hits = 0
        self.stored_hits = 0
        self._size = 0
        self._shards = store if isinstance(store, ShardedStore) else None
        self._store = store if isinstance(store, DigestStore) else None  # a sharded one's: see for_cluster
        self._reads: dict[str, tuple[str, ...] | None] = {}
        self._seen: set[str] = set()
        self._outputs: dict[Hashable, bytes] = {}
        self._context: Mapping[str, Any] | None = None
        self._frozen: dict[int, tuple[Any, bytes]] = {}  # value id -> (value, digest of its frozen image)
        self._sources: dict[str, bytes] = {}  # template -> digest of its source and of all it pulls in
        self._pulled: dict[str, tuple[str, ...]] = {}  # template -> itself and every template it pulls in
        self._digests: dict[Hashable, bytes] = {}
        self._strings: dict[str, bytes] = {}
        self._calls: dict[tuple[type, Hashable], bytes] = {}  # (callable type, memo_key) -> key part
        self._withheld: tuple[bytes, ...] | None = None  # see _secret_material, per cluster context

    def for_cluster(self, cluster: str) -> None:
        """Renders of ``cluster`` follow: with a :class:`ShardedStore`, its shard is the store from now on."""
        if self._shards is not None:
            self._store = self._shards.shard(cluster)

    def reads(self, env: jinja2.Environment, template: str) -> tuple[str, ...] | None:
        """The context names ``template`` and the templates it pulls in look up, sorted; None when that cannot
        be known (a computed template name)."""
        if template not in self._reads:
            seen: set[str] = set()
            names = self._names(env, template, seen)
            self._reads[template] = None if names is None else tuple(sorted(names))
            self._pulled[template] = tuple(sorted(seen))  # the template and all it pulls in (for the store)
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
            if self._store is None or not analysed(env, template):
                return None
        names = self.reads(env, template)
        if names is None:
            return None
        if shared is not self._context:
            self._context, self._frozen, self._withheld = shared, {}, None
        parts: list[Hashable] = [template]
        try:
            for name in names:
                value = context.get(name, _MISSING)
                if value is _MISSING:
                    parts.append(_MISSING_PART)
                    continue
                if type(value) is str:
                    found = self._strings.get(value)
                    if found is None:
                        found = self._strings[value] = _part(("str", value))
                    parts.append(found)
                    continue
                known = self._frozen.get(id(value))
                if known is None or known[0] is not value:
                    known = self._frozen[id(value)] = (value, self._called(value) or _part(freeze(value)))
                parts.append(known[1])
        except _NotKeyable:
            return None
        return tuple(parts)

    def _called(self, value: Any) -> bytes | None:
        """The key part of a context callable by its ``memo_key`` (a new callable per file often answers from
        the same data: a descriptor's outputs), worked out once per key; None for anything else."""
        if type(value) in _PLAIN_TYPES:
            return None
        memo_key = getattr(value, "memo_key", None)
        if memo_key is None:
            return None
        try:
            return self._calls[type(value), memo_key]
        except KeyError:
            part = self._calls[type(value), memo_key] = _part(freeze(value))
            return part
        except TypeError:  # an unhashable memo_key: frozen every time
            return None

    def get(self, key: Hashable, env: jinja2.Environment | None = None) -> bytes | None:
        """The output rendered before under ``key``, if any: in this batch, else (given the ``env`` the key was
        made with) in the store."""
        found = self._outputs.get(key)
        if found is not None:
            self.hits += 1
            if self._shards is not None and env is not None:  # rendered for another cluster: into this one's shard
                self._to_store(env, key, found)
            return found
        if self._store is None or env is None:
            return None
        known = self._digest(env, key)
        stored = self._store.get(known) if known is not None else None
        if stored is not None:
            self.stored_hits += 1
            self._keep(key, stored)
        return stored

    def put(self, key: Hashable, data: bytes, env: jinja2.Environment | None = None) -> None:
        """Keep a successful render (unless the budget is spent), and in the store when there is one."""
        self._keep(key, data)
        if env is not None:
            self._to_store(env, key, data)

    def _to_store(self, env: jinja2.Environment, key: Hashable, data: bytes) -> None:
        """Keep ``data`` in the store (with shards: the current cluster's, so a later run of that cluster alone
        finds an output the batch rendered for another one) unless it is there already, its key cannot be
        written, or it holds the cluster's secret material."""
        known = self._digest(env, key) if self._store is not None else None
        if self._store is not None and known is not None and self._store.get(known) is None \
                and not any(w in data for w in self._secret_material()):
            self._store.add(known, data)

    def _secret_material(self) -> tuple[bytes, ...]:
        """The strings of the current cluster's context that must never reach the store, as they would appear
        in an output (as they are and base64-encoded): values at secret-looking key paths and anything that
        looks like key material (:func:`harness.redact.should_mask`), whatever name a template reads them by.
        Worked out on the first store write of a cluster."""
        if self._withheld is None:
            values = {v for path, v in iter_paths(self._context or {}) if isinstance(v, str) and len(v) >= 4
                      and should_mask(path, v)}
            self._withheld = tuple({form for v in values for form in (
                v.encode("utf-8", "surrogatepass"), base64.b64encode(v.encode("utf-8", "surrogatepass")))})
        return self._withheld

    def flush(self) -> None:
        """Write what the store has not written yet (see :meth:`harness.digest_store.DigestStore.flush`)."""
        if self._store is not None:
            self._store.flush()
        if self._shards is not None:
            self._shards.flush()

    def _keep(self, key: Hashable, data: bytes) -> None:
        if self._size + len(data) <= self.budget:
            self._outputs[key] = data
            self._size += len(data)

    def _digest(self, env: jinja2.Environment, key: Hashable) -> bytes | None:
        """The store's key for a memo key: its parts (digests already) and the sources it was rendered from
        (None: no template source, or a template whose output is for this batch only)."""
        known = self._digests.get(key)
        if known is None:
            if not isinstance(key, tuple) or not key or not isinstance(key[0], str) \
                    or self.batch_only.intersection(self._reads.get(key[0]) or ("?",)):
                return None
            try:
                sources = self._source_digest(env, key[0])
            except jinja2.TemplateNotFound:
                return None
            known = self._digests[key] = digest(b"output", key[0].encode("utf-8", "surrogatepass"), sources,
                                                *key[1:])
        return known

    def _source_digest(self, env: jinja2.Environment, template: str) -> bytes:
        """A digest of the source text of ``template`` and of every template it includes, imports or extends
        (found by :meth:`reads`)."""
        known = self._sources.get(template)
        if known is None:
            assert env.loader is not None
            if template not in self._pulled:
                self.reads(env, template)
            known = self._sources[template] = digest(*(part for name in self._pulled[template] for part in (
                name.encode(), env.loader.get_source(env, name)[0].encode("utf-8", "surrogatepass"))))
        return known
