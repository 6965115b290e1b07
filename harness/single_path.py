"""One path of one cluster, seen exactly as the check sees it: the library behind ``diff`` and ``explain``.

A PATH given on either side (rendered or fixture, or a path into the fixture's overlay directory) becomes
an overlay-relative path (:func:`overlay_relative`).
The cluster is rendered into a temporary directory, both trees are listed and paired by
:func:`harness.pairing.pair_trees`, and the path's verdicts come from :func:`harness.pairing.verdict`, so
``explain`` and ``diff`` can never disagree with ``check`` (a property test holds them equal on every path
of every bundled cluster).
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.errors import InputError
from harness.file_compare import compare_pair
from harness.findings import Severity
from harness.inventory import RuleSet
from harness.pairing import Pair, Pairing, Verdict, dropped_verdict, pair_trees, verdict
from harness.project_config import ProjectConfig
from harness.renderer_api import Plan
from harness.rules import Facts, Rule, kind_of
from harness.runner import ParityRun
from harness.selection import select_clusters
from harness.tree import OWNED_DIRS, OWNED_FILES, Ownership, classify, read_file, walk_tree
from harness.yamlcompare import FileComparison

OWNERSHIP = {Ownership.OWNED: "renderer-owned", Ownership.BOOTSTRAP: "bootstrap-owned",
             Ownership.OTHER: "other (not renderer-owned)"}


def select_one(project: ProjectConfig, cluster: str) -> None:
    """Validate one cluster name against the project (bad input raises InputError)."""
    select_clusters(project, [cluster])


def overlay_relative(project: ProjectConfig, cluster: str, text: str) -> str:
    """PATH as a clean overlay-relative POSIX path (a path into the fixture overlay is made relative)."""
    overlay = (project.overlays / cluster).resolve()
    candidate = Path(text)
    if candidate.is_absolute() or candidate.exists():
        try:
            text = candidate.resolve().relative_to(overlay).as_posix()
        except ValueError:
            if candidate.is_absolute():
                raise InputError("PATH-ESCAPE", f"path is outside the {cluster} overlay", file=text,
                                 hint=f"give a path relative to applications/overlays/{cluster}/") from None
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if not parts or any(p in ("..", "") for p in parts) or text.startswith("/"):
        raise InputError("PATH-ESCAPE", "path must be relative to the overlay root, without '..'", file=text,
                         hint="e.g. services/fluxcd/harbor.yaml")
    return "/".join(p for p in parts if p != ".")


@dataclass
class RenderedCluster:
    """A cluster rendered into a temporary directory, with its oracle tree and their pairing."""

    cluster: str
    run: ParityRun
    out: Path
    plan: Plan
    fixture_root: Path
    ruleset: RuleSet
    pairing: Pairing
    rendered_files: frozenset[str]
    fixture_files: frozenset[str]


@contextmanager
def rendered_cluster(project: ProjectConfig, cluster: str) -> Iterator[RenderedCluster]:
    """Load the run, render a cluster the caller has selected (:func:`select_one`) into a temp dir (deleted
    afterwards), and pair the trees."""
    run = ParityRun.create(project)
    with tempfile.TemporaryDirectory(prefix=f"overlay-parity-{cluster}-") as scratch:
        out = Path(scratch) / cluster
        plan = run.render(cluster, out)
        fixture_root = run.fixture_overlay(cluster)
        limit = project.max_file_bytes
        rendered = walk_tree(out, max_file_bytes=limit, display=f"rendered:{cluster}", sizes=False).owned
        fixture = walk_tree(fixture_root, max_file_bytes=limit, display=str(fixture_root), sizes=False).owned
        ruleset = run.inventory.rules_for(cluster)
        yield RenderedCluster(cluster, run, out, plan, fixture_root, ruleset, pair_trees(ruleset, rendered, fixture),
                              frozenset(rendered), frozenset(fixture))


@dataclass(frozen=True)
class Inspection:
    """What the check concludes about one path: the pair it is compared in (if any), the two sides, the content
    comparison under the pair's rules, every verdict the path takes part in, and every rule that concerns it."""

    path: str
    rendered_path: str
    fixture_path: str
    has_rendered: bool
    has_fixture: bool
    pair: Pair | None
    comparison: FileComparison | None
    effective: frozenset[str]
    verdicts: tuple[Verdict, ...]
    rules: tuple[Rule, ...]

    @property
    def reported(self) -> tuple[Verdict, ...]:
        """The verdicts the check reports as findings (any severity)."""
        return tuple(v for v in self.verdicts if v.code is not None)

    @property
    def failing(self) -> bool:
        """Whether the check fails on this path."""
        return any(v.code is not None and v.severity is Severity.ERROR for v in self.verdicts)

    @property
    def summary(self) -> str:
        """One line: the reported verdicts, else why the path is accepted."""
        shown = self.reported or self.verdicts
        return "; ".join(dict.fromkeys(v.summary for v in shown)) or "neither side has this file: nothing to compare"

    def rule_facts(self) -> list[tuple[Rule, bool, str]]:
        """Every rule concerning the path, whether it made a difference here, and why."""
        differs = None if self.comparison is None else not self.comparison.equal
        facts = Facts(self.has_rendered, self.has_fixture, differs, self.effective)
        return [(rule, *kind_of(rule.kind).explain(rule, facts)) for rule in self.rules]


def inspect_path(rendered: RenderedCluster, path: str) -> Inspection:
    """Inspect one overlay-relative path (rendered or fixture side) of a rendered cluster."""
    view = rendered.pairing.concerning(path)
    pair = view.pair
    verdicts: list[Verdict] = [dropped_verdict(d) for d in view.dropped]
    verdicts += [Verdict("PARITY-UNEXPECTED", s.message, rules=s.winner.mapping) for s in view.shadowed]
    comparison: FileComparison | None = None
    effective: frozenset[str] = frozenset()
    limit = rendered.run.project.max_file_bytes
    for candidate in view.pairs:
        if candidate.rendered_path and candidate.in_fixture:
            result, found = compare_pair(rendered.out, candidate.rendered_path, rendered.fixture_root, candidate.key,
                                         candidate.content_rules, max_file_bytes=limit)
            verdicts.append(verdict(candidate, result, found))
            if candidate is pair:
                comparison, effective = result, frozenset(found)
        else:
            verdicts.append(verdict(candidate))
    if pair is not None:
        source = rendered.ruleset.alias_source(pair.key)
        rendered_path = pair.rendered_path or (source.path if source is not None else pair.key)
        fixture_path = pair.key
    else:
        alias = rendered.ruleset.alias_rule(path)
        rendered_path, fixture_path = path, (alias.to if alias is not None and alias.to else path)
    has_rendered = rendered_path in rendered.rendered_files
    has_fixture = fixture_path in rendered.fixture_files
    concerned = {r.id for p in {path, rendered_path, fixture_path} for r in rendered.ruleset.rules_matching(p)}
    rules = tuple(r for r in rendered.ruleset.rules if r.id in concerned)
    return Inspection(path, rendered_path, fixture_path, has_rendered, has_fixture, pair, comparison, effective,
                      tuple(verdicts), rules)


def _decisions(plan: Plan, path: str) -> list[dict[str, Any]]:
    """Descriptor decisions that name a segment of the path or guard a template under it."""
    segments = set(path.split("/"))
    found = []
    for decision in plan.decisions:
        if decision.descriptor in segments or (decision.subject and path.startswith(decision.subject)):
            found.append({"descriptor": decision.descriptor, "enabled": decision.enabled, "reason": decision.reason,
                          "subject": decision.subject})
    return found


def explanation(project: ProjectConfig, cluster: str, path: str) -> dict[str, Any]:
    """The explanation of one path of a selected cluster as JSON-ready data (renders the cluster into a temp
    dir): ownership, owner or descriptor decisions, both sides, every rule with whether it matched here and
    why, the verdicts (``verdicts``: code, severity, summary) and the one-line ``summary``."""
    owner = classify(path)
    data: dict[str, Any] = {"cluster": cluster, "path": path, "ownership": OWNERSHIP[owner]}
    if owner is Ownership.BOOTSTRAP:
        data["summary"] = "bootstrap-owned (flux-system/): never rendered, modified or deleted; excluded from parity"
        return data
    if owner is Ownership.OTHER:
        owned = ", ".join([*sorted(OWNED_FILES), *(f"{d}/" for d in sorted(OWNED_DIRS))])
        data["summary"] = f"not renderer-owned (only {owned} are): excluded from parity"
        return data
    with rendered_cluster(project, cluster) as rendered:
        found = inspect_path(rendered, path)
        action = next((a for a in rendered.plan.actions if a.output == found.rendered_path), None)
        data.update({
            "rendered_path": found.rendered_path,
            "fixture_path": found.fixture_path,
            "rendered": found.has_rendered,
            "in_fixture": found.has_fixture,
            "owner": ({"descriptor": action.owner, "template": action.template, "mode": action.mode,
                       "reason": action.reason} if action is not None else None),
            "decisions": _decisions(rendered.plan, found.rendered_path) if action is None else [],
            "rules": [{**rule.to_dict(), "scope": rule.scope, "matched": matched, "why": why}
                      for rule, matched, why in found.rule_facts()],
            "verdicts": [{"code": v.code, "severity": v.severity.value if v.code else "", "summary": v.summary}
                         for v in found.verdicts],
            "summary": found.summary,
        })
    return data


def generator_inputs(rendered: RenderedCluster, *, max_file_bytes: int) -> set[str]:
    """The secretGenerator inputs of either tree of ``rendered`` (their content is Secret data)."""
    from harness.secrets.generators import KUSTOMIZATION_NAMES, opaque_generator_inputs

    sides = [(rendered.out, rendered.rendered_files), (rendered.fixture_root, rendered.fixture_files)]
    return opaque_generator_inputs((path, read_file(root, path, max_file_bytes=max_file_bytes))
                                 for root, paths in sides for path in sorted(paths)
                                 if posixpath.basename(path) in KUSTOMIZATION_NAMES)
