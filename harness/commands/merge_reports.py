"""``overlay-parity merge-reports``: union of shard reports, then the stale-rule verdict on the union.

Each IN.json is a report written by ``check --json`` or ``pytest --parity --parity-report`` (typically one
per ``--shard I/N``). Results are joined (a check that appears in two reports is REPORT-INVALID: shards
must be disjoint), the shards' own ``inventory`` results are dropped, and the inventory check is judged
again on the union of matched rule ids and clusters: a rule that matched in any shard is not stale, and
default rules are judged once every cluster of the fixture ran in some shard. The inventory is the file
named in the reports (relative to the project root) unless ``--inventory`` is given; its version must be
the reports' version. Exit 0 clean, 1 when the merged report fails, 2 for bad input.

The merge fails closed, so a shard job that never uploaded its report cannot let the gate pass:

- The set of reports is bad input (REPORT-INVALID, exit 2) unless it is one whole shard matrix: the
  ``shard`` labels (``I/N``) share one N, none appears twice, labelled and unlabelled reports are not
  mixed, and every shard 1..N is there. ``--expect-shards N`` also pins N (or, for reports without
  labels, their number), which catches a matrix that shrank.
- A cluster of the fixture that no report covers (no ``parity[<cluster>]`` result in any of them) is a
  finding, not bad input: ``PARITY-NOT-RUN`` in a ``parity[<cluster>]`` result (exit 1). The reports
  themselves are well formed, the fleet was just not wholly checked, and as a finding it names each
  unchecked cluster in the text, JSON, JUnit and SARIF outputs like any other failing check.
- ``--allow-partial`` opts out of both completeness checks (a missing shard, an uncovered cluster):
  uncovered clusters are only a note on stderr and default rules are not judged. Label consistency
  (one N, no duplicates, ``--expect-shards``) is still enforced.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.console import result_lines, summary_line
from harness.errors import InputError
from harness.findings import Finding
from harness.options import NO_REPORTS, ReportOutputs
from harness.project_config import load_project_config
from harness.report import CheckResult, Report, check_shards, merge_reports, read_report


def not_run_result(cluster: str, config: str, reports: int) -> CheckResult:
    """``parity[<cluster>]`` for a cluster no report covers: one failing PARITY-NOT-RUN finding."""
    from harness.parity import CHECK

    finding = Finding(code="PARITY-NOT-RUN", check=CHECK, cluster=cluster, path=config,
                      message=f"cluster {cluster} was not checked: none of the {reports} report(s) covers it",
                      hint="pass the report of the shard that checks it (did its job fail before writing it?), "
                           "or --allow-partial to merge an incomplete set")
    return CheckResult(name=f"parity[{cluster}]", check=CHECK, cluster=cluster, findings=[finding],
                       notes={"not_run": True})


def covered_clusters(report: Report) -> set[str]:
    """Clusters with a parity result (a render error counts: it was checked and failed) or a run."""
    from harness.parity import CHECK

    return report.clusters_run | {r.cluster for r in report.results if r.check == CHECK and r.cluster}


def merge(out: Path, inputs: Sequence[Path], *, inventory: Path | None = None, expect_shards: int | None = None,
          allow_partial: bool = False, outputs: ReportOutputs = NO_REPORTS, verbose: bool = False,
          quiet: bool = False) -> int:
    """Merge the shard reports ``inputs`` into ``out``, re-judge the inventory, print; returns the exit code."""
    from harness.inventory import load_inventory
    from harness.inventory_judge import display_path, inventory_result
    from harness.runner import gate

    reports = [(str(path), read_report(path)) for path in inputs]
    check_shards(reports, expect=expect_shards, allow_partial=allow_partial)
    merged = merge_reports(report for _, report in reports)
    project = load_project_config(Path.cwd())
    named = str(merged.inventory.get("path") or "")
    if inventory is not None:
        inventory_path = inventory.resolve()
    elif named:
        inventory_path = Path(named) if Path(named).is_absolute() else (project.root / named)
    else:
        raise InputError("REPORT-INVALID", "the reports name no inventory", file=str(inputs[0]),
                         hint="pass --inventory FILE")
    loaded = load_inventory(inventory_path, max_bytes=project.max_file_bytes,
                            display=display_path(inventory_path, project.root),
                            security_kinds=project.security_kinds)
    expected = merged.inventory.get("version")
    if expected and expected != loaded.version:
        raise InputError("REPORT-INVALID", f"the reports were made with inventory version {expected}, the inventory "
                         f"is at {loaded.version}", file=loaded.file,
                         hint="merge reports made on the same commit as the inventory")
    digest = merged.inventory.get("digest")
    if digest and digest != loaded.rules_digest():
        raise InputError("REPORT-INVALID", "the inventory rules changed since the reports were made",
                         file=loaded.file, hint="merge reports made on the same commit as the inventory")
    clusters = [str(c) for c in merged.inventory.get("clusters") or project.clusters()]
    uncovered = sorted(set(clusters) - covered_clusters(merged))
    if uncovered and not allow_partial:
        fixture = str(merged.inventory.get("fixture") or display_path(project.fixture, project.root))
        merged.results.extend(not_run_result(cluster, f"{fixture}/.{cluster}-config.yaml", len(reports))
                              for cluster in uncovered)
    notes = dict(merged.inventory)
    result = inventory_result(loaded, merged.matched_rules, merged.clusters_run, clusters, notes=notes)
    merged.results.append(result)
    if not merged.inventory:
        merged.inventory = notes
    for item in merged.results:
        text = result_lines(item, verbose=verbose, quiet=quiet)
        if text:
            print("\n".join(text))
    missing = sorted(set(clusters) - merged.clusters_run)
    if missing:
        print(f"merge-reports: no report covers {', '.join(missing)}: default rules were not judged stale or not",
              file=sys.stderr)
    print(summary_line(merged))
    replace(outputs, json_path=out).write(merged, tool="overlay-parity merge-reports")
    return gate(merged)
