"""``overlay-parity merge-reports``: union of shard reports, then the stale-rule verdict on the union.

    overlay-parity merge-reports OUT.json IN.json... [--inventory FILE] [--expect-shards N] [--allow-partial]
                                 [--junit PATH] [--sarif PATH] [-v]

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

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.commands.check import print_result, summary_line, write_reports
from harness.errors import InputError
from harness.findings import Finding
from harness.project_config import load_project_config
from harness.report import CheckResult, Report, check_shards, merge_reports, read_report


def register(subparsers: Any) -> None:
    """Add the ``merge-reports`` sub-command."""
    parser = subparsers.add_parser(
        "merge-reports", help=one_line_help("merge-reports"),
        description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, metavar="OUT.json", help="the merged JSON report to write")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="IN.json", help="shard reports")
    parser.add_argument("--inventory", type=Path, metavar="FILE",
                        help="canonicalization inventory (default: the one named in the reports)")
    parser.add_argument("--expect-shards", type=shard_count, metavar="N",
                        help="require exactly the shards 1/N..N/N (reports without labels: N of them)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="merge an incomplete set: a missing shard is no error, uncovered clusters only a note")
    parser.add_argument("--junit", dest="junit_path", type=Path, metavar="PATH", help="also write JUnit XML")
    parser.add_argument("--sarif", dest="sarif_path", type=Path, metavar="PATH", help="also write SARIF 2.1.0")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show notes and warnings")
    parser.set_defaults(func=run)


def shard_count(text: str) -> int:
    """``--expect-shards`` value: a positive integer (else a one-line USAGE error)."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a shard count N >= 1, got {text!r}")
    return count


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


def run(args: argparse.Namespace) -> int:
    """Merge, re-judge the inventory, print, write; returns the exit code."""
    from harness.inventory import load_inventory
    from harness.inventory_judge import display_path, inventory_result
    from harness.runner import gate

    reports = [(str(path), read_report(path)) for path in args.inputs]
    check_shards(reports, expect=args.expect_shards, allow_partial=args.allow_partial)
    merged = merge_reports(report for _, report in reports)
    project = load_project_config(Path.cwd())
    named = str(merged.inventory.get("path") or "")
    if args.inventory is not None:
        inventory_path = args.inventory.resolve()
    elif named:
        inventory_path = Path(named) if Path(named).is_absolute() else (project.root / named)
    else:
        raise InputError("REPORT-INVALID", "the reports name no inventory", file=str(args.inputs[0]),
                         hint="pass --inventory FILE")
    inventory = load_inventory(inventory_path, max_bytes=project.max_file_bytes,
                               display=display_path(inventory_path, project.root))
    expected = merged.inventory.get("version")
    if expected and expected != inventory.version:
        raise InputError("REPORT-INVALID", f"the reports were made with inventory version {expected}, the inventory "
                         f"is at {inventory.version}", file=inventory.file,
                         hint="merge reports made on the same commit as the inventory")
    digest = merged.inventory.get("digest")
    if digest and digest != inventory.rules_digest():
        raise InputError("REPORT-INVALID", "the inventory rules changed since the reports were made",
                         file=inventory.file, hint="merge reports made on the same commit as the inventory")
    clusters = [str(c) for c in merged.inventory.get("clusters") or project.clusters()]
    uncovered = sorted(set(clusters) - covered_clusters(merged))
    if uncovered and not args.allow_partial:
        fixture = str(merged.inventory.get("fixture") or display_path(project.fixture, project.root))
        merged.results.extend(not_run_result(cluster, f"{fixture}/.{cluster}-config.yaml", len(reports))
                              for cluster in uncovered)
    notes = dict(merged.inventory)
    result = inventory_result(inventory, merged.matched_rules, merged.clusters_run, clusters, notes=notes)
    merged.results.append(result)
    if not merged.inventory:
        merged.inventory = notes
    for item in merged.results:
        print_result(item, verbose=args.verbose)
    missing = sorted(set(clusters) - merged.clusters_run)
    if missing:
        print(f"merge-reports: no report covers {', '.join(missing)}: default rules were not judged stale or not",
              file=sys.stderr)
    print(summary_line(merged))
    args.json_path = args.out
    write_reports(merged, args, tool="overlay-parity merge-reports")
    return gate(merged)
