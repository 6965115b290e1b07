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
(:func:`stale_rule_findings`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.findings import Finding, Severity
from harness.inventory import Inventory, Rule, RuleSet
from harness.normalizers import (
    YamlRemoveNormalizer,
    ignored_fixture,
    map_rendered,
    path_only_rules,
    yaml_remove_rules,
)
from harness.redact import redact_text
from harness.renderer_api import Plan
from harness.tree import TreeListing, list_files, read_file, walk_tree
from harness.yamlcompare import FileComparison, compare_bytes

CHECK = "parity"
INVENTORY_CHECK = "inventory"

_IDENTICAL = FileComparison(equal=True, byte_identical=True)
_ABSENT: tuple[str, tuple[Rule, ...]] = ("", ())  # a key with no rendered file

HINT_MISSING = ("the renderer no longer produces this file: fix or enable its descriptor, or add an approved "
                "ignore_fixture rule")
HINT_UNEXPECTED = ("the fixture has no such file: add it to the fixture (--parity-update), fix the descriptor "
                   "condition, or add an approved ignore_rendered/alias rule")
HINT_CONTENT = ("fix the template or descriptor, update the fixture (--parity-update), or add an approved "
                "yaml_remove rule; diff lines read fixture → rendered")
HINT_PARSE = "fix the YAML; parity never falls back to comparing bytes of a file that does not parse"
HINT_STALE = "delete the rule and bump `version`: what it canonicalized no longer differs or no longer exists"
HINT_BUDGET = ("convert path_only rules to exact or yaml_remove comparison, or raise path_only_budget with a "
               "version bump")


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


def compare_contents(rendered: bytes, rendered_path: str, fixture: bytes, fixture_path: str,
                     rules: Iterable[Rule] = ()) -> tuple[FileComparison, set[str]]:
    """Compare one rendered file's bytes with one fixture file's bytes under ``yaml_remove`` ``rules``.

    Returns the comparison and the ids of the rules that made a difference.
    """
    if rendered == fixture:  # the common case: no rule can make equal bytes differ
        return _IDENTICAL, set()
    removals = [r for r in rules if r.kind == "yaml_remove"]
    normalizer = YamlRemoveNormalizer(removals) if removals else None
    result = compare_bytes(rendered, fixture, fixture_path, normalize=normalizer,
                           rendered_name=f"rendered:{rendered_path}", fixture_name=f"fixture:{fixture_path}")
    return result, (normalizer.effective if normalizer is not None else set())


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
                    secrets: Iterable[str] = ()) -> ClusterResult:
    """Compare one rendered overlay tree with its fixture tree; every mismatch becomes a Finding.

    ``rendered_root`` is the rendered overlay directory or an in-memory render (overlay-relative POSIX
    path -> bytes, :class:`harness.renderer_api.RenderedFiles`). ``plan`` gives each rendered file's
    owning descriptor; ``secrets`` are extra literal values (e.g. from the secret scanner) removed from
    every diff line, iterated only when the first finding is made (so a lazy iterable costs nothing for a
    clean cluster). The rule ids that matched are returned in the result and also recorded on ``ruleset``
    (:meth:`RuleSet.mark`). Raises InputError for a missing tree, a symlink, a special file, an oversize
    file or (in memory) a path no directory could hold.
    """
    rendered_tree, read_rendered = _rendered_side(cluster, rendered_root, max_file_bytes=max_file_bytes)
    # Every owned fixture file that is used is read (read_file enforces the size limit), so no stat per file.
    fixture_tree = walk_tree(fixture_root, max_file_bytes=max_file_bytes, display=str(fixture_root), sizes=False)
    result = ClusterResult(cluster=cluster, excluded_rendered=rendered_tree.other,
                           excluded_fixture=fixture_tree.other, bootstrap_fixture=len(fixture_tree.bootstrap),
                           bootstrap_rendered=len(rendered_tree.bootstrap))
    owners = _owners(plan)
    hidden: list[str] | None = None  # ``secrets`` is consumed only when there is a finding to redact
    matched: set[str] = set()

    def finding(code: str, path: str, message: str, hint: str, *, rendered_path: str = "", rules: Iterable[Rule] = (),
                diff: Iterable[str] = (), line: int = 0, extra: dict[str, Any] | None = None) -> None:
        nonlocal hidden
        if hidden is None:
            hidden = [s for s in secrets if s]
        if hidden:
            message, diff = redact_text(message, hidden), [redact_text(d, hidden) for d in diff]
        owner = owners.get(rendered_path or path, "")
        result.findings.append(Finding(code=code, message=message, check=CHECK, cluster=cluster, path=path, line=line,
                                       hint=hint, owner=owner, rules=_ids(rules), diff=tuple(diff),
                                       extra={"rendered_path": rendered_path, **(extra or {})}))

    # Rendered side: ignore_rendered, then alias. An explicit alias wins a key over a same-named file.
    # Paths no rule concerns (nearly all of them) skip every rule lookup: one set of regex searches per tree.
    concerned = ruleset.concerned({*rendered_tree.owned, *fixture_tree.owned})
    by_key: dict[str, tuple[str, tuple[Rule, ...]]] = {}
    for path in rendered_tree.owned:
        if path not in concerned:
            by_key[path] = (path, ())
            continue
        mapped = map_rendered(ruleset, path)
        matched.update(r.id for r in mapped.rules)
        if mapped.key is None:
            result.ignored_rendered += 1
            continue
        previous = by_key.get(mapped.key)
        if previous is None:
            by_key[mapped.key] = (path, mapped.rules)
            continue
        # Two aliases onto one path are a load-time conflict, so exactly one of the two is aliased.
        winner, loser = ((path, mapped.rules), previous) if mapped.rules else (previous, (path, mapped.rules))
        by_key[mapped.key] = winner
        finding("PARITY-UNEXPECTED", mapped.key, f"rendered file is also the target of alias rule "
                f"{_ids(winner[1])[0]} (from {winner[0]}), so it is not compared", HINT_UNEXPECTED,
                rendered_path=loser[0], rules=winner[1])

    # Fixture side: ignore_fixture.
    fixture_keys: set[str] = set()
    for path in fixture_tree.owned:
        ignored = ignored_fixture(ruleset, path) if path in concerned else ()
        if ignored:
            matched.update(r.id for r in ignored)
            result.ignored_fixture += 1
            continue
        fixture_keys.add(path)

    compared = identical = parsed = path_only = 0
    fixture_display = str(fixture_root)
    for key in sorted(fixture_keys.union(by_key)):
        rendered_path, alias_rules = by_key.get(key, _ABSENT)
        if alias_rules or key in concerned or (rendered_path and rendered_path != key and rendered_path in concerned):
            only_rules = path_only_rules(ruleset, key, rendered_path or None)
            removal_rules = yaml_remove_rules(ruleset, key, rendered_path or None)
        else:
            only_rules = removal_rules = ()
        applied = (*alias_rules, *only_rules, *removal_rules)
        if not rendered_path:
            matched.update(r.id for r in only_rules)
            finding("PARITY-MISSING", key, "renderer-owned fixture file is not rendered", HINT_MISSING,
                    rules=applied)
            continue
        if key not in fixture_keys:
            matched.update(r.id for r in only_rules)
            via = f" (rendered as {rendered_path}, aliased)" if alias_rules else ""
            finding("PARITY-UNEXPECTED", key, f"rendered file is not in the fixture{via}", HINT_UNEXPECTED,
                    rendered_path=rendered_path, rules=applied)
            continue
        compared += 1
        comparison, effective = compare_contents(
            read_rendered(rendered_path), rendered_path,
            read_file(fixture_display, key, max_file_bytes=max_file_bytes, display=fixture_display), key,
            () if only_rules else removal_rules)
        identical += comparison.byte_identical
        parsed += comparison.parsed
        if only_rules:
            path_only += 1
            if not comparison.equal:
                matched.update(r.id for r in only_rules)
            continue
        matched.update(effective)
        if comparison.equal:
            continue
        extra = {"matched_by": comparison.matched_by, "reordered": comparison.reordered} if comparison.parsed else {}
        if comparison.parse_failures:
            sides = " and ".join(p.side for p in comparison.parse_failures)
            fixture_line = next((p.line for p in comparison.parse_failures if p.side == "fixture"), 0)
            finding("PARITY-PARSE", key, f"does not parse as YAML on the {sides} side", HINT_PARSE,
                    rendered_path=rendered_path, rules=applied, diff=comparison.diff_lines(), line=fixture_line)
            continue
        count = len(comparison.changes)
        what = f"{count} change{'s' if count != 1 else ''}" if comparison.parsed else "bytes differ"
        finding("PARITY-CONTENT", key, f"rendered file differs from the fixture ({what})", HINT_CONTENT,
                rendered_path=rendered_path, rules=applied, diff=comparison.diff_lines(max_lines=max_diff_lines),
                extra=extra)
    result.files_compared, result.byte_identical = compared, identical
    result.parsed, result.path_only = parsed, path_only
    result.findings.sort(key=lambda f: (f.path, f.code))
    result.matched_rules = matched
    ruleset.mark(*matched)
    return result


def merge_matched(results: Iterable[ClusterResult | Iterable[str]]) -> set[str]:
    """Union of matched rule ids from ClusterResults or plain id lists (e.g. sent by xdist workers)."""
    merged: set[str] = set()
    for item in results:
        merged.update(item.matched_rules if isinstance(item, ClusterResult) else item)
    return merged


def stale_rule_findings(inventory: Inventory, matched_ids: Iterable[str], clusters_run: Iterable[str], *,
                        all_clusters: Iterable[str] | None = None) -> list[Finding]:
    """``PARITY-STALE-RULE`` for every judged rule that matched nothing.

    A cluster rule is judged only when its cluster ran. A default rule is judged only when every
    cluster ran -- ``all_clusters`` (pass the fixture's cluster list; default: the clusters named in
    the inventory) must be a subset of ``clusters_run`` -- and is stale when it matched in none of them.
    """
    matched = set(matched_ids)
    ran = set(clusters_run)
    universe = set(all_clusters) if all_clusters is not None else set(inventory.clusters)
    judge_defaults = bool(ran) and universe <= ran
    findings: list[Finding] = []
    for rule in inventory.all_rules():
        if rule.id in matched:
            continue
        if rule.cluster and rule.cluster not in ran:
            continue
        if not rule.cluster and not judge_defaults:
            continue
        where = f"cluster {rule.cluster}" if rule.cluster else f"any of {len(ran)} clusters"
        findings.append(Finding(
            code="PARITY-STALE-RULE", check=INVENTORY_CHECK, cluster=rule.cluster, path=inventory.file,
            line=rule.line, rules=(rule.id,), hint=HINT_STALE,
            message=f"rule '{rule.id}' ({rule.kind} {rule.path}) matched nothing in {where}",
            extra={"rule": rule.to_dict()}))
    return findings


def budget_findings(inventory: Inventory) -> list[Finding]:
    """``PARITY-PATH-ONLY-BUDGET`` (error) when path_only rules outnumber ``path_only_budget`` (absent = 0);
    a note when the budget could shrink. Both carry ``extra = {"count": n, "budget": b}``."""
    rules = [r for r in inventory.all_rules() if r.kind == "path_only"]
    count, budget = len(rules), inventory.path_only_budget or 0
    extra = {"count": count, "budget": budget}
    if count > budget:
        return [Finding(code="PARITY-PATH-ONLY-BUDGET", check=INVENTORY_CHECK, path=inventory.file,
                        line=rules[-1].line, rules=tuple(r.id for r in rules), hint=HINT_BUDGET, extra=extra,
                        message=f"{count} path_only rules exceed path_only_budget {budget}")]
    if count < budget:
        return [Finding(code="PARITY-PATH-ONLY-BUDGET", check=INVENTORY_CHECK, path=inventory.file,
                        severity=Severity.NOTE, rules=tuple(r.id for r in rules), extra=extra,
                        hint="lower path_only_budget so the budget can only shrink",
                        message=f"{count} path_only rules, budget {budget}: the budget can shrink to {count}")]
    return []
