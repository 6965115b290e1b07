"""``overlay-parity coverage``: every template file is owned by exactly one descriptor.

    overlay-parity coverage [--template-root DIR] [--descriptor-root DIR] [--json PATH] [--sarif PATH]

Roots default to ``[tool.overlay-parity] template_root`` / ``descriptor_root``. One line per finding on
stdout (``file:line: CODE message``), a summary on stderr; exit 0 clean (warnings allowed), 1 findings,
2 bad input. Also home of the output helpers shared with ``scan-secrets`` and the pre-commit hooks.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.findings import Finding, Severity, failing
from harness.project_config import load_project_config


def register(subparsers: Any) -> None:
    """Add the ``coverage`` sub-command."""
    parser = subparsers.add_parser(
        "coverage",
        help=one_line_help("coverage"),
        description="Report template files without a descriptor owner, files owned twice, declared templates "
                    "or roots that do not exist, excludes that exclude nothing and outputs two templates can "
                    "both render to.",
    )
    parser.add_argument("--template-root", type=Path, metavar="DIR",
                        help="template directory (default: [tool.overlay-parity] template_root)")
    parser.add_argument("--descriptor-root", type=Path, metavar="DIR",
                        help="descriptor directory (default: [tool.overlay-parity] descriptor_root)")
    add_report_options(parser)
    parser.set_defaults(func=run)


def add_report_options(parser: argparse.ArgumentParser) -> None:
    """``--json PATH`` and ``--sarif PATH``."""
    parser.add_argument("--json", dest="json_path", type=Path, metavar="PATH", help="also write a JSON report")
    parser.add_argument("--sarif", dest="sarif_path", type=Path, metavar="PATH",
                        help="also write a SARIF 2.1.0 report")


def run(args: argparse.Namespace) -> int:
    """Run the check and report."""
    from harness.coverage import check_coverage

    config = load_project_config().with_overrides(template_root=args.template_root,
                                                  descriptor_root=args.descriptor_root)
    started = time.perf_counter()
    findings = check_coverage(config.template_root, config.descriptor_root, relative_to=config.root)
    return finish(findings, args, command="coverage", seconds=time.perf_counter() - started,
                  notes={"template_root": str(config.template_root), "descriptor_root": str(config.descriptor_root)})


def format_finding(finding: Finding) -> str:
    """``file:line: CODE message [fingerprint]`` on one line (``warning:`` before non-failing messages)."""
    where = finding.path or "-"
    if finding.line:
        where += f":{finding.line}"
    level = "" if finding.severity is Severity.ERROR else f"{finding.severity.value}: "
    text = f"{where}: {finding.code} {level}{finding.message}"
    mark = finding.extra.get("fingerprint")
    if mark:
        text += f" [{mark}]"
    return " ".join(text.split())


def finish(findings: Sequence[Finding], args: argparse.Namespace, *, command: str, seconds: float = 0.0,
           notes: dict[str, Any] | None = None) -> int:
    """Print findings, write the requested reports, print a summary; return the exit code (0 or 1)."""
    for finding in findings:
        print(format_finding(finding))
    json_path: Path | None = getattr(args, "json_path", None)
    sarif_path: Path | None = getattr(args, "sarif_path", None)
    if json_path is not None:
        from harness.report import CheckResult, Report, write_json

        result = CheckResult(name=command, check=command, findings=list(findings), seconds=seconds,
                             notes=dict(notes or {}))
        write_json(Report(results=[result]), json_path)
    if sarif_path is not None:
        from harness.sarif import write_sarif

        write_sarif(findings, sarif_path, f"overlay-parity {command}")
    errors = len(failing(findings))
    others = len(findings) - errors
    status = "clean" if not findings else f"{errors} error(s), {others} warning(s)"
    extra = f" ({notes['summary']})" if notes and notes.get("summary") else ""
    print(f"{command}: {status}{extra}", file=sys.stderr)
    return 1 if errors else 0
