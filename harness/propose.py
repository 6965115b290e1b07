"""``overlay-parity propose``: the minimal draft rules that explain today's differences, for review.

For each cluster the renderer's output is compared with the oracle tree under the current inventory (the
differences as data: :func:`harness.differences.cluster_differences`), and each remaining difference gets the
narrowest rule that accepts it:

- a rendered file the fixture lacks, whose content is that of a fixture file the renderer does not
  produce (equal bytes, equal YAML data, or close text): ``alias`` (a rename);
- any other fixture-only file: ``ignore_fixture`` (anchored literal path); rendered-only: ``ignore_rendered``;
- a YAML file pair that differs: one ``yaml_remove`` rule with the exact JSON pointers of the differing
  fields (array indices included), widened to the parent only when removing the field on both sides does
  not make the documents equal (e.g. lists of different lengths), and ``match_kind`` (apiVersion/kind)
  when every differing document is of one kind.

``path_only`` is never drafted. What no rule can express narrowly (bytes of a non-YAML file, a document
only one side has, a file that does not parse, a render error) is *unresolved*: it is reported, not
hidden. A rule drafted identically for every cluster of the fixture becomes one ``defaults`` rule. Each
cluster's drafts are verified by re-running the comparison with them; current rules that then match
nothing (stale) are dropped from the draft. Draft rules carry an empty ``rationale`` and ``approved_by``,
which the inventory schema refuses, so a draft cannot be used before a person has reviewed it.

:func:`narrow` answers ``--narrow``: for each ``path_only`` rule, the ``yaml_remove`` pointers that would
replace it in each cluster, or why none can.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.differences import cluster_differences, find_renames
from harness.errors import InputError
from harness.file_compare import compare_contents
from harness.findings import Severity
from harness.inventory import Inventory, KindFilter, Rule, RuleSet, build_rule, ruleset_of
from harness.parity import compare_cluster
from harness.pointers import format_pointer
from harness.project_config import ProjectConfig
from harness.renderer_api import Plan, Renderer
from harness.tree import read_file, walk_tree
from harness.yamlcompare import Change, FileComparison, format_change, is_yaml_path, parse_side

MAX_WIDEN = 12
_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class DraftRule:
    """One proposed rule (``cluster`` '' = defaults); ``evidence`` are redacted lines for the reviewer."""

    cluster: str
    kind: str
    path: str
    to: str | None = None
    pointers: tuple[str, ...] = ()
    match_kind: str | None = None
    evidence: tuple[str, ...] = ()
    waiver: bool = False  # it hides a security-relevant object: a security_waiver must be written too

    @property
    def signature(self) -> tuple[Any, ...]:
        """What the rule does, whatever cluster it is filed under."""
        return self.kind, self.path, self.to, self.pointers, self.match_kind

    def as_rule(self, rule_id: str) -> Rule:
        """A :class:`harness.inventory.Rule` for verification (placeholder rationale, never written)."""
        item: dict[str, Any] = {"id": rule_id, "kind": self.kind, "path": self.path, "rationale": "draft",
                                "approved_by": "draft", "to": self.to, "pointers": list(self.pointers),
                                "match_kind": self.match_kind}
        if self.waiver:
            item["security_waiver"] = {"rationale": "draft", "approved_by": "draft"}
        return build_rule(item, cluster=self.cluster)


@dataclass(frozen=True)
class Unresolved:
    """A difference no narrow rule can accept: fix the renderer, the template or the fixture."""

    cluster: str
    path: str
    reason: str


@dataclass
class ClusterDraft:
    """The drafts of one cluster and what stays unresolved; ``matched`` = current rule ids that matched."""

    cluster: str
    rules: list[DraftRule] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)


@dataclass
class Proposal:
    """Every cluster's drafts folded into one inventory: ``defaults`` drafts first, then per cluster."""

    inventory: Inventory
    clusters: list[str]
    all_clusters: list[str]
    rules: list[DraftRule] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    stale: list[Rule] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ rendering

@dataclass(frozen=True)
class RenderedCluster:
    """One cluster's render in memory (renderer-owned files by overlay path), or the error that stopped it."""

    cluster: str
    files: Mapping[str, bytes] = field(default_factory=dict)
    plan: Plan | None = None
    error: InputError | None = None


def render_cluster(project: ProjectConfig, renderer: Renderer, cluster: str) -> RenderedCluster:
    """Render one cluster into memory (through a scratch directory when the renderer cannot render to memory)."""
    config = project.config_for(cluster)
    try:
        render_files = getattr(renderer, "render_files", None)
        if callable(render_files):
            rendered = render_files(config)
            return RenderedCluster(cluster, dict(rendered.files), rendered.plan)
        with tempfile.TemporaryDirectory(prefix=f"overlay-parity-propose-{cluster}-") as scratch:
            out = Path(scratch) / cluster
            plan = renderer.render(config, out)
            listing = walk_tree(out, max_file_bytes=project.max_file_bytes, display=f"rendered:{cluster}")
            files = {p: read_file(out, p, max_file_bytes=project.max_file_bytes) for p in listing.owned}
            return RenderedCluster(cluster, files, plan)
    except InputError as error:
        return RenderedCluster(cluster, error=error)


# ------------------------------------------------------------------------------------------ drafting

def _kind_filter(fixture: bytes, rendered: bytes, changes: Sequence[Change], name: str) -> str | None:
    """``apiVersion/kind`` when every change is in documents of one kind with one apiVersion, else None."""
    kinds = {c.kind for c in changes}
    if len(kinds) != 1 or not isinstance(next(iter(kinds)), str):
        return None
    kind = str(next(iter(kinds)))
    versions: set[Any] = set()
    for data in (fixture, rendered):
        try:
            docs = parse_side(data, name)
        except InputError:
            return None
        versions.update(d.get("apiVersion") for d in docs if isinstance(d, dict) and d.get("kind") == kind)
    if len(versions) == 1 and isinstance(next(iter(versions)), str):
        return f"{next(iter(versions))}/{kind}"
    return kind


def _pointer(path: Sequence[str | int]) -> str:
    return format_pointer(path)


def _widen(pointers: set[tuple[str | int, ...]], changes: Sequence[Change]) -> set[tuple[str | int, ...]] | None:
    """Pointers with each still-differing change widened to its parent; None when one is at the top."""
    widened = set(pointers)
    for change in changes:
        path = tuple(change.path)
        # The narrowest pointer of ours that covers the change, or the change itself.
        covering = [p for p in widened if path[: len(p)] == p]
        base = min(covering, key=len) if covering else path
        if len(base) <= 1:
            return None
        widened.add(base[:-1])
    # Drop pointers under another pointer (removing the parent removes them).
    return {p for p in widened if not any(q != p and p[: len(q)] == q for q in widened)}


def draft_yaml_remove(cluster: str, key: str, rendered_path: str, rendered: bytes, fixture: bytes,
                      existing: Sequence[Rule]) -> DraftRule | Unresolved | None:
    """The narrowest ``yaml_remove`` rule that makes one file pair compare equal (None: equal already)."""
    first, _ = compare_contents(rendered, rendered_path, fixture, key, existing)
    if first.equal:
        return None
    if not is_yaml_path(key):
        return Unresolved(cluster, key, "bytes differ in a file that is not YAML; no yaml_remove can narrow it "
                          "(fix the template or the fixture; path_only is never drafted)")
    if first.parse_failures:
        return Unresolved(cluster, key, "does not parse as YAML on the "
                          + " and ".join(p.side for p in first.parse_failures) + " side")
    whole = [c for c in first.changes if c.op in ("doc-missing", "doc-unexpected")]
    if whole:
        return Unresolved(cluster, key, f"{format_change(whole[0])}: a whole document on one side only cannot "
                          "be removed by a pointer (fix the template or the fixture)")
    match_kind = _kind_filter(fixture, rendered, first.changes, key)
    pointers: set[tuple[str | int, ...]] = {tuple(c.path) for c in first.changes}
    evidence = tuple(format_change(c) for c in first.changes[:5])
    for _ in range(MAX_WIDEN):
        pointers = {p for p in pointers if p} or pointers
        if any(not p for p in pointers):
            break
        draft = DraftRule(cluster, "yaml_remove", "/" + key, pointers=tuple(sorted(_pointer(p) for p in pointers)),
                          match_kind=match_kind, evidence=evidence)
        result, _ = compare_contents(rendered, rendered_path, fixture, key, [*existing, draft.as_rule("draft")])
        if result.equal:
            return draft
        if match_kind is not None and _only_outside_kind(result, match_kind):
            match_kind = None
            continue
        widened = _widen(pointers, result.changes)
        if widened is None or widened == pointers:
            break
        pointers = widened
    return Unresolved(cluster, key, "no set of field pointers makes the documents equal "
                      "(fix the template or the fixture)")


def _only_outside_kind(result: FileComparison, match_kind: str) -> bool:
    kind = KindFilter.parse(match_kind).kind
    return any(c.kind != kind for c in result.changes)


def draft_cluster(cluster: str, rendered: RenderedCluster, fixture_root: Path, rules: Sequence[Rule], *,
                  max_file_bytes: int) -> ClusterDraft:
    """Draft the rules that make one cluster's comparison pass under ``rules`` (its current resolved rules),
    verified by comparing again with them (see the module docstring)."""
    draft = ClusterDraft(cluster)
    if rendered.error is not None:
        draft.unresolved.append(Unresolved(cluster, "", f"the renderer failed ({rendered.error.one_line()}); "
                                           "fix the input first"))
        return draft
    found = cluster_differences(cluster, rendered.files, fixture_root, ruleset_of(cluster, rules),
                                max_file_bytes=max_file_bytes).differences

    def fixture_bytes(path: str) -> bytes:
        return read_file(fixture_root, path, max_file_bytes=max_file_bytes)

    missing = {d.fixture_path: fixture_bytes(d.fixture_path) for d in found if d.kind == "missing"}
    unexpected = {d.rendered_path: rendered.files[d.rendered_path] for d in found if d.kind == "extra"}
    pairs: list[tuple[str, str]] = [(d.fixture_path, d.rendered_path) for d in found if d.kind in ("content", "parse")]
    for r_path, f_path in find_renames(unexpected, missing):
        draft.rules.append(DraftRule(cluster, "alias", r_path, to=f_path,
                                     evidence=(f"rendered {r_path} has the content of fixture {f_path}",)))
        del unexpected[r_path], missing[f_path]
        pairs.append((f_path, r_path))
    for f_path in sorted(missing):
        draft.rules.append(DraftRule(cluster, "ignore_fixture", "/" + f_path,
                                     evidence=(f"{f_path} is in the fixture; the renderer does not produce it",)))
    for r_path in sorted(unexpected):
        draft.rules.append(DraftRule(cluster, "ignore_rendered", "/" + r_path,
                                     evidence=(f"the renderer produces {r_path}; the fixture does not have it",)))
    for key, r_path in sorted(pairs):
        existing = [r for r in rules if r.kind == "yaml_remove" and (r.matches(key) or r.matches(r_path))]
        outcome = draft_yaml_remove(cluster, key, r_path, rendered.files[r_path], fixture_bytes(key), existing)
        if isinstance(outcome, DraftRule):
            draft.rules.append(outcome)
        elif isinstance(outcome, Unresolved):
            draft.unresolved.append(outcome)
    _verify(draft, rendered, fixture_root, rules, max_file_bytes=max_file_bytes)
    return draft


def _verify(draft: ClusterDraft, rendered: RenderedCluster, fixture_root: Path, rules: Sequence[Rule], *,
            max_file_bytes: int) -> None:
    """Compare again with the drafts: what still fails is unresolved; current rules matched are recorded."""
    for _ in range(len(draft.rules) + 1):
        combined = [*rules, *(d.as_rule(f"draft-{i}") for i, d in enumerate(draft.rules))]
        try:
            result = compare_cluster(draft.cluster, rendered.files, fixture_root,
                                     ruleset_of(draft.cluster, combined), rendered.plan, max_file_bytes=max_file_bytes)
            break
        except InputError as error:
            hidden = re.match(r"rule 'draft-(\d+)'", error.message)
            if error.code != "INVENTORY-SECURITY-HIDDEN" or hidden is None:
                raise
            index = int(hidden.group(1))
            what = error.message.split(" would hide ", 1)[-1].split(" from parity", 1)[0]
            draft.rules[index] = replace(draft.rules[index], waiver=True, evidence=(
                *draft.rules[index].evidence, f"it hides {what}: a security_waiver (security review) is required"))
    else:
        raise InputError("INTERNAL", "draft verification did not settle", hint="report it")
    draft.matched = {i for i in result.matched_rules if not i.startswith("draft-")}
    known = {u.path for u in draft.unresolved}
    for finding in result.findings:
        if finding.severity is Severity.ERROR and finding.path not in known:
            draft.unresolved.append(Unresolved(draft.cluster, finding.path, f"{finding.code}: {finding.message}"))


# ------------------------------------------------------------------------------------------ folding

def fold_defaults(drafts: Sequence[ClusterDraft], all_clusters: Sequence[str]) -> list[DraftRule]:
    """Every draft rule once: a rule drafted alike for every cluster of the fixture (when all of them were
    drafted, and there is more than one) becomes one ``defaults`` rule; the others stay per cluster."""
    by_cluster = {d.cluster: d for d in drafts}
    common: list[tuple[Any, ...]] = []
    if len(all_clusters) > 1 and set(all_clusters) <= set(by_cluster):
        signatures = [{r.signature for r in by_cluster[c].rules} for c in all_clusters]
        first = by_cluster[all_clusters[0]].rules
        common = [r.signature for r in first if all(r.signature in s for s in signatures)]
    folded: list[DraftRule] = []
    for signature in dict.fromkeys(common):
        rule = next(r for r in by_cluster[all_clusters[0]].rules if r.signature == signature)
        evidence = tuple(f"{c}: {line}" for c in all_clusters[:3]
                         for r in by_cluster[c].rules if r.signature == signature for line in r.evidence[:1])
        waiver = any(r.waiver for d in drafts for r in d.rules if r.signature == signature)
        folded.append(replace(rule, cluster="", evidence=evidence, waiver=waiver))
    shared = set(common)
    for draft in drafts:
        folded.extend(r for r in draft.rules if r.signature not in shared)
    return folded


def stale_rules(inventory: Inventory, matched: set[str], clusters_run: Iterable[str],
                all_clusters: Iterable[str]) -> list[Rule]:
    """Current rules that matched nothing where that is judged (a default only when every cluster ran)."""
    ran = set(clusters_run)
    every_ran = set(all_clusters) <= ran
    return [r for r in inventory.all_rules() if r.id not in matched
            and ((r.cluster and r.cluster in ran) or (not r.cluster and every_ran))]


def propose(project: ProjectConfig, inventory: Inventory, renderer: Renderer, clusters: Sequence[str]) -> Proposal:
    """Draft every selected cluster, fold common rules into ``defaults`` and list stale current rules."""
    all_clusters = project.clusters()
    drafts = []
    for cluster in clusters:
        rendered = render_cluster(project, renderer, cluster)
        rules = inventory.rules_for(cluster).rules
        drafts.append(draft_cluster(cluster, rendered, project.overlays / cluster, rules,
                                    max_file_bytes=project.max_file_bytes))
    matched: set[str] = set().union(*(d.matched for d in drafts)) if drafts else set()
    return Proposal(inventory=inventory, clusters=list(clusters), all_clusters=all_clusters,
                    rules=fold_defaults(drafts, all_clusters),
                    unresolved=[u for d in drafts for u in d.unresolved],
                    stale=stale_rules(inventory, matched, [d.cluster for d in drafts if not _failed(d)],
                                      all_clusters))


def _failed(draft: ClusterDraft) -> bool:
    return any(u.path == "" for u in draft.unresolved)


def draft_id(rule: DraftRule, taken: set[str]) -> str:
    """A readable, unique rule id: ``<cluster|all>-<kind>-<last path segments>``."""
    short = {"yaml_remove": "remove", "ignore_fixture": "ignore-fixture", "ignore_rendered": "ignore-rendered"}
    parts = [p for p in rule.path.strip("/").split("/") if p]
    stem = "-".join(parts[-2:])
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    base = _ID_CHARS.sub("-", f"{rule.cluster or 'all'}-{short.get(rule.kind, rule.kind)}-{stem}").strip("-")[:90]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


# ------------------------------------------------------------------------------------------ --narrow

@dataclass(frozen=True)
class Narrowing:
    """For one ``path_only`` rule in one cluster and file: the replacing pointers, or why there are none."""

    rule: str
    cluster: str
    path: str
    pointers: tuple[str, ...] = ()
    match_kind: str | None = None
    reason: str = ""


def narrow(project: ProjectConfig, inventory: Inventory, renderer: Renderer,
           clusters: Sequence[str]) -> list[Narrowing]:
    """For each ``path_only`` rule, per cluster it applies to and file it matches, the ``yaml_remove``
    pointers that would make the pair equal without it, or the reason none can."""
    path_only = [r for r in inventory.all_rules() if r.kind == "path_only"]
    out: list[Narrowing] = []
    for cluster in clusters:
        applicable = [r for r in path_only if r.cluster in ("", cluster)]
        if not applicable:
            continue
        rendered = render_cluster(project, renderer, cluster)
        fixture_root = project.overlays / cluster
        if rendered.error is not None:
            out.extend(Narrowing(r.id, cluster, "", reason=f"the renderer failed: {rendered.error.one_line()}")
                       for r in applicable)
            continue
        listing = walk_tree(fixture_root, max_file_bytes=project.max_file_bytes)
        rules = inventory.rules_for(cluster).rules
        for rule in applicable:
            others = [r for r in rules if r.id != rule.id]
            ruleset = ruleset_of(cluster, others)
            hits = sorted({p for p in (*listing.owned, *rendered.files) if rule.matches(p)})
            if not hits:
                out.append(Narrowing(rule.id, cluster, "", reason="matches no file (stale): delete the rule"))
            for key in hits:
                out.append(_narrow_file(rule, cluster, key, rendered, fixture_root, ruleset, others,
                                        project.max_file_bytes))
    return out


def _narrow_file(rule: Rule, cluster: str, key: str, rendered: RenderedCluster, fixture_root: Path,
                 ruleset: RuleSet, others: Sequence[Rule], max_file_bytes: int) -> Narrowing:
    alias = ruleset.alias_source(key)
    r_path = alias.path if alias is not None else key
    if r_path not in rendered.files or not (fixture_root / key).is_file():
        side = "rendered" if r_path not in rendered.files else "fixture"
        return Narrowing(rule.id, cluster, key, reason=f"the {side} side has no such file; path_only only asks "
                         "for presence there, which yaml_remove cannot express")
    existing = [r for r in others if r.kind == "yaml_remove" and (r.matches(key) or r.matches(r_path))]
    outcome = draft_yaml_remove(cluster, key, r_path, rendered.files[r_path],
                                read_file(fixture_root, key, max_file_bytes=max_file_bytes), existing)
    if outcome is None:
        return Narrowing(rule.id, cluster, key, reason="the files are equal without it: the rule is not needed")
    if isinstance(outcome, Unresolved):
        return Narrowing(rule.id, cluster, key, reason=outcome.reason)
    return Narrowing(rule.id, cluster, key, pointers=outcome.pointers, match_kind=outcome.match_kind)


# ------------------------------------------------------------------------------------------ the file

def proposal_text(proposal: Proposal, *, new_inventory: bool) -> str:
    """The complete draft inventory: current rules (minus stale ones) plus every draft rule, in the order
    the loader resolves them (defaults, then clusters in fixture order)."""
    from harness.inventory_writer import Entry, bump_minor, inventory_text, rule_entry

    inventory = proposal.inventory
    stale = {r.id for r in proposal.stale}
    taken = {r.id for r in inventory.all_rules()}

    def draft_entry(rule: DraftRule) -> Entry:
        fields: dict[str, object] = {"id": draft_id(rule, taken), "kind": rule.kind, "path": rule.path}
        if rule.to is not None:
            fields["to"] = rule.to
        if rule.match_kind is not None:
            fields["match_kind"] = rule.match_kind
        if rule.pointers:
            fields["pointers"] = list(rule.pointers)
        fields.update(rationale="", approved_by="")
        if rule.waiver:
            fields["security_waiver"] = {"rationale": "", "approved_by": ""}
        comments = ("DRAFT: review, then write rationale and approved_by" + (" (every cluster)" if not rule.cluster
                                                                               else ""),
                    *rule.evidence)
        return Entry(fields, comments)

    defaults = [rule_entry(r) for r in inventory.defaults if r.id not in stale]
    defaults += [draft_entry(r) for r in proposal.rules if not r.cluster]
    names = list(dict.fromkeys([*inventory.clusters, *proposal.all_clusters]))
    clusters = {name: [rule_entry(r) for r in inventory.clusters.get(name, ()) if r.id not in stale]
                for name in names}
    for rule in proposal.rules:
        if rule.cluster:
            clusters.setdefault(rule.cluster, []).append(draft_entry(rule))
    drafted = len(proposal.rules)
    header = ["DRAFT canonicalization inventory written by `overlay-parity propose`.",
              f"{drafted} draft rule(s) have an empty rationale and approved_by: the inventory schema refuses them",
              "until a reviewer writes why the fixture is not authoritative for each difference and who approved it.",
              "Then bump `version` if needed and run `overlay-parity check --inventory <this file>`."]
    if proposal.stale:
        header.append("Dropped stale rules (they matched nothing): " + ", ".join(r.id for r in proposal.stale))
    version = "0.1.0" if new_inventory else (bump_minor(inventory.version) if drafted or stale else inventory.version)
    return inventory_text(version=version, fixture=inventory.fixture or "fixture",
                          path_only_budget=inventory.path_only_budget, defaults=defaults, clusters=clusters,
                          header=header)
