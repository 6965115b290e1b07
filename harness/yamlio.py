"""Safe YAML reading shared by every loader: size, encoding, duplicate keys, alias bombs, one-line errors.

Comparison loads use ruamel.yaml's C-accelerated safe loader with YAML 1.1 scalar rules, because the
last reader of every manifest is Kubernetes' ``sigs.k8s.io/yaml`` (go-yaml v2, YAML 1.1): ``on`` and
``yes`` are booleans and ``0755`` is octal there. Round-trip loads (line numbers, comments) are for
small human-edited inputs (configs, descriptors, inventories) and for writing fixtures back.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _ruamel_yaml import CParser
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError, YAMLFutureWarning, YAMLWarning
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from harness.errors import InputError
from harness.nesting import DEPTH_HINT, MAX_DEPTH, depth_message
from harness.safe_read import decode_text as decode_text  # re-exported: callers read text through yamlio
from harness.safe_read import read_regular
from harness.yamlfast import PARSERS_MAY_DIFFER, PlainScalars, load_plain

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_NODES = 1_000_000

KeyPath = tuple[str | int, ...]

_local = threading.local()
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_DUP_KEY = re.compile(r'found duplicate key "(?P<key>[^"]{0,80})')


_RESOLVED: dict[tuple[Any, str], Any] = {}
_RESOLVED_MAX = 50_000


class _MemoResolver(VersionedResolver):
    """ruamel's resolver, with the implicit tag of a plain scalar memoized per (YAML version, text).

    Resolving a plain scalar (matching it against the version's implicit-resolver regexes) is the
    largest per-node cost of a safe load; the result depends only on the version and the text, and the
    same keys and values recur in every manifest. Resolved tags are never mutated, so they are shared.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            key = (self.processing_version, value)
            tag = _RESOLVED.get(key)
            if tag is None:
                if len(_RESOLVED) >= _RESOLVED_MAX:
                    _RESOLVED.clear()
                tag = _RESOLVED[key] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


def _safe_loader() -> YAML:
    loader: YAML | None = getattr(_local, "safe", None)
    if loader is None:
        loader = YAML(typ="safe", pure=False)
        loader.Resolver = _MemoResolver
        loader.version = (1, 1)
        # YAML 1.1 resolves a plain `=` to the `value` type, which has no constructor; go-yaml (and so
        # Kubernetes and kustomize) read it as the string "=" (e.g. Alertmanager `matchType: =`).
        loader.constructor.add_constructor("tag:yaml.org,2002:value", _construct_plain_string)
        _local.safe = loader
    return loader


def _construct_plain_string(constructor: Any, node: Any) -> str:
    return str(node.value)


def _rt_loader() -> YAML:
    loader: YAML | None = getattr(_local, "rt", None)
    if loader is None:
        loader = YAML(typ="rt")
        _local.rt = loader
    return loader


def read_text(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, display: str | None = None) -> str:
    """Read a UTF-8 text file, refusing symlinks, non-regular files (FIFOs, devices, directories), oversize,
    binary and non-UTF-8 content; every failure is one located line (see :mod:`harness.safe_read`)."""
    name = display or str(path)
    return decode_text(read_regular(path, max_bytes=max_bytes, display=name, follow_symlinks=False), name)


def yaml_error(exc: YAMLError, name: str, text: str = "") -> InputError:
    """Translate a ruamel error into a one-line InputError that never echoes scalar values."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    column = mark.column + 1 if mark is not None else 0
    message = str(exc)
    dup = _DUP_KEY.search(message)
    if dup:
        return InputError("YAML-DUPLICATE-KEY", f"duplicate key '{dup.group('key')}'", file=name, line=line,
                          column=column, hint="remove or rename one of the two keys")
    problem = getattr(exc, "problem", None) if isinstance(exc, MarkedYAMLError) else None
    detail = (problem or (message.splitlines() or ["syntax error"])[0]).strip()
    # Parser messages may quote the offending scalar; a value could be a secret, so drop every quoted part.
    detail = _QUOTED.sub("…", detail)
    source_lines = text.splitlines()
    bad_line = source_lines[line - 1] if 0 < line <= len(source_lines) else ""
    indent = bad_line[: len(bad_line) - len(bad_line.lstrip())]
    if "\t" in indent or "\t" in detail or "tab" in detail.lower():
        hint = "indent with spaces, not tabs"
    else:
        hint = "fix the YAML syntax at this position"
    return InputError("YAML-INVALID", detail[:160], file=name, line=line, column=column, hint=hint)


def _check_expansion(docs: list[Any], name: str, max_nodes: int) -> None:
    """Reject recursive aliases and documents whose alias-expanded size exceeds ``max_nodes`` (billion laughs)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise InputError("YAML-ALIAS-BOMB", "recursive alias (a node contains itself)", file=name,
                             hint="remove the alias that refers to its own anchor")
        active.add(key)
        children = (v for pair in node.items() for v in pair) if isinstance(node, dict) else iter(node)
        total = 1
        for child in children:
            total += size(child)
            if total > max_nodes:
                break
        active.discard(key)
        sizes[key] = total
        return total

    total = 0
    for doc in docs:
        total += size(doc)
        if total > max_nodes:
            raise InputError("YAML-ALIAS-BOMB", f"expands to over {max_nodes} nodes", file=name,
                             hint="remove the recursive anchors/aliases")


_QUIET = [("ignore", None, category, None, 0) for category in (YAMLWarning, YAMLFutureWarning)]


def _quiet_yaml_warnings() -> None:
    """Keep ruamel's warnings off stderr: they quote the document around the problem (a reused anchor, a
    YAML 1.1 float without a dot such as ``1e3``...), and a quoted line may hold a secret value. Neither is
    an error for go-yaml either. Global filters, kept in front of any ``error`` filter a caller (pytest
    ``-W error``) put there, and put back when a caller restored an older filter list."""
    filters = warnings.filters
    if len(filters) < 2 or filters[0] not in _QUIET or filters[1] not in _QUIET:
        for entry in _QUIET:
            warnings.filterwarnings("ignore", category=entry[2])  # moves an existing entry to the front


def check_depth(text: str, name: str, limit: int = MAX_DEPTH) -> None:
    """Refuse (``YAML-TOO-DEEP``, located) YAML nesting more than ``limit`` mappings/sequences, an alias counting
    with the height of its anchored node. One pass over the C parser's events, without recursion; text the C
    parser refuses is left to the loader, which reports the syntax error."""
    heights: dict[Any, int] = {}
    open_nodes: list[list[Any]] = []  # per open collection: [anchor, height of its tallest child]
    parser = CParser(text)
    try:
        while True:
            try:
                event = parser.get_event()
            except Exception:  # a syntax error: the loader reports it, located
                return
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                open_nodes.append([event.anchor, 0])
                if len(open_nodes) > limit:
                    raise _too_deep(name, event, limit)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                anchor, tallest = open_nodes.pop()
                _note_height(open_nodes, heights, anchor, tallest + 1)
            elif kind is ScalarEvent:
                _note_height(open_nodes, heights, event.anchor, 0)
            elif kind is AliasEvent:
                height = heights.get(event.anchor, 0)
                if len(open_nodes) + height > limit:
                    raise _too_deep(name, event, limit)
                _note_height(open_nodes, heights, None, height)
            elif kind is StreamEndEvent:
                return
    finally:
        parser.dispose()


def _note_height(open_nodes: list[list[Any]], heights: dict[Any, int], anchor: Any, height: int) -> None:
    if anchor is not None:
        heights[anchor] = height
    if open_nodes and open_nodes[-1][1] < height:
        open_nodes[-1][1] = height


def _too_deep(name: str, event: Any, limit: int) -> InputError:
    mark = event.start_mark
    return InputError("YAML-TOO-DEEP", depth_message(limit), file=name, line=mark.line + 1, column=mark.column + 1,
                      hint=DEPTH_HINT)


def _parse(loader: YAML, text: str, name: str, *, many: bool) -> list[Any]:
    """Run a ruamel loader, turning every failure into a one-line InputError without scalar values."""
    _quiet_yaml_warnings()
    check_depth(text, name)
    try:
        if many:
            return [d for d in loader.load_all(text) if d is not None]
        return [loader.load(text)]
    except YAMLError as exc:
        raise yaml_error(exc, name, text) from None
    except RecursionError:
        raise InputError("YAML-TOO-DEEP", depth_message(), file=name, hint=DEPTH_HINT) from None
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        # Constructors of explicitly tagged scalars (!!int abc, !!timestamp x) raise plain errors whose text
        # quotes the value: report the kind of problem only.
        raise InputError("YAML-INVALID", f"a tagged scalar cannot be constructed ({type(exc).__name__})",
                         file=name, hint="remove the explicit !!tag or fix the value it tags") from None
    except IndexError:
        # ruamel's int constructor fails on plain scalars its resolver takes for numbers (``+_``, ``0o_``)
        raise InputError("YAML-INVALID", "a plain scalar looks like a number but is not one", file=name,
                         hint="quote the value") from None


def _scalars(*, roundtrip: bool) -> PlainScalars:
    """This thread's plain-scalar values for the fast paths: the safe loader's (YAML 1.1, for
    :func:`load_documents`) or the round-trip loader's (YAML 1.2, for :func:`load_located`)."""
    attribute = "rt_scalars" if roundtrip else "scalars"
    scalars: PlainScalars | None = getattr(_local, attribute, None)
    if scalars is None:
        scalars = PlainScalars(_rt_loader() if roundtrip else _safe_loader())
        setattr(_local, attribute, scalars)
    return scalars


def load_documents(text: str, name: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> list[Any]:
    """Parse all documents (YAML 1.1 scalars, C loader); empty documents are dropped.

    Plain documents take the event-driven fast path (:mod:`harness.yamlfast`); anything else, including
    every error, goes through ruamel's full safe loader, so both paths give the same data and messages.
    """
    _quiet_yaml_warnings()
    fast = load_plain(text, _scalars(roundtrip=False), max_nodes=max_nodes)
    if fast is not None:
        return fast
    return load_documents_full(text, name, max_nodes=max_nodes)


class DocumentMemo:
    """Parsed documents by source (text or bytes), least recently used first out, bounded by total source size.

    For a caller that parses the same sources again and again (the comparison: most rendered outputs, and
    many oracle files, repeat across clusters). ``parse(source, name)`` does the parsing (default
    :func:`load_documents`). Only successful parses are kept (an error is re-raised with the caller's
    name each time); sources over ``max_text`` are never kept, so the memo holds at most about ``budget``
    characters or bytes of source.
    """

    def __init__(self, *, budget: int = 4 << 20, max_text: int = 256 << 10,
                 parse: Callable[[Any, str], list[Any]] | None = None) -> None:
        self.budget = budget
        self.max_text = max_text
        self._parse: Callable[[Any, str], list[Any]] = parse if parse is not None else load_documents
        self._entries: OrderedDict[str | bytes, tuple[Any, ...]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def documents(self, source: str | bytes, name: str, *, private: bool = False) -> list[Any]:
        """The documents of ``source`` (errors name ``name``).

        The lists and mappings inside are shared with every other caller and must not be modified, unless
        ``private`` is set: then the caller gets its own copy. A source with an anchor (``&``) is then parsed
        afresh, because a copy would turn aliases of one node into separate nodes.
        """
        if private and _has_anchor(source):
            return self._parse(source, name)
        with self._lock:
            docs = self._entries.get(source)
            if docs is not None:
                self._entries.move_to_end(source)
        if docs is None:
            docs = tuple(self._parse(source, name))
            if len(source) <= self.max_text:
                self._keep(source, docs)
        return [copy_plain(d) for d in docs] if private else list(docs)

    def _keep(self, source: str | bytes, docs: tuple[Any, ...]) -> None:
        with self._lock:
            if source in self._entries:
                return
            self._entries[source] = docs
            self._size += len(source)
            while self._size > self.budget and self._entries:
                old, _ = self._entries.popitem(last=False)
                self._size -= len(old)


def _has_anchor(source: str | bytes) -> bool:
    return b"&" in source if isinstance(source, bytes) else "&" in source


def copy_plain(value: Any) -> Any:
    """A copy of a loaded document in which every mapping and sequence is new (scalars are immutable)."""
    if isinstance(value, dict):
        return {key: copy_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_plain(item) for item in value]
    return value




def load_documents_with(loader: YAML, text: str, name: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> list[Any]:
    """Every non-empty document through a caller's ruamel loader (its own scalar rules, e.g.
    :mod:`harness.scalars`), with this module's checks and one-line errors."""
    docs = _parse(loader, text, name, many=True)
    _check_expansion(docs, name, max_nodes)
    return docs


def load_documents_full(text: str, name: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> list[Any]:
    """:func:`load_documents` through ruamel's full safe loader only (the reference the fast path is held to)."""
    docs = _parse(_safe_loader(), text, name, many=True)
    _check_expansion(docs, name, max_nodes)
    return docs


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, display: str | None = None) -> list[Any]:
    """Read and parse every document of a YAML file."""
    name = display or str(path)
    return load_documents(read_text(path, max_bytes=max_bytes, display=name), name)


def load_roundtrip(text: str, name: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> Any:
    """Parse one document keeping comments and line information (``.lc``); for human-edited inputs."""
    loader = _rt_loader()
    try:
        data = _parse(loader, text, name, many=False)[0]
    finally:
        _forget_directives(loader)
    _check_expansion([data], name, max_nodes)
    return data


def _forget_directives(loader: YAML) -> None:
    """Undo what a ``%YAML`` directive left on a reused ruamel loader: it keeps the version on itself and on
    its scanner, so every later text without a directive (and :func:`load_located`'s scalars, resolved with
    this loader's resolver) would be read under that version instead of YAML 1.2."""
    loader.version = None
    scanner = getattr(loader, "_scanner", None)
    if scanner is not None:
        scanner.yaml_version = None


def load_located(text: str, name: str, *, max_nodes: int = DEFAULT_MAX_NODES,
                 block_scalars_as_str: bool = True) -> Any:
    """:func:`load_roundtrip`'s data and line information (for :func:`line_of`) at the speed of the C parser.

    The same values as the round-trip loader (YAML 1.2 scalars) in plain dicts and lists that carry
    ``.lc`` (``line``/``col`` of the container, ``key()``/``item()`` of its entries); documents with
    anchors, tags, merge keys, errors, or characters the C parser reads differently from the round-trip
    parser (tabs, NEL/LS/PS) go through :func:`load_roundtrip` itself. Block scalars (``|``, ``>``) come
    back as plain ``str``; with ``block_scalars_as_str=False`` such documents go through
    :func:`load_roundtrip` too, for callers that tell its ``str`` subclasses apart. For inputs that are
    read, validated and located, never written back.
    """
    _quiet_yaml_warnings()
    if PARSERS_MAY_DIFFER.search(text):
        return load_roundtrip(text, name, max_nodes=max_nodes)
    fast = load_plain(text, _scalars(roundtrip=True), max_nodes=max_nodes, located=True,
                      block_scalars=block_scalars_as_str)
    if fast is not None and len(fast) <= 1:
        return fast[0] if fast else None
    return load_roundtrip(text, name, max_nodes=max_nodes)


_NOT_LOCATED = (KeyError, IndexError, TypeError, AttributeError)


def _line_in(lc: Any, part: Any) -> int:
    """The 1-based line where ``.lc`` data puts a sequence index or mapping key (raises when it has none)."""
    line: int = (lc.item(part) if isinstance(part, int) else lc.key(part))[0] + 1
    return line


def line_of(data: Any, path: KeyPath) -> int:
    """Best-effort 1-based line of a key path in round-trip or located data (0 if unknown): the line of
    the deepest part of ``path`` that is found."""
    node = data
    line = 0
    for part in path:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                line = _line_in(lc, part)
            node = node[part]
        except _NOT_LOCATED:
            break
    return line


def key_lines(data: Any) -> dict[KeyPath, int]:
    """:func:`line_of` of every key path of ``data`` (each mapping key and sequence index, nested), in one
    walk instead of one walk from the top per path."""
    lines: dict[KeyPath, int] = {}

    def walk(node: Any, path: KeyPath, line: int, located: bool) -> None:
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        lc = getattr(node, "lc", None) if located else None
        for part, child in children:
            here, found = line, located
            if lc is not None:
                try:
                    here = _line_in(lc, part)
                except _NOT_LOCATED:
                    found = False  # line_of stops here: this path and all below it keep the parent's line
            child_path = (*path, part)
            lines[child_path] = here
            walk(child, child_path, here, found)

    walk(data, (), 0, True)
    return lines


def iter_paths(data: Any, prefix: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Yield (key path, scalar value) for every leaf of plain YAML data, depth first in document order
    (iterative: no recursion, whatever the depth)."""
    stack: list[tuple[KeyPath, Any]] = [(prefix, data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(reversed([((*path, str(key)), value) for key, value in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([((*path, index), value) for index, value in enumerate(node)]))
        else:
            yield path, node
