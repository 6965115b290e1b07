"""Compare a rendered overlay tree with its fixture tree under the resolved canonicalization rules.

Only renderer-owned paths take part (:mod:`harness.tree`); ``flux-system/`` and other paths are listed,
not compared. For one cluster:

1. both trees are walked (names and sizes only); the rendered one may also be an in-memory render;
2. rendered paths go through ``ignore_rendered`` and ``alias``, fixture paths through ``ignore_fixture``
   (:mod:`harness.normalizers`); each remaining file is keyed by its fixture-side path;
3. a key on the fixture side only is ``PARITY-MISSING``, on the rendered side only ``PARITY-UNEXPECTED``;
4. a key on both sides is ``path_only`` (presence is enough) or compared (:mod:`harness.yamlcompare`):
   equal bytes first, then YAML as data after ``yaml_remove`` rules, else bytes;
   a difference is ``PARITY-CONTENT``, a side that does not parse is ``PARITY-PARSE``.

Every mismatch of the cluster is reported; file contents are read one pair at a time. Diff lines are
redacted (:mod:`harness.redact`). The result carries the ids of the rules that matched, so a run
spread over processes (pytest-xdist) can merge them and judge stale rules once
(:func:`harness.inventory_judge.stale_rule_findings`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from harness import clean_replay, cluster_memo
from harness.change_lines import change_line, document_lines
from harness.cluster_result import ClusterResult
from harness.file_compare import compare_contents, equal_as_data, flush_known_equal
from harness.findings import Finding, Severity
from harness.fingerprints import fingerprint
from harness.inventory import Rule, RuleSet
from harness.pairing import (
    HINT_CONTENT,
    HINT_MISSING,
    HINT_PARSE,
    HINT_UNEXPECTED,
    UNEXPECTED,
    Pair,
    pair_trees,
    verdict,
)
from harness.redact import redact_text
from harness.renderer_api import Plan
from harness.security import SecurityKinds, check_hidden, needs_judging
from harness.tree import TreeListing, list_files, read_file, walk_tree
from harness.yamlcompare import format_path

__all__ = ["CHECK", "HINT_CONTENT", "HINT_MISSING", "HINT_PARSE", "HINT_UNEXPECTED", "compare_cluster",
           "merge_matched", "withheld_generator_input"]

CHECK = "parity"


def _owners(plan: Plan | None) -> dict[str, str]:
    owners: dict[str, str] = {}
    if plan is not None:
        for action in plan.actions:
            owners.setdefault(action.output, action.owner)
    return owners


def _ids(rules: Iterable[Rule]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.id for r in rules))


def _rendered_side(cluster: str, rendered: Path | Mapping[str, bytes], *,
                   max_file_bytes: int) -> tuple[TreeListing, Callable[[str], bytes]]:
    """The rendered tree's listing and a reader, from a directory or from an in-memory render."""
    display = f"rendered:{cluster}"
    if isinstance(rendered, Mapping):
        files = rendered
        return list_files(files, max_file_bytes=max_file_bytes, display=display), files.__getitem__
    root = rendered

    def read(rel: str) -> bytes:
        return read_file(root, rel, max_file_bytes=max_file_bytes, display=display)

    return walk_tree(root, max_file_bytes=max_file_bytes, display=display, sizes=False), read


def compare_cluster(cluster: str, rendered_root: Path | Mapping[str, bytes], fixture_root: Path, ruleset: RuleSet,
                    plan: Plan | None = None, *, max_file_bytes: int, max_diff_lines: int = 50,
                    secrets: Iterable[str] = (), security_kinds: Iterable[str] | None = None) -> ClusterResult:
    """Compare one rendered overlay tree with its fixture tree; every mismatch becomes a Finding.

    ``rendered_root`` is the rendered overlay directory or an in-memory render (overlay-relative POSIX
    path -> bytes, :class:`harness.renderer_api.RenderedFiles`). ``plan`` gives each rendered file's
    owning descriptor; ``secrets`` are extra literal values (e.g. from the secret scanner) removed from
    every diff line, iterated only when the first finding is made (so a lazy iterable costs nothing for a
    clean cluster). The pairing and each verdict come from :mod:`harness.pairing`. The rule ids that
    matched are returned in the result and also recorded on ``ruleset`` (:meth:`RuleSet.mark`). Raises
    InputError for a missing tree, a symlink, a special file, an oversize file, (in memory) a path no
    directory could hold, and a rule without ``security_waiver`` that hides a security-relevant object of
    ``security_kinds`` (``INVENTORY-SECURITY-HIDDEN``, at the rule's line).
    """
    files = rendered_root if isinstance(rendered_root, Mapping) else None  # only in-memory renders are hashed
    memo = None if files is None else clean_replay.memo_key(cluster, fixture_root, ruleset, security_kinds,
                                                             max_file_bytes)
    if files is not None and memo is not None:
        replayed = clean_replay.replay(cluster, files, fixture_root, ruleset, memo[0], security_kinds, max_file_bytes)
        if replayed is not None:
            return replayed
    result, base, volatile = _compare_cluster(
        cluster, rendered_root, fixture_root, ruleset, plan, max_file_bytes=max_file_bytes,
        max_diff_lines=max_diff_lines, secrets=secrets, security_kinds=security_kinds)
    if files is not None and memo is not None:
        clean_replay.remember_clean(memo, result, base, volatile, files, fixture_root)
    return result


def _compare_cluster(cluster: str, rendered_root: Path | Mapping[str, bytes], fixture_root: Path, ruleset: RuleSet,
                     plan: Plan | None, *, max_file_bytes: int, max_diff_lines: int, secrets: Iterable[str],
                     security_kinds: Iterable[str] | None
                     ) -> tuple[ClusterResult, set[str], list[cluster_memo.Volatile]]:
    """:func:`compare_cluster` in full; also the matched rule ids not owed to a volatile pair, and the
    volatile pairs (:class:`harness.cluster_memo.CleanRecord`)."""
    rendered_tree, read_rendered = _rendered_side(cluster, rendered_root, max_file_bytes=max_file_bytes)
    # Every owned fixture file that is used is read (read_file enforces the size limit), so no stat per file.
    fixture_tree = walk_tree(fixture_root, max_file_bytes=max_file_bytes, display=str(fixture_root), sizes=False)
    result = ClusterResult(cluster=cluster, excluded_rendered=rendered_tree.other,
                           excluded_fixture=fixture_tree.other, bootstrap_fixture=len(fixture_tree.bootstrap),
                           bootstrap_rendered=len(rendered_tree.bootstrap))
    owners = _owners(plan)
    hidden: list[str] | None = None  # ``secrets`` is consumed only when there is a finding to redact
    fixture_display = str(fixture_root)
    kinds: SecurityKinds | None = None

    last_read: list[tuple[str, bytes]] = []  # the judge reads a pair just before it is compared: read it once

    def read_fixture(path: str) -> bytes:
        if last_read and last_read[0][0] == path:
            return last_read[0][1]
        data = read_file(fixture_display, path, max_file_bytes=max_file_bytes, display=fixture_display)
        last_read[:] = [(path, data)]
        return data

    def judge(rules: Iterable[Rule], sides: Iterable[tuple[str, Callable[[str], bytes]]]) -> None:
        nonlocal kinds
        if not needs_judging(rules):
            return
        kinds = kinds or SecurityKinds.parse(security_kinds)
        check_hidden(rules, [(path, read(path)) for path, read in sides], kinds)

    def finding(code: str, path: str, message: str, hint: str, *, rendered_path: str = "", rules: Iterable[Rule] = (),
                diff: Iterable[str] = (), line: int = 0, extra: dict[str, Any] | None = None,
                severity: Severity = Severity.ERROR) -> None:
        nonlocal hidden
        if hidden is None:
            hidden = [s for s in secrets if s]
        if hidden:
            message, diff = redact_text(message, hidden), [redact_text(d, hidden) for d in diff]
            extra = _redacted(extra, hidden)
        owner = owners.get(rendered_path or path, "")
        result.findings.append(Finding(code=code, message=message, check=CHECK, cluster=cluster, path=path, line=line,
                                       hint=hint, owner=owner, rules=_ids(rules), diff=tuple(diff), severity=severity,
                                       extra={"rendered_path": rendered_path, **(extra or {})}))

    inputs: set[str] | None = None  # secretGenerator inputs of either tree, found only when a file differs

    def generator_input(path: str) -> bool:
        nonlocal inputs
        if inputs is None:
            from harness.secrets.generators import KUSTOMIZATION_NAMES, opaque_generator_inputs

            inputs = opaque_generator_inputs(
                [(p, read_rendered(p)) for p in rendered_tree.owned if posixpath.basename(p) in KUSTOMIZATION_NAMES]
                + [(p, read_fixture(p)) for p in fixture_tree.owned if posixpath.basename(p) in KUSTOMIZATION_NAMES])
        return bool(path) and path in inputs

    pairing = pair_trees(ruleset, rendered_tree.owned, fixture_tree.owned)
    matched: set[str] = set(pairing.matched)
    base: set[str] = set(pairing.matched)  # what a replay of the comparison adds to its volatile pairs' rules
    volatile: list[cluster_memo.Volatile] = []
    for dropped in pairing.dropped:
        judge(dropped.rules, [(dropped.path, read_rendered if dropped.side == "rendered" else read_fixture)])
        if dropped.side == "rendered":
            result.ignored_rendered += 1
        else:
            result.ignored_fixture += 1
    for shadow in pairing.shadowed:
        finding(UNEXPECTED, shadow.key, shadow.message, HINT_UNEXPECTED, rendered_path=shadow.rendered_path,
                rules=shadow.winner.mapping)

    compared = identical = parsed = path_only = 0
    for pair in pairing.pairs:
        if pair.presence_only or pair.normalize:
            judge((*pair.presence_only, *pair.normalize), _sides(pair, read_rendered, read_fixture))
        if not (pair.rendered_path and pair.in_fixture):
            outcome = verdict(pair)
            matched.update(outcome.matched)
            assert outcome.code is not None
            finding(outcome.code, pair.key, outcome.message, outcome.hint, rendered_path=pair.rendered_path,
                    rules=outcome.rules)
            continue
        compared += 1
        rendered_bytes, fixture_bytes = read_rendered(pair.rendered_path), read_fixture(pair.key)
        comparison, effective = compare_contents(rendered_bytes, pair.rendered_path, fixture_bytes, pair.key,
                                                 pair.content_rules)
        identical += comparison.byte_identical
        if comparison.byte_identical and not (pair.mapping or pair.presence_only or pair.normalize):
            continue  # the common case, and verdict()'s answer for it: accepted, no rule applied
        parsed += comparison.parsed
        path_only += bool(pair.presence_only)
        outcome = verdict(pair, comparison, effective)
        matched.update(outcome.matched)
        if outcome.code is None:
            if not (pair.mapping or pair.presence_only) and equal_as_data(comparison):
                volatile.append(clean_replay.volatile_pair(pair, rendered_bytes, fixture_bytes, effective))
            else:
                base.update(outcome.matched)
            continue
        extra: dict[str, Any] = {}
        line = next((p.line for p in comparison.parse_failures if p.side == "fixture"), 0)
        if comparison.parsed:
            extra = {"matched_by": comparison.matched_by, "reordered": comparison.reordered}
            if comparison.changes:
                lines = document_lines(read_fixture(pair.key).decode("utf-8", "replace"))
                first = comparison.changes[0]
                line = change_line(lines, first)
                extra.update({"key_path": format_path(first.path), "pointer": first.pointer, "doc_kind": first.kind
                              if isinstance(first.kind, str) else "",
                              "changes": [{"op": c.op, "pointer": c.pointer, "key_path": format_path(c.path),
                                           "doc": c.doc, "line": change_line(lines, c)}
                                          for c in comparison.changes[:max_diff_lines]]})
        message, diff = outcome.message, comparison.diff_lines(max_lines=max_diff_lines)
        if generator_input(pair.key) or generator_input(pair.rendered_path):
            message, diff = withheld_generator_input(fixture_bytes, rendered_bytes), ()
        finding(outcome.code, pair.key, message, outcome.hint, rendered_path=pair.rendered_path,
                rules=outcome.rules, diff=diff, line=line, extra=extra or None, severity=outcome.severity)
    result.files_compared, result.byte_identical = compared, identical
    result.parsed, result.path_only = parsed, path_only
    result.findings.sort(key=lambda f: (f.path, f.code))
    result.matched_rules = matched
    ruleset.mark(*matched)
    flush_known_equal()
    return result, base, volatile


def withheld_generator_input(fixture: bytes, rendered: bytes) -> str:
    """The message for a differing secretGenerator input: its content is Secret data, so only fingerprints."""
    return (f"content differs; this file is a secretGenerator input (Secret data), shown by fingerprint only: "
            f"fixture {fingerprint(fixture)}, rendered {fingerprint(rendered)}")


def _redacted(value: Any, hidden: list[str]) -> Any:
    """``value`` (JSON-like finding data) with every hidden literal removed from its strings."""
    if isinstance(value, str):
        return redact_text(value, hidden)
    if isinstance(value, dict):
        return {k: _redacted(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, hidden) for v in value]
    return value


def _sides(pair: Pair, read_rendered: Callable[[str], bytes],
           read_fixture: Callable[[str], bytes]) -> list[tuple[str, Callable[[str], bytes]]]:
    sides: list[tuple[str, Callable[[str], bytes]]] = []
    if pair.rendered_path:
        sides.append((pair.rendered_path, read_rendered))
    if pair.in_fixture:
        sides.append((pair.key, read_fixture))
    return sides


def merge_matched(results: Iterable[ClusterResult | Iterable[str]]) -> set[str]:
    """Union of matched rule ids from ClusterResults or plain id lists (e.g. sent by xdist workers)."""
    merged: set[str] = set()
    for item in results:
        merged.update(item.matched_rules if isinstance(item, ClusterResult) else item)
    return merged
