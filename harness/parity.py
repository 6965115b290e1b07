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

import json
import os
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import cluster_memo
from harness.change_lines import change_line, document_lines
from harness.digest_store import DigestStore, code_stamp, digest
from harness.findings import Finding, Severity
from harness.fingerprints import fingerprint
from harness.inventory import Rule, RuleSet
from harness.normalizers import DocumentNormalizer
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
from harness.yamlcompare import FileComparison, compare_bytes, format_path

__all__ = ["CHECK", "HINT_CONTENT", "HINT_MISSING", "HINT_PARSE", "HINT_UNEXPECTED", "ClusterResult",
           "compare_cluster", "compare_contents", "compare_pair", "merge_matched"]

CHECK = "parity"

_IDENTICAL = FileComparison(equal=True, byte_identical=True)



@dataclass
class ClusterResult:
    """The outcome of :func:`compare_cluster` for one cluster (picklable; :meth:`to_dict` is JSON-ready)."""

    cluster: str
    findings: list[Finding] = field(default_factory=list)
    matched_rules: set[str] = field(default_factory=set)
    files_compared: int = 0
    byte_identical: int = 0
    parsed: int = 0
    path_only: int = 0
    ignored_rendered: int = 0
    ignored_fixture: int = 0
    excluded_rendered: tuple[str, ...] = ()
    excluded_fixture: tuple[str, ...] = ()
    bootstrap_fixture: int = 0
    bootstrap_rendered: int = 0  # flux-system/ files in the rendered tree: a renderer must never write them

    @property
    def ok(self) -> bool:
        """No failing finding."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def notes(self) -> dict[str, Any]:
        """Counts and exclusions for reports (JSON-ready)."""
        return {
            "files_compared": self.files_compared,
            "byte_identical": self.byte_identical,
            "parsed": self.parsed,
            "path_only": self.path_only,
            "ignored_rendered": self.ignored_rendered,
            "ignored_fixture": self.ignored_fixture,
            "bootstrap_fixture": self.bootstrap_fixture,
            "bootstrap_rendered": self.bootstrap_rendered,
            "excluded_rendered": list(self.excluded_rendered),
            "excluded_fixture": list(self.excluded_fixture),
            "matched_rules": sorted(self.matched_rules),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (inverse: :meth:`from_dict`)."""
        return {"cluster": self.cluster, "findings": [f.to_dict() for f in self.findings], **self.notes()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterResult:
        """Rebuild a result sent by another process."""
        return cls(
            cluster=str(data["cluster"]),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            matched_rules=set(data.get("matched_rules", [])),
            files_compared=int(data.get("files_compared", 0)),
            byte_identical=int(data.get("byte_identical", 0)),
            parsed=int(data.get("parsed", 0)),
            path_only=int(data.get("path_only", 0)),
            ignored_rendered=int(data.get("ignored_rendered", 0)),
            ignored_fixture=int(data.get("ignored_fixture", 0)),
            bootstrap_fixture=int(data.get("bootstrap_fixture", 0)),
            bootstrap_rendered=int(data.get("bootstrap_rendered", 0)),
            excluded_rendered=tuple(data.get("excluded_rendered", ())),
            excluded_fixture=tuple(data.get("excluded_fixture", ())),
        )


def _owners(plan: Plan | None) -> dict[str, str]:
    owners: dict[str, str] = {}
    if plan is not None:
        for action in plan.actions:
            owners.setdefault(action.output, action.owner)
    return owners


def _ids(rules: Iterable[Rule]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.id for r in rules))


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
        return _IDENTICAL, set()
    rules = tuple(rules)
    key = digest(rendered_path.encode(), fixture_path.encode(), _rules_key(rules), rendered, fixture)
    known = KNOWN_EQUAL.get(key)
    if known is not None:
        return _EQUAL_AS_DATA, set(known.decode().split("\n")) - {""}
    normalizer = DocumentNormalizer(rules) if rules else None
    result = compare_bytes(rendered, fixture, fixture_path, normalize=normalizer,
                           rendered_name=f"rendered:{rendered_path}", fixture_name=f"fixture:{fixture_path}")
    effective = normalizer.effective if normalizer is not None else set()
    if remember and result.equal and result.parsed and not (result.reordered or result.parse_failures
                                                            or result.changes):
        KNOWN_EQUAL.add(key, "\n".join(sorted(effective)).encode())
    return result, effective


_EQUAL_AS_DATA = FileComparison(equal=True, parsed=True)


def _rules_key(rules: tuple[Rule, ...]) -> bytes:
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
    memo = _memo_key(cluster, rendered_root, fixture_root, ruleset, security_kinds, max_file_bytes)
    if memo is not None:
        assert isinstance(rendered_root, Mapping)
        replayed = _replay(cluster, rendered_root, fixture_root, ruleset, memo[0], security_kinds, max_file_bytes)
        if replayed is not None:
            return replayed
    result, base, volatile = _compare_cluster(
        cluster, rendered_root, fixture_root, ruleset, plan, max_file_bytes=max_file_bytes,
        max_diff_lines=max_diff_lines, secrets=secrets, security_kinds=security_kinds)
    if memo is not None and not result.findings:
        assert isinstance(rendered_root, Mapping)
        paths = frozenset(v.rendered_path for v in volatile)
        record = cluster_memo.CleanRecord(notes=result.notes(), base=frozenset(base), volatile=tuple(volatile),
                                          rendered=cluster_memo.rendered_digest(rendered_root, paths))
        root = os.path.abspath(fixture_root)
        cluster_memo.remember(memo[0], record, lambda: cluster_memo.oracle_stamp(root), memo[1])
    return result


def _memo_key(cluster: str, rendered: Path | Mapping[str, bytes], fixture_root: Path, ruleset: RuleSet,
              security_kinds: Iterable[str] | None, max_file_bytes: int) -> tuple[bytes, bytes] | None:
    """The clean-comparison key of an in-memory render and the oracle tree's stamp (None: not remembered)."""
    if not isinstance(rendered, Mapping) or not cluster_memo.CLEAN.enabled():
        return None
    stamp = cluster_memo.oracle_stamp(os.path.abspath(fixture_root))
    if stamp is None:
        return None
    kinds = tuple(security_kinds) if security_kinds is not None else None
    return cluster_memo.memo_key(cluster, stamp, _rules_key(ruleset.rules), kinds, max_file_bytes), stamp


def _replay(cluster: str, files: Mapping[str, bytes], fixture_root: Path, ruleset: RuleSet, key: bytes,
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
                if not _equal_as_data(comparison):
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


def _volatile(pair: Pair, rendered: bytes, fixture: bytes, effective: set[str]) -> cluster_memo.Volatile:
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


def _equal_as_data(comparison: FileComparison) -> bool:
    """Bytes differ, but the sides are equal as data, in the same order, with nothing unparsed."""
    return (comparison.equal and comparison.parsed and not comparison.byte_identical and not comparison.reordered
            and not comparison.parse_failures and not comparison.changes)


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
            if not (pair.mapping or pair.presence_only) and _equal_as_data(comparison):
                volatile.append(_volatile(pair, rendered_bytes, fixture_bytes, effective))
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
    KNOWN_EQUAL.flush()
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
