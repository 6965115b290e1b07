"""``overlay-parity check``: render every cluster and compare it with its oracle overlay tree.

One status line per cluster as it finishes, the findings of failing clusters below it (redacted), then
the inventory line (path_only budget, stale rules) and a summary. Exit 0 clean, 1 findings, 2 bad input
(one line: unknown cluster, missing fixture, bad inventory, renderer that cannot start).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.console import result_lines, summary_line
from harness.options import NO_REPORTS, ProjectOptions, ReportOutputs
from harness.progress import ProgressLine
from harness.report import CheckResult, Report

if TYPE_CHECKING:
    from harness.affected import Selection
    from harness.project_config import ProjectConfig


def check(project: ProjectOptions, *, clusters: Sequence[str] = (), shard: str | None = None,
          outputs: ReportOutputs = NO_REPORTS, update: bool = False, update_force: bool = False,
          verbose: bool = False, quiet: bool = False, changed_since: str | None = None,
          changed: Sequence[Path] | None = None, jobs: int = 0) -> int:
    """Run the check, print it as it goes, write the report files; returns the exit code (0 or 1).

    With ``changed_since`` (a git revision) or ``changed`` (paths), only the clusters the change can affect
    are checked (:mod:`harness.affected`); the first line names them and the clusters not affected.
    ``quiet`` prints the failing findings and the summary only. On a terminal, a run that lasts shows one
    updating progress line on stderr (:mod:`harness.progress`). ``jobs``: worker processes
    (:mod:`harness.cluster_pool`; 0 one per core).
    """
    from harness.runner import gate, run_parity

    settings = project.load()
    selected = list(clusters)
    selection = None
    if changed_since is not None or changed is not None:
        selection, selected = affected_clusters(settings, clusters, changed_since, changed or ())
        if not quiet:
            print(selection_line(selection, selected))
    counted = sys.stderr.isatty() and not (selection is not None and not selected)
    line = ProgressLine(sys.stderr, cluster_count(settings, selected, shard, update) if counted else 0)

    def progress(result: CheckResult) -> None:
        line.clear()
        text = result_lines(result, verbose=verbose, quiet=quiet)
        if text:
            print("\n".join(text))
            sys.stdout.flush()
        if result.check == "parity":
            line.advance()

    if selection is not None and not selected:
        report = run_inventory_only(settings)
        progress(report.results[-1])
    else:
        report = run_parity(settings, selected, shard=shard, progress=progress, update=update, force=update_force,
                            jobs=jobs)
    line.clear()
    if selection is not None:
        report.results[-1].notes["selection"] = selection.to_dict()
    print(summary_line(report))
    outputs.write(report, tool="overlay-parity check")
    return gate(report)


def cluster_count(project: ProjectConfig, selected: Sequence[str], shard: str | None, update: bool) -> int:
    """How many clusters the run will check (for the progress line)."""
    from harness.selection import select_clusters

    return len(select_clusters(project, list(selected) or None, shard, require_overlays=not update))


def affected_clusters(project: ProjectConfig, requested: Sequence[str], since: str | None,
                      paths: Sequence[Path]) -> tuple[Selection, list[str]]:
    """The selection of a change and the clusters to check (``requested`` narrows it further)."""
    from harness.affected import select_changes
    from harness.renderers import renderer_for

    project.select_clusters(requested)  # an unknown --cluster is still a USAGE error
    selection = select_changes(project, renderer_for(project), since=since, paths=paths)
    return selection, [c for c in selection.clusters if not requested or c in requested]


def run_inventory_only(project: ProjectConfig) -> Report:
    """The report of a run that checks no cluster: the inventory check alone (budget; no stale verdict)."""
    from harness.runner import ParityRun

    run = ParityRun.create(project)
    report = Report()
    report.results.append(run.inventory_result())
    report.inventory = run.inventory_notes()
    return report


def selection_line(selection: Selection, clusters: Sequence[str]) -> str:
    """``affected: 1 of 5 cluster(s) (k8s-dev); not affected (not checked): ...`` or why every cluster."""
    total = len(selection.all_clusters)
    if selection.everything:
        head = f"affected: every cluster ({total}): {selection.everything}"
    else:
        head = f"affected: {len(clusters)} of {total} cluster(s)" + (f" ({', '.join(clusters)})" if clusters else "")
    skipped = selection.not_affected
    if skipped:
        shown = ", ".join(skipped[:20]) + (f" and {len(skipped) - 20} more" if len(skipped) > 20 else "")
        head += f"; not affected (not checked): {shown}"
    return head
