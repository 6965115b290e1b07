"""The differences of one cluster as data: what ``propose`` (and anyone drafting rules) starts from.

:func:`cluster_differences` pairs the rendered tree with the fixture tree under the current rules
(:mod:`harness.pairing`, exactly as ``check`` does) and lists, per file, what differs:

- ``missing`` (the fixture has it, the renderer does not) and ``extra`` (rendered only), each with the
  rename candidates found by content (:func:`find_renames`: equal bytes, equal YAML data, or close text);
- ``content``: the field differences of a YAML pair, each with its exact RFC 6901 pointer (array
  indices included), its dotted key path, the operation (changed/added/removed, or a whole document
  missing/unexpected), the document's kind and label, and the line in the fixture file; a non-YAML pair
  is ``content`` without fields;
- ``parse``: a side that does not parse; ``reordered``: equal documents in another order.

Values are never included (they may be secret); only where they differ.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.change_lines import change_line, document_lines
from harness.errors import InputError
from harness.file_compare import compare_contents
from harness.inventory import RuleSet
from harness.pairing import pair_trees
from harness.tree import list_files, read_file, walk_tree
from harness.yamlcompare import format_change, format_path, is_yaml_path, parse_side

SIMILAR = 0.6  # smallest text similarity for a rename whose content also changed


@dataclass(frozen=True)
class FieldDifference:
    """One field that differs inside a YAML file pair (``op``: changed, added, removed, doc-missing,
    doc-unexpected; ``pointer`` is '' for a whole document)."""

    op: str
    pointer: str
    key_path: str
    doc: str
    doc_kind: str
    fixture_line: int
    text: str  # the redacted diff line


@dataclass(frozen=True)
class Difference:
    """One file of one cluster that does not pass as it is."""

    cluster: str
    kind: str  # missing | extra | content | parse | reordered
    fixture_path: str
    rendered_path: str
    rules: tuple[str, ...] = ()  # the rules already applied to the pair
    fields: tuple[FieldDifference, ...] = ()
    renamed_from: tuple[str, ...] = ()  # missing: rendered-only paths whose content says "the same file"
    renamed_to: tuple[str, ...] = ()  # extra: fixture-only paths whose content says "the same file"
    detail: str = ""


@dataclass
class ClusterDifferences:
    """Every difference of one cluster, in path order."""

    cluster: str
    differences: list[Difference] = field(default_factory=list)


def _similarity(path: str, a: bytes, b: bytes) -> float:
    if a == b:
        return 1.0
    try:
        if is_yaml_path(path) and parse_side(a, "a") == parse_side(b, "b"):
            return 0.99
    except InputError:
        pass
    matcher = difflib.SequenceMatcher(None, a.decode("utf-8", "replace").splitlines(),
                                      b.decode("utf-8", "replace").splitlines(), autojunk=False)
    return matcher.quick_ratio() and matcher.ratio()


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def find_renames(rendered_only: Mapping[str, bytes], fixture_only: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(rendered path, fixture path) pairs whose content says they are one file renamed: equal bytes first,
    then equal YAML data, then the most similar text (at least :data:`SIMILAR`); each path used once."""
    scored: list[tuple[float, str, str]] = []
    for r_path, r_data in rendered_only.items():
        for f_path, f_data in fixture_only.items():
            if _suffix(r_path) != _suffix(f_path):
                continue
            score = _similarity(r_path, r_data, f_data)
            if score >= SIMILAR:
                scored.append((score, r_path, f_path))
    pairs: list[tuple[str, str]] = []
    used: set[str] = set()
    for _score, r_path, f_path in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if r_path in used or f_path in used:
            continue
        used.update((r_path, f_path))
        pairs.append((r_path, f_path))
    return pairs


def cluster_differences(cluster: str, rendered: Path | Mapping[str, bytes], fixture_root: Path, ruleset: RuleSet,
                        *, max_file_bytes: int) -> ClusterDifferences:
    """The differences of one cluster (see the module docstring); ``rendered`` is the rendered overlay
    directory or an in-memory render. Bad trees raise InputError as ``check`` does."""
    if isinstance(rendered, Mapping):
        listing = list_files(rendered, max_file_bytes=max_file_bytes, display=f"rendered:{cluster}")
        files = rendered

        def read_rendered(rel: str) -> bytes:
            return files[rel]
    else:
        root = rendered
        listing = walk_tree(root, max_file_bytes=max_file_bytes, display=f"rendered:{cluster}", sizes=False)

        def read_rendered(rel: str) -> bytes:
            return read_file(root, rel, max_file_bytes=max_file_bytes)

    fixture_tree = walk_tree(fixture_root, max_file_bytes=max_file_bytes, display=str(fixture_root), sizes=False)

    def read_fixture(rel: str) -> bytes:
        return read_file(fixture_root, rel, max_file_bytes=max_file_bytes)

    result = ClusterDifferences(cluster)
    pairing = pair_trees(ruleset, listing.owned, fixture_tree.owned)
    missing = {p.key: read_fixture(p.key) for p in pairing.pairs if not p.rendered_path}
    extra = {p.rendered_path: read_rendered(p.rendered_path) for p in pairing.pairs if not p.in_fixture}
    renames = find_renames(extra, missing)
    for pair in pairing.pairs:
        rules = tuple(r.id for r in pair.rules)
        if not pair.rendered_path:
            result.differences.append(Difference(cluster, "missing", pair.key, "", rules,
                                                 renamed_from=tuple(r for r, f in renames if f == pair.key)))
            continue
        if not pair.in_fixture:
            result.differences.append(Difference(cluster, "extra", pair.key, pair.rendered_path, rules,
                                                 renamed_to=tuple(f for r, f in renames if r == pair.rendered_path)))
            continue
        fixture = read_fixture(pair.key)
        comparison, _ = compare_contents(read_rendered(pair.rendered_path), pair.rendered_path, fixture, pair.key,
                                         pair.content_rules)
        if pair.presence_only or (comparison.equal and not comparison.reordered):
            continue
        if comparison.parse_failures:
            result.differences.append(Difference(cluster, "parse", pair.key, pair.rendered_path, rules,
                                                 detail="; ".join(p.message for p in comparison.parse_failures)))
            continue
        if comparison.equal:
            result.differences.append(Difference(cluster, "reordered", pair.key, pair.rendered_path, rules))
            continue
        lines = document_lines(fixture.decode("utf-8", "replace")) if comparison.changes else None
        fields = tuple(FieldDifference(c.op, c.pointer if c.path else "", format_path(c.path) if c.path else "",
                                       c.doc, c.kind if isinstance(c.kind, str) else "", change_line(lines, c),
                                       format_change(c))
                       for c in comparison.changes)
        result.differences.append(Difference(cluster, "content", pair.key, pair.rendered_path, rules, fields,
                                             detail=comparison.summary))
    return result
