"""Run parity checks: render each selected cluster, compare it with its oracle tree, report.

Clusters are streamed one at a time (render, compare, delete), so memory and disk stay flat however many
clusters a fixture has. The renderer is reached only through :mod:`harness.renderer_api`; which clusters
run is :mod:`harness.selection`; the ``inventory`` verdict over the clusters that ran is
:mod:`harness.inventory_judge`.

- Rendering: into memory when the renderer offers it (:class:`harness.renderer_api.MemoryRenderer`, the
  reference renderer does), so a check writes, re-reads and deletes nothing; else into a scratch directory.
- A renderer failure for one cluster is a ``PARITY-RENDER-ERROR`` finding of that cluster (the other
  clusters still run); a renderer that cannot be loaded or started at all is ``RENDERER-INVALID``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cluster_pool import map_in_order, worker_count
from harness.cluster_result import ClusterResult
from harness.config_secrets import lazy_config_secrets
from harness.errors import InputError, InputErrors
from harness.findings import Finding, failing
from harness.inventory import Inventory, load_inventory
from harness.inventory_judge import display_path, inventory_notes, inventory_result
from harness.parity import CHECK, compare_cluster
from harness.project_config import ProjectConfig
from harness.renderer_api import MemoryRenderer, Plan, RenderedFiles, Renderer, batch_of
from harness.renderers import renderer_for
from harness.report import CheckResult, Report
from harness.selection import select_clusters

if TYPE_CHECKING:  # imported where used: a clean check needs neither anchors, updates nor a command renderer
    from harness.anchors import ParityPlaces
    from harness.update import Change

RENDER_ERROR_HINT = "run `overlay-parity render --config <config>` to see the renderer's error and fix the input"
Progress = Callable[[CheckResult], None]


# ------------------------------------------------------------------------------------------- helpers

def render_error_finding(cluster: str, error: InputError) -> Finding:
    """A renderer failure for one cluster as a PARITY-RENDER-ERROR finding (the error line names no value)."""
    lines = error.lines() if isinstance(error, InputErrors) else [error.one_line()]
    location = error.location
    return Finding(code="PARITY-RENDER-ERROR", check=CHECK, cluster=cluster,
                   message=f"renderer failed ({error.code}): {error.message}",
                   path=location.file if location else "", line=location.line if location else 0,
                   hint=error.hint or RENDER_ERROR_HINT, diff=tuple(lines), extra={"error_code": error.code})


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
                                   display=display_path(project.inventory, project.root),
                                   security_kinds=project.security_kinds)
        renderer = renderer_for(project)
        command = sys.modules.get("harness.command_renderer")  # not imported: not a command renderer
        if command is not None and isinstance(renderer, command.CommandRenderer):
            renderer.check_program()
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
            max_file_bytes=self.project.max_file_bytes, security_kinds=self.project.security_kinds,
            secrets=lazy_config_secrets(self.project.config_for(cluster), max_bytes=self.project.max_file_bytes))
        self.matched_rules |= outcome.matched_rules
        self.clusters_run.add(cluster)
        if outcome.findings:
            from harness.anchors import anchor_parity

            outcome.findings = anchor_parity(outcome.findings, self.places(cluster, plan))
        return outcome

    def places(self, cluster: str, plan: Plan | None) -> ParityPlaces:
        """Where a cluster's findings point: its fixture overlay, config, templates and inventory rules."""
        outputs = [(a.output, a.template) for a in plan.actions] if plan is not None else []
        rules = [(r.id, r.file, r.line) for r in self.inventory.all_rules()]
        from harness.anchors import ParityPlaces

        return ParityPlaces.of(self.project.root, self.fixture_overlay(cluster), self.project.config_for(cluster),
                               self.project.template_root, outputs, rules)

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
        import tempfile

        with tempfile.TemporaryDirectory(prefix=f"overlay-parity-{cluster}-") as scratch:
            out = Path(scratch) / cluster
            try:
                plan = self.render(cluster, out)
            except InputError as error:
                return self.render_failed(cluster, error, started)
            outcome = self.compare(cluster, out, plan)
        return self._result(cluster, outcome, started)

    def check_in_worker(self, cluster: str) -> dict[str, Any]:
        """:meth:`check_cluster` as plain data for :mod:`harness.cluster_pool`: the result and what the
        comparison adds to the run (matched rules, whether the cluster ran)."""
        self.matched_rules, self.clusters_run = set(), set()
        result = self.check_cluster(cluster)
        return {"result": result.to_dict(), "matched_rules": sorted(self.matched_rules),
                "clusters_run": sorted(self.clusters_run)}

    def checked_from_worker(self, data: dict[str, Any]) -> CheckResult:
        """Take a :meth:`check_in_worker` answer into this run; returns the cluster's result."""
        self.matched_rules.update(data["matched_rules"])
        self.clusters_run.update(data["clusters_run"])
        return CheckResult.from_dict(data["result"])

    def update_cluster(self, cluster: str, *, force: bool = False, dry_run: bool = False,
                       rendered: tuple[Path, Plan] | None = None) -> tuple[CheckResult, list[Change]]:
        """``--parity-update``: rewrite the cluster's fixture from the renderer (:mod:`harness.update`), then
        check it. Returns the check result (what still differs, e.g. skipped files) and the changes."""
        started = time.perf_counter()
        fixture = self.fixture_overlay(cluster)
        import tempfile

        from harness.update import update_fixture

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
        from harness.anchors import anchor_parity

        findings = anchor_parity([render_error_finding(cluster, error)], self.places(cluster, None))
        return CheckResult(name=f"parity[{cluster}]", check=CHECK, cluster=cluster, findings=findings,
                           seconds=time.perf_counter() - started, notes={"render_error": error.code})

    def _result(self, cluster: str, outcome: ClusterResult, started: float) -> CheckResult:
        return CheckResult(name=f"parity[{cluster}]", check=CHECK, cluster=cluster, findings=list(outcome.findings),
                           seconds=time.perf_counter() - started, notes=outcome.notes())

    def inventory_result(self) -> CheckResult:
        """``inventory``: path_only budget and stale rules over the clusters this run compared."""
        result = inventory_result(self.inventory, self.matched_rules, self.clusters_run, self.project.clusters(),
                                  notes=self.inventory_notes())
        if result.findings:
            from harness.anchors import anchor_in_root

            result.findings = anchor_in_root(result.findings, self.project.root)
        return result

    def inventory_notes(self) -> dict[str, Any]:
        """Inventory facts for reports."""
        return inventory_notes(self.project, self.inventory)


def run_parity(project: ProjectConfig, clusters: Iterable[str] | None = None, *, shard: str | None = None,
               progress: Progress | None = None, update: bool = False, force: bool = False,
               jobs: int = 1) -> Report:
    """A full parity run: every selected cluster (streamed), then the inventory check; returns the report.

    With ``update``, each cluster's fixture is first brought in line with the renderer
    (:mod:`harness.update`; ``force`` lifts the ignore-rule and security protections) and the result's
    ``notes["updates"]`` lists every decision. ``progress`` is called with each result as soon as it
    exists (the CLI prints status lines with it). Bad input (selection, inventory, renderer, a broken
    tree) raises InputError before or during the run. ``jobs`` other than 1 checks the clusters on worker
    processes (:mod:`harness.cluster_pool`; 0: one per core), with the same results in the same order;
    ``update`` always runs in process.
    """
    selected = select_clusters(project, clusters, shard, require_overlays=not update)
    run = ParityRun.create(project)
    report = Report(shard=shard or "")
    workers = 1 if update else worker_count(jobs, len(selected))
    if update:
        results: Iterator[CheckResult] = (run.update_cluster(cluster, force=force)[0] for cluster in selected)
    elif workers > 1:
        results = _on_workers(run, selected, workers)
    else:
        results = (run.check_cluster(cluster) for cluster in selected)
    with batch_of(run.renderer):
        for result in results:
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


def _on_workers(run: ParityRun, selected: list[str], workers: int) -> Iterator[CheckResult]:
    """The first cluster in process, warming what the workers then inherit when they fork (the renderer's
    compiled templates, checked outputs and shared outputs, parsed oracle files), the rest on ``workers``."""
    yield run.check_cluster(selected[0])
    yield from (run.checked_from_worker(data) for data in map_in_order(run.check_in_worker, selected[1:], workers))


def gate(report: Report) -> int:
    """Exit code of a report: 1 when any finding fails the gate (NOTE/WARNING never do), else 0."""
    return 1 if failing(report.findings()) else 0
