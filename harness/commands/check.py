"""``overlay-parity check``: render every cluster and compare it with its oracle overlay tree.

One status line per cluster as it finishes, the findings of failing clusters below it (redacted), then
the inventory line (path_only budget, stale rules) and a summary. Exit 0 clean, 1 findings, 2 bad input
(one line: unknown cluster, missing fixture, bad inventory, renderer that cannot start).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.console import result_lines, summary_line
from harness.options import NO_REPORTS, ProjectOptions, ReportOutputs
from harness.report import CheckResult


def check(project: ProjectOptions, *, clusters: Sequence[str] = (), shard: str | None = None,
          outputs: ReportOutputs = NO_REPORTS, update: bool = False, update_force: bool = False,
          verbose: bool = False) -> int:
    """Run the check, print it as it goes, write the report files; returns the exit code (0 or 1)."""
    from harness.runner import gate, run_parity

    def progress(result: CheckResult) -> None:
        print("\n".join(result_lines(result, verbose=verbose)))
        sys.stdout.flush()

    report = run_parity(project.load(), clusters, shard=shard, progress=progress, update=update,
                        force=update_force)
    print(summary_line(report))
    outputs.write(report, tool="overlay-parity check")
    return gate(report)
