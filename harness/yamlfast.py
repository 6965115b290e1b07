"""The fast path of :func:`harness.yamlio.load_documents`: plain manifests built straight from C parser events.

ruamel.yaml's safe load composes a node graph (one Python resolver call and one Tag object per scalar)
and then constructs Python objects from it node by node; for the plain documents that make up nearly
every Kubernetes manifest that is most of the cost. This module walks the C parser's event stream once
and builds dicts, lists and scalars directly, resolving each distinct plain scalar text once per process
with ruamel's own YAML 1.1 resolver and constructors (so ``on`` is ``True`` and ``0755`` is 493 exactly
as on the slow path).

It handles only the happy path of plain YAML and gives up (returns ``None``) on anything else: a parse
error, an explicit tag, an anchor or alias, a merge key (``<<``), a non-scalar or duplicate mapping key, a
``%YAML``/``%TAG`` directive, more than ``max_nodes`` nodes, or nesting deeper than
:data:`harness.nesting.MAX_DEPTH`. The caller then runs the full loader,
which produces the same data or the same located error, so the fast path can only ever be faster,
never different (a property test holds the two paths equal on generated and real documents).

:func:`reads_as_string` answers one narrower question from the same events: does a one-key document
surely read as that key and string under every given YAML version.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

from _ruamel_yaml import CParser
from ruamel.yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from harness.nesting import MAX_DEPTH

# Where libyaml (the C parser) and ruamel's pure-Python round-trip parser read the same text differently:
# libyaml accepts a tab as a separator (``a:<TAB>1``) and treats NEL/LS/PS as line breaks. A located load
# (which stands in for the round-trip loader) hands such text to the round-trip loader.
PARSERS_MAY_DIFFER = re.compile(r"[\t\x85\u2028\u2029]")
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN = (True, False)
_CACHE_MAX = 100_000
_MERGE_KEY = "<<"
_BLOCK_STYLES = frozenset({"|", ">"})  # literal and folded scalars (a plain scalar's style is "")

Version = tuple[int, int]


class GiveUp(Exception):
    """The document is not plain enough for the fast path (the caller uses the full loader)."""


class PlainScalars:
    """Plain scalar text -> Python value under the resolver and constructors of a ruamel ``YAML`` loader (the
    very objects its C-accelerated load uses), memoized: the values are immutable (str, None, bool, int,
    float, date/datetime)."""

    def __init__(self, loader: Any) -> None:
        constructor, _ = loader.get_constructor_parser("")
        # The C path's loader object is resolver, constructor and parser in one; the round-trip loader's
        # resolver is its own object.
        self._resolver = constructor if hasattr(constructor, "resolve") else loader.resolver
        self._constructor = constructor
        self.known: dict[str, Any] = {}  # plain text -> value, read directly by the hot loop
        self._lock = threading.Lock()

    def value(self, text: str) -> Any:
        """The value of a plain (unquoted, untagged) scalar."""
        try:
            return self.known[text]
        except KeyError:
            pass
        tag = str(self._resolver.resolve(ScalarNode, text, _PLAIN))
        if tag == _STR_TAG:
            value: Any = text
        else:
            construct: Callable[[Any, Any], Any] | None = self._constructor.yaml_constructors.get(tag)
            if construct is None or tag.endswith(":merge"):
                raise GiveUp(tag)
            value = construct(self._constructor, ScalarNode(tag, text))
        with self._lock:
            if len(self.known) >= _CACHE_MAX:
                self.known.clear()
            self.known[text] = value
        return value


class LineCol:
    """Where a located container starts (``line``, ``col``) and where its keys or items start (0-based line,
    column): the part of ruamel's round-trip ``.lc`` that :func:`harness.yamlio.line_of` and the renderer's
    descriptor loader read."""

    __slots__ = ("col", "data", "line")

    def __init__(self, line: int, col: int) -> None:
        self.line = line
        self.col = col
        self.data: dict[Any, tuple[int, int]] = {}

    def key(self, key: Any) -> tuple[int, int]:
        """Line and column of a mapping key."""
        return self.data[key]

    def item(self, index: int) -> tuple[int, int]:
        """Line and column of a sequence item."""
        return self.data[index]


class LocatedMap(dict[Any, Any]):
    """A plain ``dict`` that knows where it and each of its keys start (``.lc``)."""

    __slots__ = ("lc",)

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.lc = LineCol(line, col)


class LocatedSeq(list[Any]):
    """A plain ``list`` that knows where it and each of its items start (``.lc``)."""

    __slots__ = ("lc",)

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.lc = LineCol(line, col)


def load_plain(text: str, scalars: PlainScalars, *, max_nodes: int, located: bool = False,
               block_scalars: bool = True) -> list[Any] | None:
    """Every non-empty document of ``text``, or ``None`` when the full loader must decide (module docstring).

    With ``located``, mappings and sequences are :class:`LocatedMap`/:class:`LocatedSeq` carrying the line
    of every key and item, like round-trip data; block scalars come back as plain ``str`` (the round-trip
    loader's are ``str`` subclasses), or, without ``block_scalars``, make it give up.
    """
    try:
        return _build(CParser(text), scalars, max_nodes, located, block_scalars)
    except Exception:  # GiveUp, or a parse error the full loader reports with its location
        return None


def _build(parser: Any, scalars: PlainScalars, max_nodes: int, located: bool, block_scalars: bool) -> list[Any]:
    """Build the documents from ``parser``'s events (the hot loop: locals only, no helper calls per node)."""
    docs: list[Any] = []
    open_nodes: list[Any] = []  # the collections being filled, innermost last
    pending: list[Any] = []  # per open collection: the key waiting for its value (_NO_KEY: none)
    root: Any = None
    nodes = 0
    get = parser.get_event
    value_of = scalars.value
    known = scalars.known
    while True:
        event = get()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise GiveUp("tag or anchor")
            if not block_scalars and event.style in _BLOCK_STYLES:
                raise GiveUp("block scalar")
            value: Any = event.value
            if event.implicit[0]:  # plain: resolve (memoized)
                value = known.get(value, _UNKNOWN)
                if value is _UNKNOWN:
                    value = value_of(event.value)
            is_scalar = True
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                raise GiveUp("tag or anchor")
            if located:
                mark = event.start_mark
                value = (LocatedMap if kind is MappingStartEvent else LocatedSeq)(mark.line, mark.column)
            else:
                value = {} if kind is MappingStartEvent else []
            is_scalar = False
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            open_nodes.pop()
            pending.pop()
            continue
        elif kind is DocumentStartEvent:
            if getattr(event, "version", None) is not None or getattr(event, "tags", None):
                raise GiveUp("directive")
            root = None
            continue
        elif kind is DocumentEndEvent:
            if root is not None or located:  # located loads count every document, empty ones too
                docs.append(root)
            continue
        elif kind is StreamStartEvent:
            continue
        elif kind is StreamEndEvent:
            return docs
        else:  # an alias
            raise GiveUp(kind.__name__)
        nodes += 1
        if nodes > max_nodes:
            raise GiveUp("too many nodes")
        if open_nodes:
            parent = open_nodes[-1]
            if isinstance(parent, list):
                if located:
                    mark = event.start_mark
                    parent.lc.data[len(parent)] = (mark.line, mark.column)  # type: ignore[attr-defined]
                parent.append(value)
            else:
                key = pending[-1]
                if key is _NO_KEY:
                    if not is_scalar or value in parent or value == _MERGE_KEY:
                        raise GiveUp("non-scalar, duplicate or merge key")
                    if located:
                        mark = event.start_mark
                        parent.lc.data[value] = (mark.line, mark.column)
                    pending[-1] = value
                else:
                    parent[key] = value
                    pending[-1] = _NO_KEY
        else:
            root = value
        if not is_scalar:
            if len(open_nodes) >= MAX_DEPTH:
                raise GiveUp("too deep")  # the full loader reports it, located
            open_nodes.append(value)
            pending.append(_NO_KEY)


class _NoKey:
    """Marks a mapping that waits for its next key."""


_NO_KEY = _NoKey()
_UNKNOWN = object()


_ONE_PAIR = (StreamStartEvent, DocumentStartEvent, MappingStartEvent, ScalarEvent, ScalarEvent, MappingEndEvent,
             DocumentEndEvent, StreamEndEvent)


@functools.lru_cache(maxsize=4)
def _resolver(version: Version) -> VersionedResolver:
    """ruamel's implicit resolver of one YAML version (built once)."""
    return VersionedResolver(version=version)


def reads_as_string(document: str, key: str, expected: str, versions: tuple[Version, ...]) -> bool:
    """True when ``document`` surely reads as ``{key: expected}`` with a string value under every YAML version
    of ``versions`` (libyaml parses, ruamel's resolver of each version types the plain scalars); False when
    unsure: anything but one mapping of one scalar pair, an explicit tag, a parse error."""
    parser = CParser(document)
    events: list[Any] = []
    try:
        for kind in _ONE_PAIR:
            event = parser.get_event()
            if type(event) is not kind:
                return False
            events.append(event)
    except Exception:
        return False
    finally:
        parser.dispose()
    if events[2].tag not in (None, "!"):
        return False
    for event, text in ((events[3], key), (events[4], expected)):
        if event.value != text or event.tag not in (None, "!"):
            return False
        if event.implicit[0] and any(str(_resolver(version).resolve(ScalarNode, text, _PLAIN)) != _STR_TAG
                                     for version in versions):
            return False
    return True
