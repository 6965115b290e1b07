"""Node trees from ruamel's C composer, for answers that are exact where a document is plain YAML.

The exact loaders (:mod:`harness.yamlio`: the safe loader's Python constructors, the pure-Python round-trip
loader) are the reference. This module composes the same text with libyaml (``ruamel.yaml.clib``) and the
same implicit resolver, and only answers when a document holds nothing but mappings with string keys,
sequences and scalars whose value is obvious from the node (strings, nulls, booleans, plain decimal
numbers), with no aliases and no explicit tags. For anything else (tags, merge keys, octal or sexagesimal
numbers, timestamps, duplicate keys, syntax errors) it answers "unsure" and the caller asks the exact
loader, so every error keeps its exact message.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from _ruamel_yaml import CParser
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver, VersionedResolver
from ruamel.yaml.tag import Tag

from harness.yamlfast import PARSERS_MAY_DIFFER

Version = tuple[int, int]
KeyPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = (_TAG + t for t in ("str", "null", "bool", "int", "float"))
MAP, SEQ = _TAG + "map", _TAG + "seq"
# Numbers every constructor (safe and round-trip, YAML 1.1 and 1.2) reads the same way as int()/float().
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
# Text left to the round-trip loader: anchors and tags (ruamel's round-trip types, e.g. an anchored boolean,
# read differently), directives (YAML version), the Unicode line breaks YAML 1.1 and 1.2 disagree about,
# and tabs (libyaml accepts a tab before a value where ruamel's scanner refuses it).
_ROUNDTRIP_ONLY = re.compile(rf"(?:^|[\s\[{{,:])[&!]|^%|{PARSERS_MAY_DIFFER.pattern}", re.MULTILINE)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})

# One shared Tag object per tag: nodes resolved here are recognised by identity (a node with an explicit
# tag carries its own Tag object and so is never taken for plain).
_CANONICAL: dict[str, Tag] = {}


def _canonical(tag: Any) -> Tag:
    text = str(tag)
    found = _CANONICAL.get(text)
    if found is None:
        found = _CANONICAL[text] = Tag(suffix=text)
    return found


STR_TAG, NULL_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG, MAP_TAG, SEQ_TAG = (
    _canonical(t) for t in (STR, NULL, BOOL, INT, FLOAT, MAP, SEQ))
_COLLECTION_TAGS = {SequenceNode: SEQ_TAG, MappingNode: MAP_TAG}
_RESOLVED_MAX = 50_000


@functools.lru_cache(maxsize=4)
def _resolver(version: Version) -> tuple[VersionedResolver, dict[str, Tag]]:
    """ruamel's implicit resolver for ``version`` (built once) and its memo of plain scalars."""
    return VersionedResolver(version=version), {}


class _Composer(CParser, BaseResolver):  # type: ignore[misc]
    """libyaml's reader/scanner/parser/composer with ruamel's implicit resolver of one YAML version."""

    def __init__(self, text: str, version: Version) -> None:
        CParser.__init__(self, text)
        self._parser = self._composer = self
        BaseResolver.__init__(self, loadumper=self)
        self._exact, self._memo = _resolver(version)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The node's tag as :class:`VersionedResolver` resolves it, as a canonical Tag object."""
        if kind is ScalarNode:
            if not implicit[0]:
                return STR_TAG  # quoted, or the non-specific tag "!"
            tag = self._memo.get(value)
            if tag is None:
                if len(self._memo) >= _RESOLVED_MAX:
                    self._memo.clear()
                tag = self._memo[value] = _canonical(self._exact.resolve(kind, value, implicit))
            return tag
        return _COLLECTION_TAGS[kind]


def compose_one(text: str, version: Version) -> Any:
    """The single document's root node, None for an empty stream (raises ``YAMLError``, also for several)."""
    composer = _Composer(text, version)
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()
        # The composer is its own parser, composer and resolver: drop those self-references, so it is freed
        # now by reference counting instead of waiting as cyclic garbage for the collector.
        composer.__dict__.clear()


def scalar_value(node: Any) -> tuple[bool, Any]:
    """``(True, value)`` when the scalar's value is obvious from its tag and text, else ``(False, None)``."""
    tag = node.ctag
    value = node.value
    if tag is STR_TAG:
        return True, value
    if tag is NULL_TAG and value in _NULLS:
        return True, None
    if tag is BOOL_TAG and (value in _TRUE or value in _FALSE):
        return True, value in _TRUE
    if tag is INT_TAG and _PLAIN_INT.fullmatch(value):
        return True, int(value)
    if tag is FLOAT_TAG and _PLAIN_FLOAT.fullmatch(value):
        return True, float(value)
    return False, None


def plain_data(root: Any) -> tuple[Any, dict[KeyPath, int]] | None:
    """Plain Python data of a plain document plus the 1-based line of every key path (a mapping key's line,
    a sequence item's first line), or None when the document is not plain (see the module docstring)."""
    lines: dict[KeyPath, int] = {}
    seen: set[int] = set()

    def build(node: Any, path: KeyPath) -> Any:
        if id(node) in seen:
            raise _NotPlain
        seen.add(id(node))
        kind = type(node)
        if kind is ScalarNode:
            ok, value = scalar_value(node)
            if not ok:
                raise _NotPlain
            return value
        if kind is MappingNode and node.ctag is MAP_TAG:
            out: dict[str, Any] = {}
            for key, value in node.value:
                if type(key) is not ScalarNode or key.ctag is not STR_TAG or key.value in out:
                    raise _NotPlain
                child = (*path, key.value)
                lines[child] = key.start_mark.line + 1
                out[key.value] = build(value, child)
            return out
        if kind is SequenceNode and node.ctag is SEQ_TAG:
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                items.append(build(item, child))
            return items
        raise _NotPlain

    try:
        return build(root, ()), lines
    except (_NotPlain, RecursionError):
        return None


def needs_roundtrip(text: str) -> bool:
    """True when ``text`` may hold anchors, tags, directives, tabs or Unicode line breaks: only the round-trip
    loader reads it exactly (conservative: such characters inside a quoted string also count)."""
    return _ROUNDTRIP_ONLY.search(text) is not None


def roundtrip_like(root: Any) -> CommentedMap | CommentedSeq | None:
    """What the round-trip loader builds for a plain document, same containers and line/column data
    (``.lc``), or None when unsure: besides non-plain nodes, block scalars and floats, which the round-trip
    loader reads into its own scalar types."""
    seen: set[int] = set()

    def build(node: Any) -> Any:
        if id(node) in seen:
            raise _NotPlain
        seen.add(id(node))
        kind = type(node)
        if kind is ScalarNode:
            ok, value = scalar_value(node)
            if not ok or node.ctag is FLOAT_TAG or node.style in ("|", ">"):
                raise _NotPlain
            return value
        mark = node.start_mark
        if kind is MappingNode and node.ctag is MAP_TAG:
            mapping = CommentedMap()
            mapping._yaml_set_line_col(mark.line, mark.column)
            for key, value in node.value:
                if type(key) is not ScalarNode or key.ctag is not STR_TAG or key.value in mapping:
                    raise _NotPlain
                mapping[key.value] = build(value)
                mapping._yaml_set_kv_line_col(key.value, [key.start_mark.line, key.start_mark.column,
                                                          value.start_mark.line, value.start_mark.column])
            return mapping
        if kind is SequenceNode and node.ctag is SEQ_TAG:
            sequence = CommentedSeq()
            sequence._yaml_set_line_col(mark.line, mark.column)
            for index, item in enumerate(node.value):
                sequence.append(build(item))
                sequence._yaml_set_idx_line_col(index, [item.start_mark.line, item.start_mark.column])
            return sequence
        raise _NotPlain

    try:
        built = build(root)
    except (_NotPlain, RecursionError):
        return None
    return built if isinstance(built, CommentedMap | CommentedSeq) else None


class _NotPlain(Exception):
    """Raised inside :func:`plain_data` when the document needs the exact loader."""


def reads_as_string(document: str, key: str, expected: str, versions: tuple[Version, ...]) -> bool:
    """True when ``document`` surely reads as ``{key: expected}`` with a string value under every version;
    False when unsure."""
    for version in versions:
        try:
            root = compose_one(document, version)
        except Exception:
            return False
        if type(root) is not MappingNode or root.ctag is not MAP_TAG or len(root.value) != 1:
            return False
        key_node, value_node = root.value[0]
        for node, text in ((key_node, key), (value_node, expected)):
            if type(node) is not ScalarNode or node.ctag is not STR_TAG or node.value != text:
                return False
    return True
