"""The fleet grid: clusters x checks with a status per cell, shared by the Markdown and HTML writers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.findings import Severity
from harness.report.model import CheckResult, Report


class Status(StrEnum):
    """A cell's status, worst first."""

    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"  # noqa: S105 (a status, not a password)
    NOT_RUN = "not-run"


@dataclass(frozen=True)
class Cell:
    """One check of one cluster (or of the repository when ``cluster`` is empty)."""

    cluster: str
    check: str
    status: Status
    errors: int = 0
    others: int = 0
    name: str = ""


def status_of(result: CheckResult) -> Status:
    """FAIL when a finding fails the gate, WARN when only warnings or notes were found, else PASS."""
    if any(f.severity is Severity.ERROR for f in result.findings):
        return Status.FAIL
    return Status.WARN if result.findings else Status.PASS


def _cell(result: CheckResult) -> Cell:
    errors = sum(1 for f in result.findings if f.severity is Severity.ERROR)
    return Cell(result.cluster, result.check, status_of(result), errors, len(result.findings) - errors, result.name)


@dataclass(frozen=True)
class Grid:
    """Per-cluster checks as rows x columns, and the checks that are not per cluster."""

    clusters: list[str]
    checks: list[str]
    cells: dict[tuple[str, str], Cell]
    repository: list[Cell]

    def cell(self, cluster: str, check: str) -> Cell:
        """The cell, or NOT_RUN when that cluster had no such check."""
        return self.cells.get((cluster, check), Cell(cluster, check, Status.NOT_RUN))

    def cluster_status(self, cluster: str) -> Status:
        """The worst status of the cluster's cells that ran."""
        ran = [self.cells[(cluster, c)].status for c in self.checks if (cluster, c) in self.cells]
        return min(ran, key=list(Status).index, default=Status.NOT_RUN)


def build_grid(report: Report) -> Grid:
    """The grid of a report; several results of one cluster and check (shards) are joined worst-first."""
    cells: dict[tuple[str, str], Cell] = {}
    repository: list[Cell] = []
    clusters: list[str] = []
    checks: list[str] = []
    for result in report.results:
        cell = _cell(result)
        if not result.cluster:
            repository.append(cell)
            continue
        if result.cluster not in clusters:
            clusters.append(result.cluster)
        if result.check not in checks:
            checks.append(result.check)
        key = (result.cluster, result.check)
        if key in cells:
            old = cells[key]
            worst = min(old.status, cell.status, key=list(Status).index)
            cell = Cell(old.cluster, old.check, worst, old.errors + cell.errors, old.others + cell.others, old.name)
        cells[key] = cell
    return Grid(sorted(clusters), checks, cells, repository)
