"""``overlay-parity check``: render every cluster and compare it with its oracle overlay tree.

    overlay-parity check [--cluster C]... [--fixture DIR] [--inventory FILE] [--renderer CMD]
                         [--json PATH] [--junit PATH] [--sarif PATH] [--shard I/N]
                         [--update [--update-force]] [-v]

One status line per cluster as it finishes, the findings of failing clusters below it (redacted), then
the inventory line (path_only budget, stale rules) and a summary. Exit 0 clean, 1 findings, 2 bad input
(one line: unknown cluster, missing fixture, bad inventory, renderer that cannot start).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.errors import InputError
from harness.findings import Severity
from harness.project_config import ProjectConfig, load_project_config
from harness.report import CheckResult, Report, format_finding, write_json, write_junit


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command."""
    parser = subparsers.add_parser(
        "check", help=one_line_help("check"),
        description="Render each cluster config and compare the renderer-owned part of its overlay with the "
                    "checked-in oracle tree under the canonicalization inventory.")
    add_project_options(parser)
    parser.add_argument("--cluster", action="append", default=[], metavar="C",
                        help="check only this cluster (repeatable; default: every cluster of the fixture)")
    parser.add_argument("--shard", metavar="I/N", help="check only this deterministic share of the clusters")
    parser.add_argument("--json", dest="json_path", type=Path, metavar="PATH", help="also write a JSON report")
    parser.add_argument("--junit", dest="junit_path", type=Path, metavar="PATH", help="also write JUnit XML")
    parser.add_argument("--sarif", dest="sarif_path", type=Path, metavar="PATH", help="also write SARIF 2.1.0")
    parser.add_argument("--update", action="store_true",
                        help="rewrite differing renderer-owned fixture files from the renderer first "
                             "(never ignored or security-relevant ones)")
    parser.add_argument("--update-force", action="store_true",
                        help="with --update, also rewrite ignored and security-relevant files")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show notes and warnings, and files excluded from parity")
    parser.set_defaults(func=run)


def add_project_options(parser: argparse.ArgumentParser) -> None:
    """``--fixture``, ``--inventory``, ``--renderer`` (overriding ``[tool.overlay-parity]``)."""
    parser.add_argument("--fixture", type=Path, metavar="DIR",
                        help="fixture root with .<cluster>-config.yaml files (default: [tool.overlay-parity])")
    parser.add_argument("--inventory", type=Path, metavar="FILE",
                        help="canonicalization inventory (default: [tool.overlay-parity])")
    parser.add_argument("--renderer", metavar="CMD",
                        help="module:ATTR or a command with {config} and {out} (default: [tool.overlay-parity])")


def project_from_args(args: argparse.Namespace) -> ProjectConfig:
    """Project settings with the command-line overrides applied."""
    return load_project_config(Path.cwd()).with_overrides(fixture=args.fixture, inventory=args.inventory,
                                                         renderer=args.renderer)


def status_line(result: CheckResult) -> str:
    """``ok   parity[k8s-dev]   134 files (120 identical, 14 parsed) ... 0.41s`` or ``FAIL ... N finding(s)``."""
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    status = "FAIL" if errors else "ok"
    notes = result.notes
    if errors:
        detail = f"{len(errors)} finding(s)"
    elif result.check == "parity":
        detail = (f"{notes.get('files_compared', 0)} files compared ({notes.get('byte_identical', 0)} identical, "
                  f"{notes.get('parsed', 0)} parsed as YAML)")
        extras = [f"{notes[k]} {label}" for k, label in (("path_only", "path_only"),
                                                          ("ignored_rendered", "ignored rendered"),
                                                          ("ignored_fixture", "ignored fixture"))
                  if notes.get(k)]
        if extras:
            detail += ", " + ", ".join(extras)
    elif result.check == "inventory":
        detail = (f"version {notes.get('version', '?')}, {notes.get('rules', 0)} rules, path_only "
                  f"{notes.get('path_only_rules', 0)}/{notes.get('path_only_budget') or 0}; stale rules judged: "
                  f"{notes.get('stale_rules_judged', '?')}")
    else:
        detail = ""
    timing = f" {result.seconds:.2f}s" if result.seconds else ""
    return f"{status:<4} {result.name:<28} {detail}{timing}".rstrip()


def print_result(result: CheckResult, *, verbose: bool) -> None:
    """The status line, then the findings (all with ``verbose``, else only failing ones), indented."""
    print(status_line(result))
    for change in result.notes.get("updates", []):
        from harness.update import Change  # lazily: it pulls in the inventory and jsonschema

        print(f"     update: {Change.from_dict(change).describe()}")
    shown = [f for f in result.findings if verbose or f.severity is Severity.ERROR]
    for finding in shown:
        print("\n".join("     " + line for line in format_finding(finding).splitlines()))
    if verbose and result.check == "parity":
        excluded = result.notes.get("excluded_fixture", [])
        if excluded:
            print(f"     not renderer-owned (excluded from parity): {', '.join(excluded)}")


def summary_line(report: Report) -> str:
    """``PASSED: 6 of 6 checks clean`` / ``FAILED: ... (PARITY-CONTENT: 2)``."""
    summary = report.to_dict()["summary"]
    verdict = "FAILED" if report.failing() else "PASSED"
    by_code = ", ".join(f"{k}: {v}" for k, v in summary["by_code"].items()
                        if any(f.code == k and f.severity is Severity.ERROR for f in report.findings()))
    return (f"{verdict}: {summary['checks'] - summary['failed_checks']} of {summary['checks']} checks clean, "
            f"{summary['errors']} finding(s)" + (f" ({by_code})" if by_code else ""))


def write_reports(report: Report, args: argparse.Namespace, *, tool: str) -> None:
    """Write the ``--json`` / ``--junit`` / ``--sarif`` files that were asked for."""
    if getattr(args, "json_path", None) is not None:
        write_json(report, args.json_path)
    if getattr(args, "junit_path", None) is not None:
        write_junit(report, args.junit_path)
    if getattr(args, "sarif_path", None) is not None:
        from harness.sarif import write_sarif

        write_sarif(report.findings(), args.sarif_path, tool)


def run(args: argparse.Namespace) -> int:
    """Run the check; returns the exit code (bad input raises InputError, mapped to 2 by the CLI)."""
    from harness.runner import gate, run_parity

    if args.update_force and not args.update:
        raise InputError("USAGE", "--update-force needs --update", hint="add --update")
    project = project_from_args(args)

    def progress(result: CheckResult) -> None:
        print_result(result, verbose=args.verbose)
        sys.stdout.flush()

    report = run_parity(project, args.cluster, shard=args.shard, progress=progress, update=args.update,
                        force=args.update_force)
    print(summary_line(report))
    write_reports(report, args, tool="overlay-parity check")
    return gate(report)
