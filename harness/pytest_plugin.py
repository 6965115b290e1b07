"""pytest plugin: ``pytest --parity`` collects one test item per cluster and check.

Items (nothing is collected without ``--parity``; all carry the ``overlay_check`` marker, so
``pytest --parity -m overlay_check`` runs only them):

- ``parity[<cluster>]``: render the cluster, compare it with its oracle tree (:mod:`harness.runner`);
  with ``--parity-update`` the fixture is first rewritten from the renderer (:mod:`harness.update`);
- ``inventory``: the ``path_only`` budget and the stale-rule verdict over every cluster that ran;
- ``coverage``: every template file has exactly one descriptor owner (when the template or descriptor
  root exists, i.e. for the built-in renderer);
- ``secrets[<root>]``: the fixture secret scan, one item per fixture root of ``fixture_globs``;
- ``policy[<cluster>-<policy>]``: each policy of :data:`harness.policy.POLICIES` on the rendered tree.

``coverage``, ``secrets`` and ``policy`` items are collected only when their module exists; they are
imported lazily. A cluster whose policy items are selected is rendered at most once per process into a
session temp dir that those items share (removed at the end of the session); otherwise ``parity[...]``
renders in memory when the renderer can (:meth:`harness.runner.ParityRun.check_cluster`).

Options default to ``[tool.overlay-parity]`` of the nearest pyproject.toml: ``--parity-cluster``
(repeatable), ``--parity-fixture``, ``--parity-inventory``, ``--parity-renderer``, ``--parity-shard I/N``
(clusters are sharded; coverage and secrets run in shard 1), ``--parity-report PATH`` (JSON report),
``--parity-update`` and ``--parity-update-force``.

pytest-xdist: every per-cluster item carries ``xdist_group(<cluster>)``. Under ``--dist loadgroup`` a
worker gives it the node id ``<name>@<cluster>`` itself where pytest-xdist cannot (pytest >= 9.2 ignores
the ``_nodeid`` pytest-xdist 3.8 sets), so a cluster's parity and policy items share one worker and one
render. Results
never depend on the grouping: each process renders what its own items need, once. On a worker the
non-cluster items (``secrets``, ``coverage``) come first, so the longest single item is scheduled early
instead of ending the run on one worker. Workers ship their results, matched rule ids and the loaded
inventory (pickled: the controller never parses it again, nor loads the renderer) through
``workeroutput``; the ``inventory`` item is not run on a worker but by the controller once every worker
is done, on the union, so a rule that matched on another worker is never called stale and the report
equals a ``-n 0`` run. A failing item shows its findings (redacted) or a one-line input error, never a
traceback.

Start-up cost matters because every xdist worker pays it: pytest marks the packages of a plugin's
distribution (``harness``, ``renderer``) for assertion rewriting, which re-parses every module on
import when no bytecode cache can be written; :func:`pytest_configure` lifts that for our packages
(their ``assert`` statements are invariants, not test assertions).
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import InputError, InputErrors
from harness.findings import Severity
from harness.project_config import ProjectConfig, load_project_config
from harness.report import CheckResult, Report, format_finding, write_json

if TYPE_CHECKING:
    from harness.renderer_api import Plan

_WORKER_OUTPUT = "overlay_parity"
CHECK_ORDER = {"parity": 0, "inventory": 1, "coverage": 2, "secrets": 3, "policy": 4}
INVENTORY_ITEM = "inventory"
# Packages of this distribution that pytest would assertion-rewrite on import (see the module docstring).
OWN_PACKAGES = ("harness", "renderer")
_OVERLAY_CHECK = pytest.mark.overlay_check


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--parity*`` options."""
    group = parser.getgroup("overlay-parity", "overlay parity and policy checks")
    group.addoption("--parity", action="store_true", default=False, help="collect overlay-parity check items")
    group.addoption("--parity-cluster", action="append", default=None, metavar="NAME",
                    help="only this cluster (repeatable; default: every cluster of the fixture)")
    group.addoption("--parity-fixture", default=None, metavar="DIR",
                    help="fixture root (default: settings key fixture)")
    group.addoption("--parity-inventory", default=None, metavar="FILE",
                    help="canonicalization inventory (default: settings key inventory)")
    group.addoption("--parity-renderer", default=None, metavar="CMD",
                    help="renderer: module:ATTR or a command with {config} and {out}")
    group.addoption("--parity-report", default=None, metavar="PATH", help="write the JSON report to PATH")
    group.addoption("--parity-shard", default=None, metavar="I/N",
                    help="only this deterministic share of the clusters")
    group.addoption("--parity-update", action="store_true", default=False,
                    help="rewrite differing renderer-owned fixture files from the renderer (never ignored or "
                         "security-relevant ones), then check")
    group.addoption("--parity-update-force", action="store_true", default=False,
                    help="with --parity-update, also rewrite ignored and security-relevant files")


# ----------------------------------------------------------------------------------------------- state

@dataclass
class _State:
    """Per-process state of one session."""

    config: pytest.Config
    project: ProjectConfig | None = None
    clusters: list[str] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)
    shipped: list[dict[str, Any]] = field(default_factory=list)
    inventory_selected: bool = False
    policy_clusters: set[str] = field(default_factory=set)
    _run: Any = None
    _run_error: InputError | None = None
    _workdir: Path | None = None
    _rendered: dict[str, tuple[Path, Plan] | InputError] = field(default_factory=dict)
    _builder: Any = None
    _shipped_inventory: Any = None

    @property
    def update(self) -> bool:
        return bool(self.config.getoption("parity_update"))

    @property
    def force(self) -> bool:
        return bool(self.config.getoption("parity_update_force"))

    @property
    def shard(self) -> str:
        return str(self.config.getoption("parity_shard") or "")

    def require_project(self) -> ProjectConfig:
        if self.project is None:
            start = self.config.rootpath
            project = load_project_config(start)
            self.project = project.with_overrides(
                fixture=self.config.getoption("parity_fixture"),
                inventory=self.config.getoption("parity_inventory"),
                renderer=self.config.getoption("parity_renderer"),
            )
        return self.project

    def parity_run(self) -> Any:
        """The :class:`harness.runner.ParityRun` of this process (a load failure is re-raised per item)."""
        if self._run_error is not None:
            raise self._run_error
        if self._run is None:
            from harness.runner import ParityRun

            try:
                self._run = ParityRun.create(self.require_project())
            except InputError as error:
                self._run_error = error
                raise
        return self._run

    def inventory(self) -> Any:
        """The loaded :class:`harness.inventory.Inventory`: one a worker shipped (xdist controller), else
        the one of :meth:`parity_run` (so it fails exactly as the run does)."""
        if self._run is None and self._run_error is None and self._shipped_inventory is not None:
            return self._shipped_inventory
        return self.parity_run().inventory

    def take_shipped_inventory(self, encoded: str) -> None:
        """Keep the first inventory a worker shipped (an undecodable one is ignored: it is loaded instead)."""
        if self._shipped_inventory is None and encoded:
            self._shipped_inventory = _decode_inventory(encoded)

    def workdir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="overlay-parity-pytest-"))
        return self._workdir

    def rendered(self, cluster: str) -> tuple[Path, Plan]:
        """The cluster rendered once per process into ``<workdir>/<cluster>/applications/overlays/<cluster>``."""
        cached = self._rendered.get(cluster)
        if cached is None:
            out = self.workdir() / cluster / "applications" / "overlays" / cluster
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                from harness.policy.lifecycle import seed_bootstrap

                seed_bootstrap(self.require_project().overlays / cluster, out)
                cached = (out, self.parity_run().render(cluster, out))
            except InputError as error:
                cached = error
            self._rendered[cluster] = cached
        if isinstance(cached, InputError):
            raise cached
        return cached

    def builder(self) -> Any:
        if self._builder is None:
            from harness.kustomize import KustomizeBuilder

            self._builder = KustomizeBuilder()
        return self._builder

    def close(self) -> None:
        if self._builder is not None:
            self._builder.close()
            self._builder = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


_STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State:
    return config.stash[_STATE]


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("parity", False)) and _STATE in config.stash


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _is_xdist_controller(config: pytest.Config) -> bool:
    return not _is_worker(config) and config.pluginmanager.getplugin("dsession") is not None


def _module_available(name: str) -> bool:
    """Whether a check module exists (collected items are skipped only when it is genuinely absent)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


# ----------------------------------------------------------------------------------------------- items

class CheckFailed(Exception):
    """A check item found problems; carries the result so the failure shows findings, not a traceback."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.name)


class CheckItem(pytest.Item):
    """One overlay-parity check, run through a callable that returns a CheckResult."""

    def __init__(self, *, check: Callable[[], CheckResult], kind: str, cluster: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check = check
        self.kind = kind
        self.cluster = cluster
        self.add_marker(_OVERLAY_CHECK)
        if cluster:
            self.add_marker(_group_mark(cluster))

    def runtest(self) -> None:
        """Run the check; fail with the findings when any fails the gate."""
        state = _state(self.config)
        started = time.perf_counter()
        try:
            result = self._check()
        except InputError as error:
            from harness.findings import input_error_finding

            state.results.append(CheckResult(
                name=self.name, check=self.kind, cluster=self.cluster, seconds=time.perf_counter() - started,
                findings=[input_error_finding(error, check=self.kind, cluster=self.cluster)]))
            raise
        state.results.append(result)
        others = [f for f in result.findings if f.severity is not Severity.ERROR]
        if others:
            self.add_report_section("call", "notes", "\n".join(format_finding(f) for f in others))
        for change in result.notes.get("updates", []):
            if change.get("applied"):
                self.user_properties.append(("parity-update", f"{change['action']} {change['path']}"))
        if result.failed:
            raise CheckFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Findings, or the one-line input error; never a traceback (it could quote input values)."""
        error = excinfo.value
        if isinstance(error, CheckFailed):
            failing = [f for f in error.result.findings if f.severity is Severity.ERROR]
            return "\n".join(format_finding(f) for f in failing)
        if isinstance(error, InputErrors):
            return "\n".join(error.lines())
        if isinstance(error, InputError):
            return error.one_line()
        if os.environ.get("OVERLAY_PARITY_DEBUG"):
            return str(super().repr_failure(excinfo))
        return (f"overlay-parity: INTERNAL: unexpected {excinfo.typename} in {self.name} "
                "(fix: rerun with OVERLAY_PARITY_DEBUG=1 and report it)")

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Location shown by pytest."""
        return self.path, None, self.name


@functools.cache
def _group_mark(cluster: str) -> pytest.MarkDecorator:
    return pytest.mark.xdist_group(cluster)


def _item(session: pytest.Session, name: str, kind: str, path: Path, check: Callable[[], CheckResult],
          cluster: str = "") -> CheckItem:
    nodeid = f"{name}@{cluster}" if cluster and _own_group_suffix(session) else name
    item: CheckItem = CheckItem.from_parent(session, name=name, nodeid=nodeid, path=path, kind=kind,
                                            cluster=cluster, check=check)
    return item


def _own_group_suffix(session: pytest.Session) -> bool:
    """Whether per-cluster node ids get their ``@<cluster>`` suffix here: on an xdist worker under ``--dist
    loadgroup`` (the controller groups node ids by that suffix) when pytest no longer keeps node ids in
    ``Node._nodeid``, where pytest-xdist writes it (pytest >= 9.2); else pytest-xdist adds it itself."""
    config = session.config
    return (_is_worker(config) and bool(getattr(config.option, "loadgroup", False))
            and not hasattr(session, "_nodeid"))


def _secret_roots(globs: tuple[str, ...]) -> dict[str, list[str]]:
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


def _items(session: pytest.Session) -> Iterator[CheckItem]:
    config = session.config
    state = _state(config)
    project = state.require_project()
    from harness.selection import is_first_shard

    policies: list[str] = []
    if _module_available("harness.policy"):
        from harness.policy import POLICIES

        policies = list(POLICIES)
    overlays = project.overlays
    for cluster in state.clusters:
        yield _item(session, f"parity[{cluster}]", "parity", overlays / cluster,
                    functools.partial(_check_parity, state, cluster), cluster)
    yield _item(session, INVENTORY_ITEM, "inventory", project.inventory, lambda: _check_inventory(state))
    if is_first_shard(state.shard):
        if _module_available("harness.coverage") and (project.template_root.is_dir()
                                                       or project.descriptor_root.is_dir()):
            yield _item(session, "coverage", "coverage", project.descriptor_root, lambda: _check_coverage(state))
        if _module_available("harness.secrets"):
            for root, globs in _secret_roots(project.fixture_globs).items():
                yield _item(session, f"secrets[{root}]", "secrets", project.root / root,
                            functools.partial(_check_secrets, state, root, tuple(globs)))
    for cluster in state.clusters:
        overlay = overlays / cluster
        for policy in policies:
            yield _item(session, f"policy[{cluster}-{policy}]", "policy", overlay,
                        functools.partial(_check_policy, state, cluster, policy), cluster)


# ----------------------------------------------------------------------------------------------- checks

def _check_parity(state: _State, cluster: str) -> CheckResult:
    run = state.parity_run()
    rendered: tuple[Path, Plan] | None = None
    if cluster in state.policy_clusters:
        started = time.perf_counter()
        try:
            rendered = state.rendered(cluster)
        except InputError as error:
            result: CheckResult = run.render_failed(cluster, error, started)
            return result
    if state.update:
        result, _ = run.update_cluster(cluster, force=state.force, rendered=rendered)
    else:
        result = run.check_cluster(cluster, rendered=rendered)
    return result


def _check_inventory(state: _State, *, matched: set[str] | None = None, ran: set[str] | None = None) -> CheckResult:
    from harness.inventory_judge import inventory_notes, inventory_result

    project = state.require_project()
    inventory = state.inventory()
    if matched is None or ran is None:
        run = state.parity_run()
        matched, ran = set(run.matched_rules), set(run.clusters_run)
    result: CheckResult = inventory_result(inventory, matched, ran, project.clusters(),
                                           notes=inventory_notes(project, inventory))
    return result


def _check_coverage(state: _State) -> CheckResult:
    from harness.coverage import check_coverage

    project = state.require_project()
    started = time.perf_counter()
    findings = check_coverage(project.template_root, project.descriptor_root, relative_to=project.root)
    return CheckResult(name="coverage", check="coverage", findings=findings, seconds=time.perf_counter() - started,
                       notes={"template_root": str(project.template_root),
                              "descriptor_root": str(project.descriptor_root)})


def _check_secrets(state: _State, root: str, globs: tuple[str, ...]) -> CheckResult:
    from harness.findings import Finding
    from harness.secrets import fixture_files, scan_paths

    project = state.require_project()
    started = time.perf_counter()
    files = fixture_files(project.root, globs)
    findings = scan_paths(files, root=project.root, max_file_bytes=project.max_file_bytes)
    if not files:
        findings.append(Finding(code="FILE-MISSING", check="secrets", path=root, severity=Severity.WARNING,
                                message=f"no file matches fixture_globs {list(globs)}: nothing was scanned",
                                hint="fix fixture_globs in the overlay-parity settings"))
    return CheckResult(name=f"secrets[{root}]", check="secrets", findings=findings,
                       seconds=time.perf_counter() - started, notes={"scanned": len(files)})


def _check_policy(state: _State, cluster: str, policy: str) -> CheckResult:
    from harness.policy import PolicyOptions, check_overlay, sops_enabled_in_config

    project = state.require_project()
    run = state.parity_run()
    out, _ = state.rendered(cluster)
    config = project.config_for(cluster)
    fixture = project.overlays / cluster
    options = PolicyOptions.from_project(project, policies=(policy,), fixture_dir=fixture if fixture.is_dir() else None,
                                         sops_enabled=sops_enabled_in_config(config), renderer=run.renderer,
                                         config_path=config)
    outcome = check_overlay(out, cluster=cluster, options=options, builder=state.builder())
    notes = dict(outcome.notes, lifecycle_claim=outcome.lifecycle_claim, policy_seconds=outcome.policy_seconds)
    return CheckResult(name=f"policy[{cluster}-{policy}]", check="policy", cluster=cluster,
                       findings=list(outcome.findings), seconds=outcome.seconds, notes=notes)


# ----------------------------------------------------------------------------------------------- hooks

def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the per-session state."""
    config.addinivalue_line("markers", "overlay_check: an overlay-parity check item (collected by --parity)")
    config.stash[_STATE] = _State(config)
    _skip_assertion_rewrite(config)


def _skip_assertion_rewrite(config: pytest.Config) -> None:
    """Import our packages without pytest's assertion rewriting (a per-process parse of every module).

    Test modules and conftest files are still rewritten (they are matched by name, not by this mark).
    """
    hook = getattr(config.pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    cache = getattr(hook, "_marked_for_rewrite_cache", None)
    if isinstance(marked, set) and marked & set(OWN_PACKAGES):
        marked.difference_update(OWN_PACKAGES)
        if isinstance(cache, dict):
            for name in [n for n in cache if n.partition(".")[0] in OWN_PACKAGES]:
                del cache[name]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Validate the selection once, before any worker starts: bad input is one ``ERROR:`` line."""
    config = session.config
    if not _enabled(config):
        return
    state = _state(config)
    if config.getoption("parity_update_force") and not config.getoption("parity_update"):
        raise pytest.UsageError("USAGE: --parity-update-force needs --parity-update (fix: add --parity-update)")
    from harness.selection import is_first_shard, select_clusters

    try:
        project = state.require_project()
        if state.shard:
            is_first_shard(state.shard)
        state.clusters = select_clusters(project, config.getoption("parity_cluster"), state.shard or None,
                                         require_overlays=not state.update)
    except InputError as error:
        raise pytest.UsageError(error.one_line()) from None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the check items with ``--parity`` (first, so ``-k``/``-m`` and ``--deselect`` apply to them)."""
    if not _enabled(config):
        return
    try:
        ours = list(_items(session))
    except InputError as error:
        raise pytest.UsageError(error.one_line()) from None
    # Report them like collected items so "collected N items" and the selection counts are right.
    config.hook.pytest_collectreport(report=pytest.CollectReport("", "passed", None, list(ours)))
    items.extend(ours)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Note the clusters whose policy items are selected (they share one render on disk). On an xdist
    worker the ``inventory`` item is not run (the controller runs it on the union) and the non-cluster
    items go first (the same order on every worker, so the collections still agree)."""
    config = session.config
    if not _enabled(config):
        return
    state = _state(config)
    ours = [item for item in session.items if isinstance(item, CheckItem)]
    state.policy_clusters = {item.cluster for item in ours if item.kind == "policy"}
    if not _is_worker(config):
        return
    kept = [item for item in session.items if not (isinstance(item, CheckItem) and item.name == INVENTORY_ITEM)]
    state.inventory_selected = len(kept) != len(session.items)
    first = [item for item in kept if isinstance(item, CheckItem) and not item.cluster]
    session.items[:] = first + [item for item in kept if item not in first]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: keep what a worker shipped."""
    output = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if output and _STATE in node.config.stash:
        shipped = json.loads(output)
        state = _state(node.config)
        state.take_shipped_inventory(shipped.pop("inventory", ""))
        state.shipped.append(shipped)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Workers ship their results; the controller (or the only process) runs the deferred inventory item
    and writes the report."""
    config = session.config
    if not _enabled(config):
        return
    state = _state(config)
    try:
        if _is_worker(config):
            run = state._run
            config.workeroutput[_WORKER_OUTPUT] = json.dumps({  # type: ignore[attr-defined]
                "results": [r.to_dict() for r in state.results],
                "matched_rules": sorted(run.matched_rules) if run is not None else [],
                "clusters_run": sorted(run.clusters_run) if run is not None else [],
                "inventory_selected": state.inventory_selected,
                "inventory": _encode_inventory(run.inventory) if run is not None else "",
            })
            return
        matched: set[str] = set(state._run.matched_rules) if state._run is not None else set()
        ran: set[str] = set(state._run.clusters_run) if state._run is not None else set()
        for shipped in state.shipped:
            state.results.extend(CheckResult.from_dict(r) for r in shipped["results"])
            matched |= set(shipped["matched_rules"])
            ran |= set(shipped["clusters_run"])
        if _is_xdist_controller(config) and any(s.get("inventory_selected") for s in state.shipped):
            _run_deferred_inventory(session, state, matched, ran)
        _write_report(state, matched, ran)
    finally:
        state.close()


def _encode_inventory(inventory: Any) -> str:
    """The loaded inventory for the controller (empty when it cannot be pickled: it is loaded there)."""
    import base64
    import pickle

    try:
        return base64.b64encode(pickle.dumps(inventory, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")
    except Exception:  # a shipped copy is only a shortcut
        return ""


def _decode_inventory(encoded: str) -> Any:
    """The inventory :func:`_encode_inventory` shipped, or None when it cannot be decoded (it is loaded then)."""
    import base64
    import pickle

    try:
        return pickle.loads(base64.b64decode(encoded))  # noqa: S301 -- written by our own worker
    except Exception:  # a shipped copy is only a shortcut
        return None


def _run_deferred_inventory(session: pytest.Session, state: _State, matched: set[str], ran: set[str]) -> None:
    """Run the ``inventory`` item on the controller, through the normal reporting protocol."""
    from _pytest.runner import runtestprotocol

    project = state.require_project()
    item = _item(session, INVENTORY_ITEM, "inventory", project.inventory,
                 lambda: _check_inventory(state, matched=matched, ran=ran))
    session.testscollected += 1  # the workers did not count it: keep the progress display right
    session.config.hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=None, log=True)
    session.config.hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    if any(r.failed for r in reports) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _sort_key(result: CheckResult) -> tuple[int, str]:
    return CHECK_ORDER.get(result.check, len(CHECK_ORDER)), result.name


def _write_report(state: _State, matched: set[str], ran: set[str]) -> None:
    path = state.config.getoption("parity_report")
    if not path:
        return
    report = Report(results=sorted(state.results, key=_sort_key), matched_rules=matched, clusters_run=ran,
                    shard=state.shard)
    try:
        inventory = state.inventory()
        from harness.inventory_judge import inventory_notes

        report.inventory = inventory_notes(state.require_project(), inventory)
    except InputError:
        report.inventory = {}
    write_json(report, Path(path))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """What ``--parity-update`` changed (and skipped), and where the report went."""
    if not _enabled(config) or _is_worker(config):
        return
    state = _state(config)
    if state.update:
        from harness.update import Change

        terminalreporter.section("overlay-parity: fixture updates")
        results = sorted((r for r in state.results if r.check == "parity"), key=_sort_key)
        any_change = False
        for result in results:
            for change in result.notes.get("updates", []):
                any_change = True
                terminalreporter.line(f"{result.cluster}: {Change.from_dict(change).describe()}")
        if not any_change:
            terminalreporter.line("no fixture file needed a change")
    path = config.getoption("parity_report")
    if path:
        terminalreporter.line(f"overlay-parity: JSON report written to {path}")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker exits right after this, and the controller waits for it: freeze the heap so the
    interpreter's final garbage collections skip it (~0.2 s per worker for a large fleet). Only on
    workers: any other process may live on (pytester, ``pytest.main``)."""
    if _is_worker(config) and bool(config.getoption("parity", False)):
        gc.freeze()
