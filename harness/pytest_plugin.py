"""pytest plugin: ``pytest --parity`` collects one test item per cluster and check.

A thin face over :class:`harness.parity_session.ParitySession` (which items exist, how each runs, what a
process hands over, the report). Nothing is collected without ``--parity``; every item carries the
``overlay_check`` marker (``pytest --parity -m overlay_check`` runs only them) and per-cluster items
``xdist_group(<cluster>)`` (under ``--dist loadgroup`` a cluster's parity and policy items share one
worker and one render). Every use of pytest or pytest-xdist internals is in :mod:`harness.pytest_internals`.

Options default to the project settings (``overlay-parity.toml`` or ``[tool.overlay-parity]``):
``--parity-cluster`` (repeatable), ``--parity-fixture``, ``--parity-inventory``, ``--parity-renderer``,
``--parity-shard I/N`` (clusters are sharded; coverage and secrets run in shard 1), ``--parity-report
PATH`` (JSON report), ``--parity-update`` and ``--parity-update-force``.

With pytest-xdist the ``inventory`` item does not run on a worker: workers hand their results over as
JSON, and the controller runs it once every worker is done, on the union, so the report equals a
``-n 0`` run. On a worker the non-cluster items (``secrets``, ``coverage``) come first, so the longest
single item is scheduled early. A failing item shows its findings (redacted) or a one-line input error,
never a traceback.
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from harness import pytest_internals as internals
from harness.errors import InputError, InputErrors
from harness.face_flags import in_pytest_flags
from harness.findings import Severity
from harness.options import ProjectOptions
from harness.parity_session import INVENTORY_ITEM, ItemSpec, ParitySession, SessionOptions
from harness.report import CheckResult, format_finding

_SESSION = pytest.StashKey[ParitySession]()
_INVENTORY_ON_WORKER = pytest.StashKey[bool]()
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


def _options(config: pytest.Config) -> SessionOptions:
    report = config.getoption("parity_report")
    return SessionOptions(
        project=ProjectOptions(fixture=config.getoption("parity_fixture"),
                               inventory=config.getoption("parity_inventory"),
                               renderer=config.getoption("parity_renderer")),
        clusters=tuple(config.getoption("parity_cluster") or ()), shard=str(config.getoption("parity_shard") or ""),
        update=bool(config.getoption("parity_update")), force=bool(config.getoption("parity_update_force")),
        report=Path(report) if report else None)


def _session(config: pytest.Config) -> ParitySession | None:
    """The session when ``--parity`` is on."""
    return config.stash.get(_SESSION, None) if config.getoption("parity", False) else None


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# ----------------------------------------------------------------------------------------------- items

class CheckFailed(Exception):
    """A check item found problems; carries the result so the failure shows findings, not a traceback."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.name)


class CheckItem(pytest.Item):
    """One overlay-parity check item: runs its :class:`ItemSpec` through the session."""

    def __init__(self, *, spec: ItemSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.add_marker(_OVERLAY_CHECK)
        if spec.cluster:
            self.add_marker(_group_mark(spec.cluster))

    def runtest(self) -> None:
        """Run the check; fail with the findings when any fails the gate."""
        session = self.config.stash[_SESSION]
        result = session.run(self.spec)
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
            return "\n".join(format_finding(f) for f in error.result.findings if f.severity is Severity.ERROR)
        if isinstance(error, InputErrors):
            return "\n".join(in_pytest_flags(line) for line in error.lines())
        if isinstance(error, InputError):
            return in_pytest_flags(error.one_line())
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


def _item(session: pytest.Session, spec: ItemSpec) -> CheckItem:
    suffix = spec.cluster and internals.own_group_suffix(session)
    item: CheckItem = CheckItem.from_parent(session, name=spec.name, path=spec.path, spec=spec,
                                            nodeid=f"{spec.name}@{spec.cluster}" if suffix else spec.name)
    return item


# ----------------------------------------------------------------------------------------------- hooks

def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the per-process session."""
    config.addinivalue_line("markers", "overlay_check: an overlay-parity check item (collected by --parity)")
    config.stash[_SESSION] = ParitySession(_options(config), config.rootpath)
    internals.skip_assertion_rewrite(config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Validate the selection once, before any worker starts: bad input is one ``ERROR:`` line."""
    parity = _session(session.config)
    if parity is None:
        return
    try:
        parity.select()
    except InputError as error:
        raise pytest.UsageError(in_pytest_flags(error.one_line())) from None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the check items with ``--parity`` (first, so ``-k``/``-m`` and ``--deselect`` apply to them)."""
    parity = _session(config)
    if parity is None:
        return
    policies: list[str] = []
    if _available("harness.policy"):
        from harness.policy_names import POLICY_NAMES

        policies = list(POLICY_NAMES)
    try:
        specs = parity.items(policies=policies, coverage=_available("harness.coverage"),
                             secrets=_available("harness.secrets"))
    except InputError as error:
        raise pytest.UsageError(error.one_line()) from None
    ours = [_item(session, spec) for spec in specs]
    # Report them like collected items so "collected N items" and the selection counts are right.
    config.hook.pytest_collectreport(report=pytest.CollectReport("", "passed", None, list(ours)))
    items.extend(ours)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Note the selected items. On an xdist worker the ``inventory`` item is not run (the controller runs it
    on the union) and the non-cluster items go first (the same order on every worker)."""
    config = session.config
    parity = _session(config)
    if parity is None:
        return
    parity.selected(item.spec for item in session.items if isinstance(item, CheckItem))
    if not internals.is_worker(config):
        return
    kept = [item for item in session.items if not (isinstance(item, CheckItem) and item.name == INVENTORY_ITEM)]
    config.stash[_INVENTORY_ON_WORKER] = len(kept) != len(session.items)
    first = [item for item in kept if isinstance(item, CheckItem) and not item.spec.cluster]
    session.items[:] = first + [item for item in kept if item not in first]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: take over what a worker handed back; load the inventory while the others finish."""
    handed = internals.handed_back(node)
    parity = _session(node.config)
    if handed is not None and parity is not None:
        parity.take_over(handed)
        node.config.stash[_INVENTORY_ON_WORKER] = (node.config.stash.get(_INVENTORY_ON_WORKER, False)
                                                   or bool(handed.get("inventory_selected")))
        parity.preload_inventory()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Workers hand their results over; the controller (or the only process) runs the deferred inventory
    item and writes the report."""
    config = session.config
    parity = _session(config)
    if parity is None:
        return
    try:
        if internals.is_worker(config):
            internals.hand_back(config, {**parity.handover(),
                                         "inventory_selected": config.stash.get(_INVENTORY_ON_WORKER, False)})
            return
        if internals.is_xdist_controller(config) and config.stash.get(_INVENTORY_ON_WORKER, False):
            internals.run_extra_item(session, _item(session, parity.deferred_inventory()))
        parity.write_report()
    finally:
        parity.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """What ``--parity-update`` changed (and skipped), and where the report went."""
    parity = _session(config)
    if parity is None or internals.is_worker(config):
        return
    if parity.options.update:
        terminalreporter.section("overlay-parity: fixture updates")
        for line in parity.update_lines():
            terminalreporter.line(line)
    if parity.options.report is not None:
        terminalreporter.line(f"overlay-parity: JSON report written to {config.getoption('parity_report')}")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker exits right after this, and the controller waits for it: freeze the heap so the
    interpreter's final garbage collections skip it (~0.2 s per worker for a large fleet). Only on
    workers: any other process may live on (pytester, ``pytest.main``)."""
    if internals.is_worker(config) and bool(config.getoption("parity", False)):
        gc.freeze()
