"""Markdown for a pull-request comment or a GitHub Actions job summary.

A verdict line; the fleet grid (clusters x checks) and the repository-wide checks as tables; the
findings grouped by code with the meaning of the code, each finding with its file and line, cluster,
owner and inventory rule ids, its redacted diff in a collapsible ``<details>`` block and its fix;
then the way to fix or approve each kind of finding. The text stays under ``limit`` characters
(default below GitHub's 65,536-character comment limit): findings that do not fit are counted in an
honest "N more findings" line. Every string from a finding is escaped by :mod:`.escape`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.report.escape import code_fence, html_text, markdown_code, markdown_inline
from harness.report.grid import Grid, Status, build_grid
from harness.report.guidance import GUIDANCE, context, describe, family
from harness.report.model import Report
from harness.report.output import append_report_file, write_report_file

GITHUB_COMMENT_LIMIT = 65_536
LIMIT = 60_000  # leaves room for a bot's own header and for GitHub counting differently than Python
GRID_SHARE = 3  # the cluster table may use at most a third of the budget; beyond, clean clusters are counted
MAX_DIFF_LINES = 60
_ICONS = {Status.FAIL: "❌ fail", Status.WARN: "⚠️ warn", Status.PASS: "✅ pass", Status.NOT_RUN: "not run"}
_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}


def _md(text: str) -> str:
    return markdown_inline(text)


def _html(text: str) -> str:
    return html_text(text).replace("@", "@&#8203;")


def _cell(grid: Grid, cluster: str, check: str) -> str:
    cell = grid.cell(cluster, check)
    count = cell.errors or cell.others
    return _ICONS[cell.status] + (f" ({count})" if count and cell.status is not Status.PASS else "")


def verdict(report: Report, title: str) -> str:
    """``**overlay-parity check: FAILED** -- 2 of 6 checks failed, 3 findings (PARITY-CONTENT: 2, ...)``."""
    failing = report.failing()
    failed = sum(1 for r in report.results if r.failed)
    word = "FAILED" if failing else "PASSED"
    icon = "❌" if failing else "✅"
    counts: dict[str, int] = {}
    for finding in failing:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    others = len(report.findings()) - len(failing)
    text = (f"{icon} **{_md(title)}: {word}**: {failed} of {len(report.results)} checks failed, "
            f"{len(failing)} finding(s)" + (f" ({codes})" if codes else ""))
    return text + (f"; {others} warning(s) or note(s)" if others else "")


def _grid_tables(report: Report, budget: int) -> list[str]:
    grid = build_grid(report)
    lines: list[str] = []
    if grid.clusters:
        header = ["| cluster | " + " | ".join(_md(c) for c in grid.checks) + " |",
                  "|---|" + "---|" * len(grid.checks)]
        rows = {c: f"| {_md(c)} | " + " | ".join(_cell(grid, c, k) for k in grid.checks) + " |" for c in grid.clusters}
        shown = list(grid.clusters)
        if sum(len(r) + 1 for r in rows.values()) > budget:
            shown = [c for c in grid.clusters if grid.cluster_status(c) in (Status.FAIL, Status.WARN)]
        lines += ["### Clusters", "", *header, *(rows[c] for c in shown)]
        hidden = len(grid.clusters) - len(shown)
        if hidden:
            lines += ["", f"{hidden} more cluster(s) not listed: every check passed."]
        lines.append("")
    if grid.repository:
        lines += ["### Repository checks", "", "| check | status |", "|---|---|"]
        for cell in grid.repository:
            count = cell.errors or cell.others
            suffix = f" ({count})" if count and cell.status is not Status.PASS else ""
            lines.append(f"| {_md(cell.name or cell.check)} | {_ICONS[cell.status]}{suffix} |")
        lines.append("")
    return lines


def _where(finding: Finding) -> str:
    anchor = finding.anchor or "(no file)"
    return anchor + (f":{finding.line}" if finding.line > 0 else "")


def finding_block(finding: Finding) -> str:
    """One finding as a list item: place, message, context, the diff in a ``<details>`` block, the fix."""
    head = f"- **{_md(_where(finding))}**"
    if finding.cluster:
        head += f" ({_md(finding.cluster)})"
    if finding.severity is not Severity.ERROR:
        head += f" *{finding.severity.value}*"
    head += f": {_md(finding.message)}"
    lines = [head]
    notes = [f"{_md(label)}: {_md(text)}" for label, text in context(finding)]
    if notes:
        lines.append("  " + "; ".join(notes))
    if finding.diff:
        diff = [markdown_code(line) for line in finding.diff[:MAX_DIFF_LINES]]
        if len(finding.diff) > MAX_DIFF_LINES:
            diff.append(f"... {len(finding.diff) - MAX_DIFF_LINES} more diff line(s)")
        fence = code_fence(diff)
        language = "diff" if all(line[:1] in "+-@ " for line in diff) else "text"
        summary = f"redacted diff of {finding.path or finding.anchor}"
        lines += ["", f"  <details><summary>{_html(summary)}</summary>", "",
                  f"  {fence}{language}", *(f"  {line}" for line in diff), f"  {fence}", "", "  </details>", ""]
    if finding.hint:
        lines.append(f"  Fix: {_md(finding.hint)}")
    return "\n".join(lines)


def _ordered(report: Report) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for finding in sorted(report.findings(), key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), f.code)):
        groups.setdefault(finding.code, []).append(finding)
    return groups


def markdown_report(report: Report, *, title: str = "overlay-parity", limit: int = LIMIT) -> str:
    """The report as Markdown of at most ``limit`` characters (see the module docstring)."""
    head = [f"## {_md(title)}", "", verdict(report, title), ""]
    groups = _ordered(report)
    families = sorted({family(code) for code in groups}, key=list(GUIDANCE).index)
    tail = ["### How to fix or approve", ""] + [f"- **{kind}**: {GUIDANCE[kind]}" for kind in families] \
        if families else []
    total = sum(len(g) for g in groups.values())
    reserve = 200  # the "N more findings" line
    budget = limit - len("\n".join(head + tail)) - reserve
    body = _grid_tables(report, budget // GRID_SHARE)
    used = len("\n".join(body))
    shown = 0
    if groups:
        body += ["### Findings by code", ""]
    for code, findings in groups.items():
        heading = [f"#### {_md(code)} ({len(findings)})", "", describe(code), ""]  # the registry is Markdown
        blocks: list[str] = []
        for finding in findings:
            block = finding_block(finding)
            cost = len(block) + 1 + (len("\n".join(heading)) + 1 if not blocks else 0)
            if used + cost > budget:
                break
            blocks.append(block)
            used += cost
        if not blocks:
            break
        body += heading + blocks + [""]
        shown += len(blocks)
        if len(blocks) < len(findings):
            break
    if shown < total:
        body += [f"**{total - shown} more finding(s) not shown** (this comment is capped at {limit:,} characters); "
                 "the full list is in the JSON, SARIF or JUnit report and the job log.", ""]
    text = "\n".join(head + body + tail).rstrip() + "\n"
    return text if len(text) <= limit else text[: limit - 2] + "\n"


def write_markdown(report: Report, path: Path, *, title: str = "overlay-parity") -> None:
    """Write the Markdown report to ``path`` (parents created)."""
    write_report_file(path, markdown_report(report, title=title))


SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def append_github_summary(report: Report, *, title: str = "overlay-parity",
                          environ: Mapping[str, str] | None = None) -> Path:
    """Append the Markdown report to the file named by ``$GITHUB_STEP_SUMMARY``; USAGE error when unset."""
    path = require_summary_file(os.environ if environ is None else environ)
    append_report_file(path, markdown_report(report, title=title) + "\n")
    return path


def require_summary_file(environ: Mapping[str, str]) -> Path:
    """The job summary file named by ``$GITHUB_STEP_SUMMARY``; USAGE (exit 2) when it is not set."""
    target = environ.get(SUMMARY_VARIABLE, "")
    if not target:
        raise InputError("USAGE", f"--github-summary needs ${SUMMARY_VARIABLE}, which GitHub Actions sets; it is "
                         "not set here", hint="run inside a GitHub Actions job, or write the file with --markdown PATH")
    return Path(target)


