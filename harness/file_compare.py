"""One rendered file against one oracle file: equal bytes first, then YAML as data under the pair's
normalizing rules (:mod:`harness.yamlcompare`), with plain "equal as data" answers remembered across
processes (:data:`KNOWN_EQUAL`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from harness.digest_store import DigestStore, code_stamp, digest
from harness.inventory import Rule
from harness.normalizers import DocumentNormalizer
from harness.tree import read_file
from harness.yamlcompare import FileComparison, compare_bytes

IDENTICAL = FileComparison(equal=True, byte_identical=True)

KNOWN_EQUAL = DigestStore("equal-pairs", lambda: code_stamp("harness"))
"""File pairs found equal as data by earlier processes of the same code (:mod:`harness.digest_store`): the
digest of both paths, both contents and every normalizing rule as written, with the ids of the rules that
made a difference. Only a plain "equal" is kept (never a difference, a parse failure or a reordering,
which are worked out and worded every time); no content is stored."""


def compare_contents(rendered: bytes, rendered_path: str, fixture: bytes, fixture_path: str,
                     rules: Iterable[Rule] = (), *, remember: bool = True) -> tuple[FileComparison, set[str]]:
    """Compare one rendered file's bytes with one fixture file's bytes under normalizing ``rules``
    (``yaml_remove``). Returns the comparison and the ids of the rules that made a difference.

    A pair whose bytes differ but that an earlier run of the same code found equal as data
    (:data:`KNOWN_EQUAL`) is not parsed again. Without ``remember`` a new "equal" is not kept (a pair whose
    rendered bytes change from run to run, e.g. with the render time, would only grow the store).
    """
    if rendered == fixture:  # the common case: no rule can make equal bytes differ
        return IDENTICAL, set()
    rules = tuple(rules)
    key = digest(rendered_path.encode(), fixture_path.encode(), rules_key(rules), rendered, fixture)
    known = KNOWN_EQUAL.get(key)
    if known is not None:
        return EQUAL_AS_DATA, set(known.decode().split("\n")) - {""}
    normalizer = DocumentNormalizer(rules) if rules else None
    result = compare_bytes(rendered, fixture, fixture_path, normalize=normalizer,
                           rendered_name=f"rendered:{rendered_path}", fixture_name=f"fixture:{fixture_path}")
    effective = normalizer.effective if normalizer is not None else set()
    if remember and result.equal and result.parsed and not (result.reordered or result.parse_failures
                                                            or result.changes):
        KNOWN_EQUAL.add(key, "\n".join(sorted(effective)).encode())
    return result, effective


EQUAL_AS_DATA = FileComparison(equal=True, parsed=True)


def rules_key(rules: tuple[Rule, ...]) -> bytes:
    """Every normalizing rule as written (not where: file and line do not change what it does); worked out
    once per rule list of a run (the list is held with its text, so its ids stay its own)."""
    if not rules:
        return b""
    ids = tuple(map(id, rules))
    known = _RULES_KEYS.get(ids)
    if known is None:
        if len(_RULES_KEYS) > 4096:
            _RULES_KEYS.clear()
        text = json.dumps([r.as_written() for r in rules], sort_keys=True, default=str).encode()
        known = _RULES_KEYS[ids] = (rules, text)
    return known[1]


_RULES_KEYS: dict[tuple[int, ...], tuple[tuple[Rule, ...], bytes]] = {}


def compare_pair(rendered_root: Path, rendered_path: str, fixture_root: Path, fixture_path: str,
                 rules: Iterable[Rule] = (), *, max_file_bytes: int) -> tuple[FileComparison, set[str]]:
    """Read one rendered file and one fixture file from disk and :func:`compare_contents` them.

    Used by ``overlay-parity diff``/``explain`` and ``--parity-update`` for single files.
    """
    rendered = read_file(rendered_root, rendered_path, max_file_bytes=max_file_bytes)
    fixture = read_file(fixture_root, fixture_path, max_file_bytes=max_file_bytes)
    return compare_contents(rendered, rendered_path, fixture, fixture_path, rules)


def equal_as_data(comparison: FileComparison) -> bool:
    """Bytes differ, but the sides are equal as data, in the same order, with nothing unparsed."""
    return (comparison.equal and comparison.parsed and not comparison.byte_identical and not comparison.reordered
            and not comparison.parse_failures and not comparison.changes)


def flush_known_equal() -> None:
    """Write the "equal as data" answers found since the last flush (:meth:`DigestStore.flush`)."""
    KNOWN_EQUAL.flush()
