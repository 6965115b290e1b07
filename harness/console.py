"""The lines the terminal faces print for results: status lines, finding lines, summaries.

Pure functions returning text; the faces (``harness/cli.py``, ``harness/commands/*``, ``hooks/``) print
them. Two shapes exist: the check shape (one status line per check result, its findings indented below,
a PASSED/FAILED summary; ``check`` and ``merge-reports``) and the one-line shape (``file:line: CODE
message`` per finding and a ``<command>: clean`` summary; ``coverage``, ``scan-secrets`` and the hooks).
Every line is one terminal line: names are escaped with :func:`harness.report.escape.terminal`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.findings import Finding, Severity, failing
from harness.report.escape import terminal

if TYPE_CHECKING:
    from harness.report import CheckResult, Report


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
    return terminal(f"{status:<4} {result.name:<28} {detail}{timing}".rstrip())


def result_lines(result: CheckResult, *, verbose: bool, quiet: bool = False) -> list[str]:
    """The status line, then updates made and the findings (all with ``verbose``, else failing ones), indented;
    with ``quiet`` only the failing findings."""
    from harness.report import format_finding

    if quiet:
        return [line for finding in result.findings if finding.severity is Severity.ERROR
                for line in format_finding(finding).splitlines()]
    lines = [status_line(result)]
    for change in result.notes.get("updates", []):
        from harness.update import Change  # lazily: it pulls in the inventory and jsonschema

        lines.append(f"     update: {Change.from_dict(change).describe()}")
    for finding in result.findings:
        if verbose or finding.severity is Severity.ERROR:
            lines.extend("     " + line for line in format_finding(finding).splitlines())
    if verbose and result.check == "parity":
        excluded = result.notes.get("excluded_fixture", [])
        if excluded:
            lines.append(terminal(f"     not renderer-owned (excluded from parity): {', '.join(excluded)}"))
    return lines


def summary_line(report: Report) -> str:
    """``PASSED: 6 of 6 checks clean`` / ``FAILED: ... (PARITY-CONTENT: 2)``."""
    summary = report.to_dict()["summary"]
    verdict = "FAILED" if report.failing() else "PASSED"
    by_code = ", ".join(f"{k}: {v}" for k, v in summary["by_code"].items()
                        if any(f.code == k and f.severity is Severity.ERROR for f in report.findings()))
    return (f"{verdict}: {summary['checks'] - summary['failed_checks']} of {summary['checks']} checks clean, "
            f"{summary['errors']} finding(s)" + (f" ({by_code})" if by_code else ""))


def finding_line(finding: Finding) -> str:
    """``file:line: CODE message [fingerprint]`` on one line (``warning:`` before non-failing messages)."""
    where = finding.path or "-"
    if finding.line:
        where += f":{finding.line}"
    level = "" if finding.severity is Severity.ERROR else f"{finding.severity.value}: "
    text = f"{where}: {finding.code} {level}{finding.message}"
    mark = finding.extra.get("fingerprint")
    if mark:
        text += f" [{mark}]"
    return " ".join(terminal(text).split())


def findings_summary(command: str, findings: Sequence[Finding], notes: dict[str, Any] | None = None) -> str:
    """``coverage: clean`` / ``scan-secrets: 2 error(s), 0 warning(s) (12 path(s) scanned)``."""
    errors = len(failing(findings))
    status = "clean" if not findings else f"{errors} error(s), {len(findings) - errors} warning(s)"
    extra = f" ({notes['summary']})" if notes and notes.get("summary") else ""
    return f"{command}: {status}{extra}"
