"""Replaying a remembered clean comparison (:mod:`harness.cluster_memo`) instead of comparing a cluster again.

:func:`memo_key` names a comparison of an in-memory render by the oracle tree's stamp, the rules, the
security kinds and the size limit; :func:`remember_clean` keeps a comparison that found nothing;
:func:`replay` gives its result back when the render is the same but for its volatile pairs (files equal
to the oracle as data but not in bytes, e.g. a render-time annotation a ``yaml_remove`` rule drops) and
each of those is again equal as data. Anything else returns None, and the caller compares in full, which
words every finding and raises every error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness import cluster_memo
from harness.cluster_result import ClusterResult
from harness.file_compare import compare_contents, equal_as_data, rules_key
from harness.inventory import Rule, RuleSet
from harness.pairing import Pair
from harness.security import SecurityKinds, check_hidden, needs_judging
from harness.tree import read_file


def memo_key(cluster: str, fixture_root: Path, ruleset: RuleSet, security_kinds: Iterable[str] | None,
             max_file_bytes: int) -> tuple[bytes, bytes] | None:
    """The clean-comparison key of a cluster's in-memory render and the oracle tree's stamp (None: not
    remembered: caching off, or a tree that gets no stamp)."""
    if not cluster_memo.CLEAN.enabled():
        return None
    stamp = cluster_memo.oracle_stamp(os.path.abspath(fixture_root))
    if stamp is None:
        return None
    kinds = tuple(security_kinds) if security_kinds is not None else None
    return cluster_memo.memo_key(cluster, stamp, rules_key(ruleset.rules), kinds, max_file_bytes), stamp


def replay(cluster: str, files: Mapping[str, bytes], fixture_root: Path, ruleset: RuleSet, key: bytes,
           security_kinds: Iterable[str] | None, max_file_bytes: int) -> ClusterResult | None:
    """The result of a clean comparison remembered for ``key`` (:mod:`harness.cluster_memo`) when the render
    is the same but for its volatile pairs and each of those is again equal as data; None otherwise (the
    cluster is then compared in full, which words every finding and raises every error)."""
    record = cluster_memo.recall(key)
    if record is None or not record.volatile_paths <= files.keys() \
            or cluster_memo.rendered_digest(files, record.volatile_paths) != record.rendered:
        return None
    by_id = {rule.id: rule for rule in ruleset.rules}
    matched = set(record.base)
    kinds: SecurityKinds | None = None
    for volatile in record.volatile:
        rendered_path, rendered = volatile.rendered_path, files[volatile.rendered_path]
        if cluster_memo.file_digest(rendered) == volatile.rendered:  # the same bytes as then: equal as then
            matched |= volatile.effective
            continue
        if not all(i in by_id for i in volatile.rule_ids):
            return None
        rules = tuple(by_id[i] for i in volatile.rule_ids)
        try:
            if needs_judging(rules):  # the fixture side passed then and has not changed: the rendered side
                kinds = kinds or SecurityKinds.parse(security_kinds)
                check_hidden(rules, [(rendered_path, rendered)], kinds)
            effective = _same_as_data(volatile, rendered, rules)
            if effective is None:
                fixture = read_file(fixture_root, volatile.fixture_path, max_file_bytes=max_file_bytes)
                comparison, effective = compare_contents(rendered, rendered_path, fixture, volatile.fixture_path,
                                                         rules, remember=False)  # bytes that change every run
                if not equal_as_data(comparison):
                    return None
        except Exception:  # any surprise: the full comparison reports it, where it belongs
            return None
        matched |= effective
    try:
        result = ClusterResult.from_dict({**record.notes, "cluster": cluster, "findings": []})
    except (TypeError, ValueError):  # a record this code did not write: compare in full
        return None
    result.matched_rules = matched
    ruleset.mark(*matched)
    return result


def _same_as_data(volatile: cluster_memo.Volatile, rendered: bytes, rules: tuple[Rule, ...]) -> set[str] | None:
    """When the new rendered bytes of a volatile pair are, after its rules, exactly the data found equal to
    the fixture then: the rules that make a difference now (whose removals differ from the fixture's);
    else None (compare the pair)."""
    if not volatile.normalized or cluster_memo.file_digest(rendered) == volatile.fixture:
        return None  # no digests kept, or now byte-identical to the fixture: counted as such by a comparison
    side = cluster_memo.normalized_side(rendered, f"rendered:{volatile.rendered_path}", rules)
    if side is None or side[0] != volatile.normalized:
        return None
    fixture_removals = dict(volatile.fixture_removals)
    return {rule for rule, removed in side[1].items() if removed != fixture_removals.get(rule)}


def volatile_pair(pair: Pair, rendered: bytes, fixture: bytes, effective: set[str]) -> cluster_memo.Volatile:
    """A pair found equal as data though its bytes differ, as a clean record keeps it; with both sides'
    normalized digests when they reproduce the comparison's rules that made a difference."""
    ids = tuple(r.id for r in pair.normalize)
    volatile = cluster_memo.Volatile(pair.rendered_path, pair.key, ids, cluster_memo.file_digest(rendered),
                                     frozenset(effective))
    ours = cluster_memo.normalized_side(rendered, f"rendered:{pair.rendered_path}", pair.normalize)
    theirs = cluster_memo.normalized_side(fixture, f"fixture:{pair.key}", pair.normalize)
    if ours is None or theirs is None or {i for i in ids if ours[1][i] != theirs[1][i]} != effective:
        return volatile
    return volatile._replace(normalized=ours[0], fixture_removals=tuple(sorted(theirs[1].items())),
                             fixture=cluster_memo.file_digest(fixture))


def remember_clean(key: tuple[bytes, bytes], result: ClusterResult, base: set[str],
                   volatile: list[cluster_memo.Volatile], files: Mapping[str, bytes], fixture_root: Path) -> None:
    """Keep a comparison of an in-memory render under ``key`` (from :func:`memo_key`) when it found nothing:
    its notes, the rules matched outside volatile pairs, the volatile pairs and the render's digest."""
    if result.findings:
        return
    paths = frozenset(v.rendered_path for v in volatile)
    record = cluster_memo.CleanRecord(notes=result.notes(), base=frozenset(base), volatile=tuple(volatile),
                                      rendered=cluster_memo.rendered_digest(files, paths))
    root = os.path.abspath(fixture_root)
    cluster_memo.remember(key[0], record, lambda: cluster_memo.oracle_stamp(root), key[1])
