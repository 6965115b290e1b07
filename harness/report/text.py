"""The terminal report: status lines, finding blocks (already redacted), a summary line.

Every line is passed through :func:`harness.report.escape.terminal`, so a file name with a newline,
an escape sequence or undecodable bytes prints as one visible line.
"""

from __future__ import annotations

from typing import Any

from harness.findings import Finding, Severity
from harness.report.escape import terminal
from harness.report.model import CheckResult, Report


def format_finding(finding: Finding) -> str:
    """A finding as a short block: headline, context, indented diff lines, hint."""
    where = finding.path + (f":{finding.line}" if finding.line else "")
    head = f"{finding.code} {where}: {finding.message}" if where else f"{finding.code}: {finding.message}"
    if finding.cluster:
        head = f"[{finding.cluster}] {head}"
    context = []
    if finding.owner:
        context.append(f"owner: {finding.owner}")
    if finding.rules:
        context.append("rules: " + ", ".join(finding.rules))
    lines = [head]
    if context:
        lines.append("    (" + "; ".join(context) + ")")
    lines.extend(f"    {line}" for line in finding.diff)
    if finding.hint:
        lines.append(f"    fix: {finding.hint}")
    return "\n".join(terminal(line) for line in lines)


def format_text(report: Report, *, verbose: bool = False) -> str:
    """Terminal report: one status line per check result, findings below failing ones, then a summary."""
    lines = [line for result in report.results for line in result_text(result, verbose=verbose)]
    lines.append(summary_text(report))
    return "\n".join(lines) + "\n"


def result_text(result: CheckResult, *, verbose: bool = False, quiet: bool = False) -> list[str]:
    """The lines :func:`format_text` prints for one result: its status line and, indented, its failing
    findings (every finding with ``verbose``); with ``quiet`` only the failing findings, not indented."""
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    if quiet:
        return [line for finding in errors for line in format_finding(finding).splitlines()]
    status = "FAIL" if errors else "ok"
    detail = f"{len(errors)} finding(s)" if errors else _notes_summary(result.notes)
    lines = [terminal(f"{status:<4} {result.name:<40} {detail}".rstrip())]
    for finding in result.findings if verbose else errors:
        lines.extend("     " + line for line in format_finding(finding).splitlines())
    return lines


def summary_text(report: Report) -> str:
    """The closing line of :func:`format_text`: ``PASSED: 3 of 3 checks clean, 0 finding(s)``."""
    summary = report.to_dict()["summary"]
    verdict = "FAILED" if report.failing() else "PASSED"
    return (f"{verdict}: {summary['checks'] - summary['failed_checks']} of {summary['checks']} checks clean, "
            f"{summary['errors']} finding(s)"
            + (f" ({', '.join(f'{k}: {v}' for k, v in summary['by_code'].items())})" if summary["by_code"] else ""))


def _notes_summary(notes: dict[str, Any]) -> str:
    keys = ("files", "identical", "parsed", "rules_applied", "lifecycle_claim", "scanned")
    parts = [f"{key}={notes[key]}" for key in keys if key in notes]
    return " ".join(parts)
