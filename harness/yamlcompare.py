"""Compare one rendered file with its fixture file: bytes first, then YAML as data.

Order of work, cheapest first:
1. equal bytes -> equal, nothing is parsed;
2. a path that is not ``.yaml``/``.yml`` -> compared as bytes, with a first-differing-line summary;
3. YAML -> both sides parsed with :func:`harness.scalars.load_as_kustomize` (C loader; scalars as
   kustomize reads them: ``on``/``yes`` and ``1:00`` are strings, ``0o17``, ``017`` and ``15`` one number,
   ``1.0`` and ``1`` one JSON number, ``2001-12-14`` the timestamp text ``2001-12-14T00:00:00Z``). A side
   that does not parse is a parse failure in the result (a ``PARITY-PARSE`` finding), never a silent
   fallback to bytes.

YAML documents are compared as data: key order, quoting, comments, indentation and flow/block style
are ignored; scalar types (``1`` vs ``'1'``, ``true`` vs ``'true'``), list order and values are kept.
Documents are matched by identity ``(apiVersion, kind, metadata.namespace, metadata.name)`` when every
document on both sides has one and identities are unique per side (then a moved document is not a
difference); otherwise by position.

Direction: the fixture is the expected ("old") side, the rendered file the actual ("new") side.
``spec.ref.tag: 'v1.2.0' → 'v1.3.0'`` means the fixture has ``v1.2.0`` and the renderer produced
``v1.3.0``; ``added`` means only the rendered file has it, ``removed`` only the fixture.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from harness import redact
from harness.errors import InputError
from harness.keypath import key_path_text
from harness.pointers import format_pointer
from harness.scalars import load_as_kustomize
from harness.yamlio import DocumentMemo, decode_text

YAML_SUFFIXES = (".yaml", ".yml")
PathT = tuple[str | int, ...]
Normalizer = Callable[[list[Any], list[Any]], None]

MAX_VALUE_CHARS = 120


def is_yaml_path(path: str) -> bool:
    """Whether ``path`` is compared as YAML (by extension: ``.yaml``/``.yml``); everything else is bytes."""
    return path.lower().endswith(YAML_SUFFIXES)


# --------------------------------------------------------------------------------------------- identity

@dataclass(frozen=True)
class DocId:
    """A Kubernetes object identity."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def short(self) -> str:
        """``Kind namespace/name`` (or ``Kind name`` without a namespace)."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


def doc_id(doc: Any) -> DocId | None:
    """The identity of a document, or None when it lacks a string apiVersion, kind or metadata.name."""
    if not isinstance(doc, dict):
        return None
    api, kind, meta = doc.get("apiVersion"), doc.get("kind"), doc.get("metadata")
    if not isinstance(api, str) or not isinstance(kind, str) or not isinstance(meta, dict):
        return None
    name, namespace = meta.get("name"), meta.get("namespace")
    if not isinstance(name, str) or not (namespace is None or isinstance(namespace, str)):
        return None
    return DocId(api, kind, namespace, name)


def doc_kind(doc: Any) -> Any:
    """``kind`` of a document (None when absent) -- used for masking Secret data."""
    return doc.get("kind") if isinstance(doc, dict) else None


def doc_label(index: int, doc: Any) -> str:
    """``[doc 2 Kustomization flux-system/foo]`` (1-based position; identity when it has one)."""
    ident = doc_id(doc)
    if ident is not None:
        return f"[doc {index + 1} {ident.short()}]"
    kind = doc_kind(doc)
    return f"[doc {index + 1} {kind}]" if isinstance(kind, str) else f"[doc {index + 1}]"


# --------------------------------------------------------------------------------------------- changes

@dataclass(frozen=True)
class Change:
    """One difference. ``old`` is the fixture value, ``new`` the rendered value.

    ``op`` is ``changed``, ``added`` (rendered only), ``removed`` (fixture only), ``doc-missing``
    (a fixture document the rendered file lacks) or ``doc-unexpected`` (a rendered document the fixture
    lacks). ``doc`` is the document label, '' when both files hold a single document.
    """

    op: str
    path: PathT
    old: Any = None
    new: Any = None
    doc: str = ""
    kind: Any = None
    fixture_doc: int = -1  # position of the fixture document the change is in (-1: a rendered-only document)

    @property
    def pointer(self) -> str:
        """The RFC 6901 pointer of the change inside its document (array indices included)."""
        return format_pointer(self.path)


def _key(key: Any) -> str:
    """A mapping key as a path segment (non-string keys shown the way YAML writes them)."""
    if isinstance(key, str):
        return key
    return _scalar_text(key)


def _canon(value: Any) -> Any:
    """A hashable, type-preserving image of plain YAML data (for list alignment)."""
    if isinstance(value, dict):
        return ("map", tuple(sorted(((repr(k), _canon(v)) for k, v in value.items()), key=lambda kv: kv[0])))
    if isinstance(value, list):
        return ("seq", tuple(_canon(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, set):
        return ("set", tuple(sorted(repr(v) for v in value)))
    return (type(value).__name__, repr(value))


def _scalar_equal(old: Any, new: Any) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(old, float) and math.isnan(old) and math.isnan(new):
        return True
    return bool(old == new)


def diff_values(old: Any, new: Any, path: PathT = ()) -> Iterator[tuple[str, PathT, Any, Any]]:
    """Yield ``(op, path, old, new)`` for every difference between two plain YAML values."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            if key in new:
                yield from diff_values(value, new[key], (*path, _key(key)))
            else:
                yield "removed", (*path, _key(key)), value, None
        for key, value in new.items():
            if key not in old:
                yield "added", (*path, _key(key)), None, value
        return
    if isinstance(old, list) and isinstance(new, list):
        yield from _diff_lists(old, new, path)
        return
    if isinstance(old, (dict, list)) or isinstance(new, (dict, list)) or not _scalar_equal(old, new):
        yield "changed", path, old, new


def _diff_lists(old: list[Any], new: list[Any], path: PathT) -> Iterator[tuple[str, PathT, Any, Any]]:
    if len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from diff_values(a, b, (*path, index))
        return
    matcher = difflib.SequenceMatcher(a=[_canon(v) for v in old], b=[_canon(v) for v in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(common):
            yield from diff_values(old[i1 + k], new[j1 + k], (*path, j1 + k))
        for i in range(i1 + common, i2):
            yield "removed", (*path, i), old[i], None
        for j in range(j1 + common, j2):
            yield "added", (*path, j), None, new[j]


@dataclass(frozen=True)
class DocumentComparison:
    """The changes between two document lists and how documents were matched."""

    changes: tuple[Change, ...]
    matched_by: str  # "identity" or "position"
    reordered: bool = False

    @property
    def equal(self) -> bool:
        """No change at all."""
        return not self.changes


def _identities(docs: Sequence[Any]) -> list[DocId] | None:
    ids = [doc_id(d) for d in docs]
    if any(i is None for i in ids):
        return None
    clean = [i for i in ids if i is not None]
    return clean if len(set(clean)) == len(clean) else None


def compare_documents(rendered: Sequence[Any], fixture: Sequence[Any]) -> DocumentComparison:
    """Compare two parsed multi-document files (see the module docstring for matching rules)."""
    multi = len(rendered) > 1 or len(fixture) > 1
    changes: list[Change] = []
    rendered_ids, fixture_ids = _identities(rendered), _identities(fixture)
    if rendered_ids is not None and fixture_ids is not None and (rendered or fixture):
        where = {ident: index for index, ident in enumerate(rendered_ids)}
        seen: list[int] = []
        for f_index, ident in enumerate(fixture_ids):
            r_index = where.get(ident)
            if r_index is None:
                changes.append(Change("doc-missing", (), old=fixture[f_index], doc=doc_label(f_index, fixture[f_index]),
                                      kind=ident.kind, fixture_doc=f_index))
                continue
            seen.append(r_index)
            label = doc_label(f_index, fixture[f_index]) if multi else ""
            _collect(changes, fixture[f_index], rendered[r_index], label, f_index)
        fixture_set = set(fixture_ids)
        for r_index, ident in enumerate(rendered_ids):
            if ident not in fixture_set:
                changes.append(Change("doc-unexpected", (), new=rendered[r_index],
                                      doc=doc_label(r_index, rendered[r_index]), kind=ident.kind))
        return DocumentComparison(tuple(changes), "identity", reordered=seen != sorted(seen))
    for index in range(max(len(rendered), len(fixture))):
        if index >= len(rendered):
            changes.append(Change("doc-missing", (), old=fixture[index], doc=doc_label(index, fixture[index]),
                                  kind=doc_kind(fixture[index]), fixture_doc=index))
        elif index >= len(fixture):
            changes.append(Change("doc-unexpected", (), new=rendered[index], doc=doc_label(index, rendered[index]),
                                  kind=doc_kind(rendered[index])))
        else:
            label = doc_label(index, fixture[index]) if multi else ""
            _collect(changes, fixture[index], rendered[index], label, index)
    return DocumentComparison(tuple(changes), "position")


def _collect(changes: list[Change], old_doc: Any, new_doc: Any, label: str, fixture_doc: int) -> None:
    kind = doc_kind(old_doc) if doc_kind(old_doc) is not None else doc_kind(new_doc)
    for op, path, old, new in diff_values(old_doc, new_doc):
        changes.append(Change(op, path, old, new, doc=label, kind=kind, fixture_doc=fixture_doc))


# --------------------------------------------------------------------------------------------- formatting

def format_path(path: PathT) -> str:
    """``spec.values.replicas``, ``spec.dependsOn[0].name``, ``metadata.annotations["a.b/c"]``."""
    return key_path_text((_key(p) if not isinstance(p, int) else p for p in path), empty="(document)")


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        text = value.replace("\n", "\\n").replace("\t", "\\t")
        if len(text) > 60:
            text = text[:57] + "..."
        return "'" + text.replace("'", "''") + "'"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<binary {len(value)} bytes {redact.fingerprint(value)}>"
    return f"<{type(value).__name__}>"


def format_value(value: Any, path: PathT = (), *, kind: Any = None, limit: int = MAX_VALUE_CHARS) -> str:
    """A one-line, redacted rendering of a value found at ``path`` (mapping keys shown, masked leaves)."""
    text = _format(value, path, kind)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format(value: Any, path: PathT, kind: Any) -> str:
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)}: {_format(v, (*path, _key(k)), kind)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format(v, (*path, i), kind) for i, v in enumerate(value)) + "]"
    if redact.should_mask(path, value, doc_kind=kind):
        return redact.masked(value)
    return _scalar_text(value)


def format_change(change: Change, *, limit: int = MAX_VALUE_CHARS) -> str:
    """One redacted diff line, e.g. ``spec.ref.tag: 'v1.2.0' → 'v1.3.0'``."""
    prefix = f"{change.doc} " if change.doc else ""
    if change.op == "doc-missing":
        return f"{change.doc} missing"
    if change.op == "doc-unexpected":
        return f"{change.doc} unexpected"
    where = format_path(change.path)
    if change.op == "added":
        return f"{prefix}{where}: added {format_value(change.new, change.path, kind=change.kind, limit=limit)}"
    if change.op == "removed":
        return f"{prefix}{where}: removed {format_value(change.old, change.path, kind=change.kind, limit=limit)}"
    old = format_value(change.old, change.path, kind=change.kind, limit=limit)
    new = format_value(change.new, change.path, kind=change.kind, limit=limit)
    return f"{prefix}{where}: {old} → {new}"


def format_changes(changes: Sequence[Change], *, max_lines: int = 50) -> tuple[str, ...]:
    """Redacted diff lines, at most ``max_lines`` (then ``... and N more changes``)."""
    lines = [format_change(c) for c in changes[:max_lines]]
    if len(changes) > max_lines:
        lines.append(f"... and {len(changes) - max_lines} more changes")
    return tuple(lines)


# --------------------------------------------------------------------------------------------- files

@dataclass(frozen=True)
class ParseFailure:
    """One side that did not parse: ``side`` is ``rendered`` or ``fixture``; ``message`` is one line."""

    side: str
    code: str
    message: str  # InputError.one_line(): names the side's file and line, never a scalar value
    line: int = 0


@dataclass(frozen=True)
class FileComparison:
    """The outcome of comparing one file pair."""

    equal: bool
    byte_identical: bool = False
    parsed: bool = False
    changes: tuple[Change, ...] = ()
    summary: str = ""  # byte comparison: the first differing line, redacted
    parse_failures: tuple[ParseFailure, ...] = ()
    matched_by: str = ""
    reordered: bool = False

    def diff_lines(self, *, max_lines: int = 50) -> tuple[str, ...]:
        """Redacted diff lines for a finding."""
        if self.parse_failures:
            return tuple(p.message for p in self.parse_failures)
        if self.changes:
            return format_changes(self.changes, max_lines=max_lines)
        return (self.summary,) if self.summary else ()


def parse_side(data: bytes, name: str) -> list[Any]:
    """Decode and parse one side; raises InputError (FILE-BINARY, FILE-NOT-UTF8, YAML-*).

    Also refuses what the loader lets through but a comparison cannot handle: a scalar that does not
    fit its explicit tag (``!!int abc``) and a recursive alias (``&a [*a]``). Messages never quote values.
    """
    text = decode_text(data, name)
    try:
        docs = load_as_kustomize(text, name)
    except InputError as exc:
        raise InputError(exc.code, _QUOTED.sub(_mask_quoted, exc.message), file=name,
                         line=exc.location.line if exc.location else 0,
                         column=exc.location.column if exc.location else 0, hint=exc.hint) from None
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InputError("YAML-INVALID", "a scalar does not match its explicit tag (e.g. !!int, !!float, !!bool)",
                         file=name, hint="fix or remove the explicit tag") from None
    if "&" in text and _has_cycle(docs):
        raise InputError("YAML-INVALID", "a recursive alias makes a document contain itself", file=name,
                         hint="remove the recursive anchor/alias")
    return docs


_QUOTED = re.compile(r'"[^"]*"')


def _mask_quoted(match: re.Match[str]) -> str:
    return f'"{redact.masked(match.group(0)[1:-1])}"'


def _has_cycle(docs: list[Any]) -> bool:
    """Whether a container contains itself (possible only through YAML aliases)."""
    active: set[int] = set()
    done: set[int] = set()

    def visit(node: Any) -> bool:
        if not isinstance(node, (dict, list)):
            return False
        key = id(node)
        if key in active:
            return True
        if key in done:
            return False
        active.add(key)
        children = node.values() if isinstance(node, dict) else node
        found = any(visit(child) for child in children)
        active.discard(key)
        done.add(key)
        return found

    return any(visit(d) for d in docs)


# Both sides of every parsed pair, by bytes: a template renders the same text for many clusters, and oracle
# trees repeat too. Shared documents are only read (compare_documents does not modify them); a normalizer
# that edits documents gets private copies.
_PARSED = DocumentMemo(parse=parse_side)


def parse_private(data: bytes, name: str) -> list[Any]:
    """:func:`parse_side` through the shared memo, as a private copy the caller may edit (raises its
    InputError)."""
    return _PARSED.documents(data, name, private=True)


def compare_yaml_bytes(rendered: bytes, fixture: bytes, *, rendered_name: str = "rendered",
                       fixture_name: str = "fixture", normalize: Normalizer | None = None) -> FileComparison:
    """Compare two YAML files given as bytes. ``normalize(rendered_docs, fixture_docs)`` may edit the parsed
    documents in place before they are compared (canonicalization rules)."""
    if rendered == fixture:
        return FileComparison(equal=True, byte_identical=True)
    failures: list[ParseFailure] = []
    sides: list[list[Any]] = []
    for side, data, name in (("rendered", rendered, rendered_name), ("fixture", fixture, fixture_name)):
        try:
            sides.append(_PARSED.documents(data, name, private=normalize is not None))
        except InputError as exc:
            failures.append(ParseFailure(side, exc.code, exc.one_line(), exc.location.line if exc.location else 0))
            sides.append([])
    if failures:
        return FileComparison(equal=False, parse_failures=tuple(failures))
    rendered_docs, fixture_docs = sides
    try:
        if normalize is not None:
            normalize(rendered_docs, fixture_docs)
        result = compare_documents(rendered_docs, fixture_docs)
    except RecursionError:
        failure = ParseFailure("rendered", "YAML-INVALID",
                               f"{rendered_name}: YAML-INVALID: nesting too deep to compare")
        return FileComparison(equal=False, parse_failures=(failure,))
    return FileComparison(equal=result.equal, parsed=True, changes=result.changes, matched_by=result.matched_by,
                          reordered=result.reordered)


def compare_text_bytes(rendered: bytes, fixture: bytes) -> FileComparison:
    """Byte-exact comparison with a redacted first-differing-line summary."""
    if rendered == fixture:
        return FileComparison(equal=True, byte_identical=True)
    return FileComparison(equal=False, summary=first_difference(rendered, fixture))


def first_difference(rendered: bytes, fixture: bytes) -> str:
    """``line 3: 'old' → 'new'`` for the first differing line (redacted), or a size/hash line for binary."""
    if b"\x00" in rendered or b"\x00" in fixture:
        return (f"binary content differs: {len(fixture)} bytes {redact.fingerprint(fixture)} → "
                f"{len(rendered)} bytes {redact.fingerprint(rendered)}")
    new_lines = rendered.splitlines(keepends=True)
    old_lines = fixture.splitlines(keepends=True)
    for index in range(max(len(new_lines), len(old_lines))):
        if index >= len(new_lines):
            return f"line {index + 1}: removed {_line(old_lines[index])} (rendered file ends at line {index})"
        if index >= len(old_lines):
            return f"line {index + 1}: added {_line(new_lines[index])} (fixture ends at line {index})"
        if new_lines[index] != old_lines[index]:
            old, new = old_lines[index], new_lines[index]
            if old.rstrip(b"\r\n") == new.rstrip(b"\r\n"):
                return f"line {index + 1}: line endings differ ({_ending(old)} → {_ending(new)})"
            return f"line {index + 1}: {_line(old)} → {_line(new)}"
    return "content differs"  # unreachable when the bytes differ


def _line(raw: bytes) -> str:
    return "'" + redact.safe_line(raw.decode("utf-8", errors="replace"), limit=100) + "'"


def _ending(raw: bytes) -> str:
    if raw.endswith(b"\r\n"):
        return "CRLF"
    if raw.endswith(b"\n"):
        return "LF"
    return "no newline"


def compare_bytes(rendered: bytes, fixture: bytes, path: str, *, normalize: Normalizer | None = None,
                  rendered_name: str = "rendered", fixture_name: str = "fixture") -> FileComparison:
    """Compare one file pair by ``path`` type: YAML semantically, everything else byte-exact."""
    if is_yaml_path(path):
        return compare_yaml_bytes(rendered, fixture, rendered_name=rendered_name, fixture_name=fixture_name,
                                  normalize=normalize)
    return compare_text_bytes(rendered, fixture)
