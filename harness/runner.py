"""Run parity checks: select clusters, render each into a scratch dir, compare it with its oracle tree, report.

Clusters are streamed one at a time (render, compare, delete), so memory and disk stay flat however many
clusters a fixture has. The renderer is reached only through :mod:`harness.renderer_api`.

- Rendering: into memory when the renderer offers it (:class:`harness.renderer_api.MemoryRenderer`, the
  reference renderer does), so a check writes, re-reads and deletes nothing; else into a scratch directory.
- Selection (:func:`select_clusters`): every cluster with a ``.<cluster>-config.yaml`` in the fixture,
  or the requested ones (an unknown name is a one-line ``USAGE`` error naming the known ones), then this
  shard's share. A missing fixture root or oracle overlay directory is ``FILE-MISSING``.
- Sharding (:func:`shard_clusters`): ``I/N`` takes every N-th cluster of the sorted list starting at the
  I-th, so shards are deterministic, disjoint, and their union is the whole selection.
- A renderer failure for one cluster is a ``PARITY-RENDER-ERROR`` finding of that cluster (the other
  clusters still run); a renderer that cannot be loaded or started at all is ``RENDERER-INVALID``.
- The inventory result (:func:`inventory_findings`) holds the ``path_only`` budget and the stale-rule
  verdict over the clusters that ran; default rules are judged only when every cluster of the fixture
  ran, so a shard never calls a default rule stale -- ``merge-reports`` judges the union.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError, InputErrors
from harness.findings import Finding, failing
from harness.inventory import Inventory, load_inventory
from harness.parity import (
    CHECK,
    HINT_STALE,
    INVENTORY_CHECK,
    ClusterResult,
    budget_findings,
    compare_cluster,
    stale_rule_findings,
)
from harness.project_config import ProjectConfig
from harness.redact import is_secret_path
from harness.renderer_api import CommandRenderer, MemoryRenderer, Plan, RenderedFiles, Renderer, load_renderer
from harness.report import CheckResult, Report, split_shard
from harness.update import Change, update_fixture

RENDER_ERROR_HINT = "run `overlay-parity render --config <config>` to see the renderer's error and fix the input"
Progress = Callable[[CheckResult], None]


# ------------------------------------------------------------------------------------------- selection

def parse_shard(spec: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4); shards are 1-based. Anything else is a USAGE error."""
    shard = split_shard(spec)
    if shard is None:
        raise InputError("USAGE", f"bad shard {spec!r}", hint="use I/N with 1 <= I <= N, e.g. --shard 1/4")
    return shard


def shard_clusters(clusters: Iterable[str], index: int, total: int) -> list[str]:
    """This shard's deterministic share: sorted clusters at positions ``index-1, index-1+total, ...``."""
    return [c for position, c in enumerate(sorted(set(clusters))) if position % total == index - 1]


def is_first_shard(shard: str | None) -> bool:
    """Whether checks that are not per cluster (coverage, secrets) belong to this shard (shard 1 or none)."""
    return not shard or parse_shard(shard)[0] == 1


def select_clusters(project: ProjectConfig, requested: Iterable[str] | None = None, shard: str | None = None, *,
                    require_overlays: bool = True) -> list[str]:
    """The clusters to check: the requested ones (validated) or all, then this shard's share, sorted.

    Raises FILE-MISSING for a missing fixture root (and, with ``require_overlays``, for a selected cluster
    without an oracle overlay directory), USAGE for an unknown cluster or a bad shard.
    """
    if not project.fixture.is_dir():
        raise InputError("FILE-MISSING", "fixture directory does not exist", file=str(project.fixture),
                         hint="pass --fixture DIR or set `fixture` in [tool.overlay-parity]")
    selected = sorted(project.select_clusters(requested or ()))
    if shard:
        selected = shard_clusters(selected, *parse_shard(shard))
    if require_overlays:
        for cluster in selected:
            overlay = project.overlays / cluster
            if not overlay.is_dir():
                raise InputError("FILE-MISSING", "oracle overlay directory does not exist", file=str(overlay),
                                 hint=f"check in applications/overlays/{cluster}/ (or --update to create it), "
                                 "or select other clusters with --cluster")
    return selected


# ------------------------------------------------------------------------------------------- helpers

def config_secrets(config_path: Path, *, max_bytes: int) -> list[str]:
    """String values of a cluster config at secret-looking key paths (identity, known_hosts, ``secrets``...),
    removed from every diff line as a second line of defence. Unreadable configs yield nothing (the
    renderer reports them)."""
    from harness.yamlio import iter_paths, load_file

    try:
        docs = load_file(config_path, max_bytes=max_bytes)
    except InputError:
        return []
    values: set[str] = set()
    for doc in docs:
        for path, value in iter_paths(doc):
            if isinstance(value, str) and len(value) >= 4 and is_secret_path(path):
                values.add(value)
    return sorted(values)


def lazy_config_secrets(config_path: Path, *, max_bytes: int) -> Iterator[str]:
    """:func:`config_secrets`, read only when iterated: ``compare_cluster`` iterates it only for a cluster
    with findings, so a clean cluster does not parse its config a second time."""
    yield from config_secrets(config_path, max_bytes=max_bytes)


def _check_command(renderer: Renderer) -> None:
    """RENDERER-INVALID now, not once per cluster, when a command renderer's program does not exist."""
    if not isinstance(renderer, CommandRenderer):
        return
    try:
        argv = shlex.split(renderer.template)
    except ValueError as exc:
        raise InputError("RENDERER-INVALID", f"bad renderer command: {exc}",
                         hint="fix `renderer` in [tool.overlay-parity] or --renderer") from None
    if not argv:
        raise InputError("RENDERER-INVALID", "empty renderer command",
                         hint="set `renderer` to module:ATTR or a command with {config} and {out}")
    program = argv[0]
    found = shutil.which(program) if os.sep not in program else (program if os.access(program, os.X_OK) else None)
    if found is None:
        raise InputError("RENDERER-INVALID", f"renderer command not found: {program}",
                         hint="install it or fix `renderer` in [tool.overlay-parity] / --renderer")


def render_error_finding(cluster: str, error: InputError) -> Finding:
    """A renderer failure for one cluster as a PARITY-RENDER-ERROR finding (the error line names no value)."""
    lines = error.lines() if isinstance(error, InputErrors) else [error.one_line()]
    location = error.location
    return Finding(code="PARITY-RENDER-ERROR", check=CHECK, cluster=cluster,
                   message=f"renderer failed ({error.code}): {error.message}",
                   path=location.file if location else "", line=location.line if location else 0,
                   hint=error.hint or RENDER_ERROR_HINT, diff=tuple(lines), extra={"error_code": error.code})


def input_error_finding(error: InputError, *, check: str, cluster: str = "") -> Finding:
    """An input error met while running a check, as a finding for reports (its code is the error's code)."""
    location = error.location
    lines = error.lines() if isinstance(error, InputErrors) else [error.one_line()]
    return Finding(code=error.code, check=check, cluster=cluster, message=error.message,
                   path=location.file if location else "", line=location.line if location else 0,
                   hint=error.hint, diff=tuple(lines[1:]))


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (POSIX), else as given."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def inventory_findings(inventory: Inventory, matched: Iterable[str], clusters_run: Iterable[str],
                       all_clusters: Iterable[str]) -> list[Finding]:
    """Budget findings, then stale rules over ``clusters_run``.

    Besides :func:`harness.parity.stale_rule_findings`: when every cluster of the fixture ran, rules
    filed under a cluster the fixture does not have can never match and are stale too.
    """
    every = sorted(set(all_clusters))
    ran = set(clusters_run)
    findings = list(budget_findings(inventory))
    findings += stale_rule_findings(inventory, matched, ran, all_clusters=every)
    if ran and set(every) <= ran:
        for name, rules in inventory.clusters.items():
            if name in every:
                continue
            for rule in rules:
                findings.append(Finding(
                    code="PARITY-STALE-RULE", check=INVENTORY_CHECK, cluster=name, path=inventory.file,
                    line=rule.line, rules=(rule.id,), hint=HINT_STALE,
                    message=f"rule '{rule.id}' ({rule.kind} {rule.path}) is filed under cluster {name}, "
                            f"which has no config in the fixture (clusters: {', '.join(every)})",
                    extra={"rule": rule.to_dict()}))
    return findings


def inventory_notes(project: ProjectConfig, inventory: Inventory) -> dict[str, Any]:
    """Inventory facts for reports; ``path`` is relative to the project root so shard reports merge anywhere."""
    return {
        "path": display_path(project.inventory, project.root),
        "version": inventory.version,
        "digest": inventory.rules_digest(),
        "fixture": display_path(project.fixture, project.root),
        "clusters": project.clusters(),
        "rules": len(inventory.all_rules()),
        "path_only_rules": inventory.path_only_count(),
        "path_only_budget": inventory.path_only_budget,
    }


def inventory_result(inventory: Inventory, matched: Iterable[str], clusters_run: Iterable[str],
                     all_clusters: Iterable[str], notes: dict[str, Any] | None = None) -> CheckResult:
    """The ``inventory`` check result (budget + stale rules) for the given union of cluster runs."""
    ran = sorted(set(clusters_run))
    every = sorted(set(all_clusters))
    judged = "all rules" if ran and set(every) <= set(ran) else ("cluster rules of the clusters run" if ran
                                                                 else "nothing (no cluster ran)")
    result_notes = dict(notes or {})
    result_notes.update({"clusters_run": ran, "stale_rules_judged": judged})
    return CheckResult(name="inventory", check=INVENTORY_CHECK,
                       findings=inventory_findings(inventory, matched, ran, every), notes=result_notes)


# ------------------------------------------------------------------------------------------- the run

@dataclass
class ParityRun:
    """Shared state of one parity run: project settings, the renderer, the loaded inventory, and the union
    of matched rule ids and clusters compared so far."""

    project: ProjectConfig
    renderer: Renderer
    inventory: Inventory
    matched_rules: set[str] = field(default_factory=set)
    clusters_run: set[str] = field(default_factory=set)

    @classmethod
    def create(cls, project: ProjectConfig) -> ParityRun:
        """Load the inventory and the renderer named by ``project`` (INVENTORY-*, RENDERER-INVALID)."""
        inventory = load_inventory(project.inventory, max_bytes=project.max_file_bytes,
                                   display=display_path(project.inventory, project.root))
        renderer = load_renderer(project.renderer)
        _check_command(renderer)
        return cls(project, renderer, inventory)

    def fixture_overlay(self, cluster: str) -> Path:
        """The oracle overlay directory of a cluster."""
        return self.project.overlays / cluster

    def config(self, cluster: str) -> Path:
        """The cluster's config file (FILE-MISSING when it is gone)."""
        config = self.project.config_for(cluster)
        if not config.is_file():
            raise InputError("FILE-MISSING", "cluster config does not exist", file=str(config),
                             hint="add the config or drop the cluster from the run")
        return config

    def render(self, cluster: str, out_dir: Path) -> Plan:
        """Render one cluster config into ``out_dir`` (raises the renderer's InputError)."""
        config = self.config(cluster)
        plan = self.renderer.render(config, out_dir)
        if not out_dir.is_dir():
            raise InputError("RENDERER-INVALID", "the renderer produced no output directory", file=str(config),
                             hint="the renderer must write the overlay tree to {out}")
        return plan

    def render_in_memory(self, cluster: str) -> RenderedFiles | None:
        """The cluster rendered into memory when the renderer can (:class:`MemoryRenderer`), else None."""
        if not isinstance(self.renderer, MemoryRenderer):
            return None
        return self.renderer.render_files(self.config(cluster))

    def compare(self, cluster: str, rendered: Path | Mapping[str, bytes], plan: Plan | None) -> ClusterResult:
        """Compare a rendered tree (directory or in-memory files) with the cluster's oracle tree and record
        matched rules."""
        outcome = compare_cluster(
            cluster, rendered, self.fixture_overlay(cluster), self.inventory.rules_for(cluster), plan,
            max_file_bytes=self.project.max_file_bytes,
            secrets=lazy_config_secrets(self.project.config_for(cluster), max_bytes=self.project.max_file_bytes))
        self.matched_rules |= outcome.matched_rules
        self.clusters_run.add(cluster)
        return outcome

    def check_cluster(self, cluster: str, *, rendered: tuple[Path, Plan] | None = None) -> CheckResult:
        """``parity[<cluster>]``: render (into memory when the renderer can, else into a scratch dir that is
        deleted afterwards) or use ``rendered``, then compare."""
        started = time.perf_counter()
        if rendered is not None:
            outcome = self.compare(cluster, rendered[0], rendered[1])
            return self._result(cluster, outcome, started)
        try:
            in_memory = self.render_in_memory(cluster)
        except InputError as error:
            return self.render_failed(cluster, error, started)
        if in_memory is not None:
            return self._result(cluster, self.compare(cluster, in_memory.files, in_memory.plan), started)
        with tempfile.TemporaryDirectory(prefix=f"overlay-parity-{cluster}-") as scratch:
            out = Path(scratch) / cluster
            try:
                plan = self.render(cluster, out)
            except InputError as error:
                return self.render_failed(cluster, error, started)
            outcome = self.compare(cluster, out, plan)
        return self._result(cluster, outcome, started)

    def update_cluster(self, cluster: str, *, force: bool = False, dry_run: bool = False,
                       rendered: tuple[Path, Plan] | None = None) -> tuple[CheckResult, list[Change]]:
        """``--parity-update``: rewrite the cluster's fixture from the renderer (:mod:`harness.update`), then
        check it. Returns the check result (what still differs, e.g. skipped files) and the changes."""
        started = time.perf_counter()
        fixture = self.fixture_overlay(cluster)
        with tempfile.TemporaryDirectory(prefix=f"overlay-parity-update-{cluster}-") as scratch:
            if rendered is None:
                out = Path(scratch) / cluster
                try:
                    plan = self.render(cluster, out)
                except InputError as error:
                    return self.render_failed(cluster, error, started), []
                rendered = (out, plan)
            if not dry_run:
                fixture.mkdir(parents=True, exist_ok=True)
            changes = update_fixture(rendered[0], fixture, self.inventory.rules_for(cluster),
                                     security_kinds=self.project.security_kinds, force=force, dry_run=dry_run,
                                     max_file_bytes=self.project.max_file_bytes)
            outcome = self.compare(cluster, rendered[0], rendered[1])
        result = self._result(cluster, outcome, started)
        result.notes["updates"] = [c.to_dict() for c in changes]
        return result, changes

    def render_failed(self, cluster: str, error: InputError, started: float) -> CheckResult:
        """The result of a cluster whose render failed (not counted as run: its rules are not judged)."""
        return CheckResult(name=f"parity[{cluster}]", check=CHECK, cluster=cluster,
                           findings=[render_error_finding(cluster, error)],
                           seconds=time.perf_counter() - started, notes={"render_error": error.code})

    def _result(self, cluster: str, outcome: ClusterResult, started: float) -> CheckResult:
        return CheckResult(name=f"parity[{cluster}]", check=CHECK, cluster=cluster, findings=list(outcome.findings),
                           seconds=time.perf_counter() - started, notes=outcome.notes())

    def inventory_result(self) -> CheckResult:
        """``inventory``: path_only budget and stale rules over the clusters this run compared."""
        return inventory_result(self.inventory, self.matched_rules, self.clusters_run, self.project.clusters(),
                                notes=self.inventory_notes())

    def inventory_notes(self) -> dict[str, Any]:
        """Inventory facts for reports."""
        return inventory_notes(self.project, self.inventory)


def run_parity(project: ProjectConfig, clusters: Iterable[str] | None = None, *, shard: str | None = None,
               progress: Progress | None = None, update: bool = False, force: bool = False) -> Report:
    """A full parity run: every selected cluster (streamed), then the inventory check; returns the report.

    With ``update``, each cluster's fixture is first brought in line with the renderer
    (:mod:`harness.update`; ``force`` lifts the ignore-rule and security protections) and the result's
    ``notes["updates"]`` lists every decision. ``progress`` is called with each result as soon as it
    exists (the CLI prints status lines with it). Bad input (selection, inventory, renderer, a broken
    tree) raises InputError before or during the run.
    """
    selected = select_clusters(project, clusters, shard, require_overlays=not update)
    run = ParityRun.create(project)
    report = Report(shard=shard or "")
    for cluster in selected:
        result = run.update_cluster(cluster, force=force)[0] if update else run.check_cluster(cluster)
        report.results.append(result)
        if progress is not None:
            progress(result)
    inventory = run.inventory_result()
    report.results.append(inventory)
    if progress is not None:
        progress(inventory)
    report.matched_rules = set(run.matched_rules)
    report.clusters_run = set(run.clusters_run)
    report.inventory = run.inventory_notes()
    return report


def gate(report: Report) -> int:
    """Exit code of a report: 1 when any finding fails the gate (NOTE/WARNING never do), else 0."""
    return 1 if failing(report.findings()) else 0
