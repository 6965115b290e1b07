"""One ``pytest --parity`` session as plain library code: which check items exist, how each runs, what a
process hands to another, and the report. The pytest plugin (:mod:`harness.pytest_plugin`) is a thin face
over it: it turns :class:`ItemSpec` values into pytest items and calls :meth:`ParitySession.run`.

Items: ``parity[<cluster>]`` (render, compare; with ``update`` rewrite the fixture first), ``inventory``
(the ``path_only`` budget and the stale-rule verdict over every cluster that ran), ``coverage`` (when the
template or descriptor root exists), ``secrets[<root>]`` (one per fixture root of ``fixture_globs``) and
``policy[<cluster>-<policy>]``. Coverage and secrets belong to the first shard. A cluster whose policy
items are selected is rendered once per process into a temporary directory those items share; otherwise
``parity[...]`` renders in memory when the renderer can.

Between processes (pytest-xdist) only JSON-able data travels (:meth:`ParitySession.handover` /
:meth:`ParitySession.take_over`): results, matched rule ids and the clusters that ran. The ``inventory``
item runs once on the union, in the process that writes the report, which loads the inventory file
itself (never the renderer), so a rule matched on another worker is never called stale and the report
equals a single-process run. Results name flags as the pytest face spells them (``--parity-update``,
:mod:`harness.face_flags`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError
from harness.face_flags import result_for_pytest
from harness.findings import Severity
from harness.options import ProjectOptions
from harness.report import CheckResult, Report

if TYPE_CHECKING:
    from harness.inventory import Inventory
    from harness.project_config import ProjectConfig
    from harness.renderer_api import Plan
    from harness.runner import ParityRun

CHECK_ORDER = {"parity": 0, "inventory": 1, "coverage": 2, "secrets": 3, "policy": 4}
INVENTORY_ITEM = "inventory"
UNION = "union"  # the args of the inventory item judged on every process's results


@dataclass(frozen=True)
class SessionOptions:
    """What the user asked the session for (the plugin fills it from its ``--parity-*`` options)."""

    project: ProjectOptions = field(default_factory=ProjectOptions)
    clusters: tuple[str, ...] = ()
    shard: str = ""
    update: bool = False
    force: bool = False
    report: Path | None = None


@dataclass(frozen=True)
class ItemSpec:
    """One check item: its name (the test id), kind, the path pytest shows, its cluster, its arguments."""

    name: str
    kind: str
    path: Path
    cluster: str = ""
    args: tuple[str, ...] = ()


@dataclass
class ParitySession:
    """Per-process state of one session: the project, the selection, the results of the items run here."""

    options: SessionOptions
    root: Path
    clusters: list[str] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)
    policy_clusters: set[str] = field(default_factory=set)
    _project: ProjectConfig | None = None
    _run: ParityRun | None = None
    _run_error: InputError | None = None
    _inventory: Inventory | InputError | None = None
    _workdir: Path | None = None
    _rendered: dict[str, tuple[Path, Plan] | InputError] = field(default_factory=dict)
    _builder: Any = None
    _batch: ExitStack = field(default_factory=ExitStack)

    # ------------------------------------------------------------------------------------ selection

    def project(self) -> ProjectConfig:
        """The project settings (found from ``root``) with the session's overrides."""
        if self._project is None:
            self._project = self.options.project.load(self.root)
        return self._project

    def select(self) -> None:
        """Validate the options and choose the clusters (InputError: bad selection, one line)."""
        from harness.selection import is_first_shard, select_clusters

        if self.options.force and not self.options.update:
            raise InputError("USAGE", "--parity-update-force needs --parity-update", hint="add --parity-update")
        project = self.project()
        if self.options.shard:
            is_first_shard(self.options.shard)
        self.clusters = select_clusters(project, list(self.options.clusters) or None, self.options.shard or None,
                                        require_overlays=not self.options.update)

    def items(self, *, policies: Sequence[str] = (), coverage: bool = True, secrets: bool = True) -> list[ItemSpec]:
        """Every item of the selection, in collection order (``policies``: the policy names to collect;
        ``coverage``/``secrets``: whether those check modules are available)."""
        from harness.selection import is_first_shard

        project = self.project()
        overlays = project.overlays
        specs = [ItemSpec(f"parity[{cluster}]", "parity", overlays / cluster, cluster) for cluster in self.clusters]
        specs.append(ItemSpec(INVENTORY_ITEM, "inventory", project.inventory))
        if is_first_shard(self.options.shard):
            if coverage and (project.template_root.is_dir() or project.descriptor_root.is_dir()):
                specs.append(ItemSpec("coverage", "coverage", project.descriptor_root))
            if secrets:
                for root, globs in secret_roots(project.fixture_globs).items():
                    specs.append(ItemSpec(f"secrets[{root}]", "secrets", project.root / root, args=(root, *globs)))
        for cluster in self.clusters:
            specs.extend(ItemSpec(f"policy[{cluster}-{policy}]", "policy", overlays / cluster, cluster, (policy,))
                         for policy in policies)
        return specs

    def selected(self, specs: Iterable[ItemSpec]) -> None:
        """Note the items that will run here: clusters with policy items share one render on disk."""
        self.policy_clusters = {spec.cluster for spec in specs if spec.kind == "policy"}

    # ------------------------------------------------------------------------------------ running

    def run(self, spec: ItemSpec) -> CheckResult:
        """Run one item and keep its result (bad input: the InputError is kept as a finding and re-raised)."""
        started = time.perf_counter()
        try:
            result = result_for_pytest(self._check(spec))
        except InputError as error:
            from harness.findings import input_error_finding

            self.results.append(result_for_pytest(CheckResult(
                name=spec.name, check=spec.kind, cluster=spec.cluster, seconds=time.perf_counter() - started,
                findings=[input_error_finding(error, check=spec.kind, cluster=spec.cluster)])))
            raise
        self.results.append(result)
        return result

    def _check(self, spec: ItemSpec) -> CheckResult:
        if spec.kind == "parity":
            return self._parity(spec.cluster)
        if spec.kind == "inventory":
            if spec.args == (UNION,):
                return self.inventory_result(*self.union())
            run = self.parity_run()
            return self.inventory_result(set(run.matched_rules), set(run.clusters_run))
        if spec.kind == "coverage":
            return self._coverage()
        if spec.kind == "secrets":
            return self._secrets(spec.args[0], spec.args[1:])
        return self._policy(spec.cluster, spec.args[0])

    def parity_run(self) -> ParityRun:
        """The :class:`harness.runner.ParityRun` of this process (a load failure is re-raised per item)."""
        if self._run_error is not None:
            raise self._run_error
        if self._run is None:
            from harness.runner import ParityRun

            try:
                self._run = ParityRun.create(self.project())
            except InputError as error:
                self._run_error = error
                raise
            from harness.renderer_api import batch_of

            self._batch.enter_context(batch_of(self._run.renderer))  # the session renders many clusters
        return self._run

    def _parity(self, cluster: str) -> CheckResult:
        run = self.parity_run()
        rendered: tuple[Path, Plan] | None = None
        if cluster in self.policy_clusters:
            started = time.perf_counter()
            try:
                rendered = self.rendered(cluster)
            except InputError as error:
                failed: CheckResult = run.render_failed(cluster, error, started)
                return failed
        if self.options.update:
            result, _ = run.update_cluster(cluster, force=self.options.force, rendered=rendered)
            return result
        checked: CheckResult = run.check_cluster(cluster, rendered=rendered)
        return checked

    def inventory(self) -> Inventory:
        """The inventory: the run's when this process ran one, else loaded from its file (never the renderer)."""
        if self._run is not None or self._run_error is not None:
            return self.parity_run().inventory
        if self._inventory is None:
            from harness.inventory import load_inventory
            from harness.inventory_judge import display_path

            project = self.project()
            try:
                self._inventory = load_inventory(project.inventory, max_bytes=project.max_file_bytes,
                                                 display=display_path(project.inventory, project.root),
                                                 security_kinds=project.security_kinds)
            except InputError as error:
                self._inventory = error
        if isinstance(self._inventory, InputError):
            raise self._inventory
        return self._inventory

    def preload_inventory(self) -> None:
        """Load the inventory now (while other processes finish), keeping a load error for the item."""
        with contextlib.suppress(InputError):
            self.inventory()

    def inventory_result(self, matched: set[str], ran: set[str]) -> CheckResult:
        """The ``inventory`` item over the rule ids ``matched`` and the clusters ``ran``."""
        from harness.inventory_judge import inventory_notes, inventory_result

        project, inventory = self.project(), self.inventory()
        result: CheckResult = inventory_result(inventory, matched, ran, project.clusters(),
                                               notes=inventory_notes(project, inventory))
        return result

    def _coverage(self) -> CheckResult:
        from harness.coverage import check_coverage

        project = self.project()
        started = time.perf_counter()
        findings = check_coverage(project.template_root, project.descriptor_root, relative_to=project.root)
        return CheckResult(name="coverage", check="coverage", findings=findings,
                           seconds=time.perf_counter() - started,
                           notes={"template_root": str(project.template_root),
                                  "descriptor_root": str(project.descriptor_root)})

    def _secrets(self, root: str, globs: tuple[str, ...]) -> CheckResult:
        from harness.findings import Finding
        from harness.secrets import fixture_files
        from harness.secrets.allowlist import apply_allowlist, load_allowlist
        from harness.secrets.repository import scan_names
        from harness.secrets.walk import display_name

        project = self.project()
        started = time.perf_counter()
        allowlist = load_allowlist(project.secret_allowlist,
                                   display=display_name(project.secret_allowlist, project.root))
        names = [display_name(path, project.root) for path in fixture_files(project.root, globs)]
        # One process per CPU under -n 0; an xdist worker has its own core (and execnet's threads: no fork).
        processes = 1 if os.environ.get("PYTEST_XDIST_WORKER") else None
        findings = apply_allowlist(
            scan_names(project.root, names, in_fixture=_every_file, max_file_bytes=project.max_file_bytes,
                       processes=processes),
            allowlist, scanned=names, whole_repository=False)
        if not names:
            findings.append(Finding(code="FILE-MISSING", check="secrets", path=root, severity=Severity.WARNING,
                                    message=f"no file matches fixture_globs {list(globs)}: nothing was scanned",
                                    hint="fix fixture_globs in the overlay-parity settings"))
        return CheckResult(name=f"secrets[{root}]", check="secrets", findings=findings,
                           seconds=time.perf_counter() - started, notes={"scanned": len(names)})

    def _policy(self, cluster: str, policy: str) -> CheckResult:
        from harness.policy import PolicyOptions, check_overlay, sops_enabled_in_config

        project = self.project()
        run = self.parity_run()
        out, _ = self.rendered(cluster)
        config = project.config_for(cluster)
        fixture = project.overlays / cluster
        options = PolicyOptions.from_project(project, policies=(policy,),
                                             fixture_dir=fixture if fixture.is_dir() else None,
                                             sops_enabled=sops_enabled_in_config(config), renderer=run.renderer,
                                             config_path=config)
        if self._builder is None:  # as the policy command builds: one per usable core, kept in the build cache
            from harness.policy.builder import PolicyBuilder

            self._builder = PolicyBuilder(timeout=options.build_timeout, jobs=options.jobs, persistent=True)
        outcome = check_overlay(out, cluster=cluster, options=options, builder=self._builder)
        notes = dict(outcome.notes, lifecycle_claim=outcome.lifecycle_claim, policy_seconds=outcome.policy_seconds)
        return CheckResult(name=f"policy[{cluster}-{policy}]", check="policy", cluster=cluster,
                           findings=list(outcome.findings), seconds=outcome.seconds, notes=notes)

    def rendered(self, cluster: str) -> tuple[Path, Plan]:
        """The cluster rendered once per process into ``<workdir>/<cluster>/applications/overlays/<cluster>``."""
        cached = self._rendered.get(cluster)
        if cached is None:
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="overlay-parity-pytest-"))
            out = self._workdir / cluster / "applications" / "overlays" / cluster
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                from harness.policy.lifecycle import seed_bootstrap

                seed_bootstrap(self.project().overlays / cluster, out)
                cached = (out, self.parity_run().render(cluster, out))
            except InputError as error:
                cached = error
            self._rendered[cluster] = cached
        if isinstance(cached, InputError):
            raise cached
        return cached

    # ------------------------------------------------------------------------------------ between processes

    def handover(self) -> dict[str, Any]:
        """What a worker process hands to the one writing the report: JSON-able data only."""
        run = self._run
        return {"results": [r.to_dict() for r in self.results],
                "matched_rules": sorted(run.matched_rules) if run is not None else [],
                "clusters_run": sorted(run.clusters_run) if run is not None else []}

    def take_over(self, handed: dict[str, Any]) -> None:
        """Add what a worker handed over (:meth:`handover`)."""
        self.results.extend(CheckResult.from_dict(r) for r in handed.get("results", []))
        self.matched |= set(handed.get("matched_rules", []))
        self.ran |= set(handed.get("clusters_run", []))

    def union(self) -> tuple[set[str], set[str]]:
        """Matched rule ids and clusters run, here and in every worker taken over."""
        run = self._run
        own_matched = set(run.matched_rules) if run is not None else set()
        own_ran = set(run.clusters_run) if run is not None else set()
        return self.matched | own_matched, self.ran | own_ran

    def deferred_inventory(self) -> ItemSpec:
        """The ``inventory`` item judged on the union of every process (run it like any item)."""
        return ItemSpec(INVENTORY_ITEM, "inventory", self.project().inventory, args=(UNION,))

    # ------------------------------------------------------------------------------------ the end

    def report(self) -> Report:
        """Every result, in check order, with the inventory's notes (empty when it cannot be loaded)."""
        matched, ran = self.union()
        report = Report(results=sorted(self.results, key=_sort_key), matched_rules=matched, clusters_run=ran,
                        shard=self.options.shard)
        try:
            from harness.inventory_judge import inventory_notes

            report.inventory = inventory_notes(self.project(), self.inventory())
        except InputError:
            report.inventory = {}
        return report

    def write_report(self) -> Path | None:
        """Write the JSON report when one was asked for; returns its path."""
        if self.options.report is None:
            return None
        from harness.report import write_json

        write_json(self.report(), self.options.report)
        return self.options.report

    def update_lines(self) -> list[str]:
        """What ``update`` changed (and skipped) per cluster, in check order."""
        from harness.update import Change

        lines = [f"{result.cluster}: {Change.from_dict(change).describe()}"
                 for result in sorted((r for r in self.results if r.check == "parity"), key=_sort_key)
                 for change in result.notes.get("updates", [])]
        return lines or ["no fixture file needed a change"]

    def close(self) -> None:
        """End the renderer's batch, stop the kustomize builder, remove the shared renders."""
        self._batch.close()
        if self._builder is not None:
            self._builder.close()
            self._builder = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def secret_roots(globs: tuple[str, ...]) -> dict[str, list[str]]:
    """Fixture root (literal leading directories of each glob) -> its globs."""
    from harness.globs import has_magic

    roots: dict[str, list[str]] = {}
    for glob in globs:
        parts = glob.strip("/").split("/")
        lead: list[str] = []
        for part in parts[:-1]:
            if has_magic(part) or part == "**":
                break
            lead.append(part)
        roots.setdefault("/".join(lead) or ".", []).append(glob)
    return roots


def _sort_key(result: CheckResult) -> tuple[int, str]:
    return CHECK_ORDER.get(result.check, len(CHECK_ORDER)), result.name


def _every_file(name: str) -> bool:
    """The ``secrets[...]`` item scans fixture files only: the Secret-value policy applies to each."""
    return True
