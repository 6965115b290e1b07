"""The HTML fleet report: one self-contained file (inline CSS, no script, no network).

A verdict, a grid of clusters x checks coloured by status (each failing cell links to its findings),
the repository-wide checks, then every finding with its file and line, cluster, owner, inventory
rules, related places, fix, and its redacted diff side by side: the fixture (what the oracle has) on
the left, the renderer's output on the right. A Content-Security-Policy of ``default-src 'none'``
keeps a browser from fetching anything. Every string from a finding passes
:func:`~harness.report.escape.html_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from harness.findings import Finding, Severity
from harness.report.escape import html_text
from harness.report.grid import Grid, Status, build_grid
from harness.report.guidance import GUIDANCE, context, describe, family
from harness.report.model import Report
from harness.report.output import write_report_file

MAX_DIFF_LINES = 200
ARROW = " → "
_LABELS = {Status.FAIL: "fail", Status.WARN: "warn", Status.PASS: "pass", Status.NOT_RUN: "not run"}

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.verdict{font-size:16px;padding:10px 14px;border-radius:6px;display:inline-block}
.verdict.fail{background:#ffebe9;border:1px solid #d1242f}.verdict.pass{background:#dafbe1;border:1px solid #1a7f37}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left}
th{background:#f6f8fa}
td.cell{text-align:center;min-width:70px;font-weight:600}
td.fail{background:#d1242f;color:#fff}td.warn{background:#d4a72c;color:#1f2328}
td.pass{background:#2da44e;color:#fff}td.not-run{background:#eaeef2;color:#57606a}
td.cell a{color:inherit}
.finding{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:10px 0}
.finding.error{border-left:6px solid #d1242f}.finding.warning{border-left:6px solid #d4a72c}
.finding.note{border-left:6px solid #8c959f}
.where{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-weight:600}
.meta{color:#57606a;margin:2px 0}
.diff{display:grid;grid-template-columns:1fr 1fr;gap:0;margin-top:6px;font-family:ui-monospace,Menlo,monospace;
font-size:12px;border:1px solid #d0d7de}
.diff div{padding:1px 6px;white-space:pre-wrap;word-break:break-all;border-bottom:1px solid #f0f0f0}
.diff .head{background:#f6f8fa;font-weight:600}.diff .old{background:#ffebe9}.diff .new{background:#dafbe1}
.diff .both{grid-column:1 / span 2;background:#f6f8fa}.diff .none{background:#fafafa}
"""


def _e(text: str) -> str:
    return html_text(text)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _registry_text(text: str) -> str:
    """Our own Markdown-flavoured text (code meanings, advice) as HTML: escaped, `code` spans kept."""
    return _CODE_SPAN.sub(r"<code>\1</code>", _e(text))


def split_diff_line(line: str) -> tuple[str | None, str | None]:
    """A diff line as (fixture side, rendered side); None on a side that lacks it, (line, line) for a
    line that belongs to both (a header, a note). Reads the harness's diff wording (``key: old → new``,
    ``key: added v``, ``key: removed v``) and unified-diff lines (``-``, ``+``, `` ``)."""
    if line.startswith(("+++", "---", "@@")):
        return line, line
    if line.startswith("-"):
        return line[1:], None
    if line.startswith("+"):
        return None, line[1:]
    key, sep, rest = line.partition(": ")
    if sep and rest.startswith("added "):
        return None, f"{key}: {rest[len('added '):]}"
    if sep and rest.startswith("removed "):
        return f"{key}: {rest[len('removed '):]}", None
    if sep and ARROW in rest:
        old, _, new = rest.partition(ARROW)
        return f"{key}: {old}", f"{key}: {new}"
    if line.startswith(" "):
        return line[1:], line[1:]
    return line, line


def _diff_html(lines: Iterable[str]) -> str:
    cells = ['<div class="head">fixture (checked in)</div><div class="head">rendered</div>']
    for line in lines:
        old, new = split_diff_line(line)
        if old is not None and old == new:
            cells.append(f'<div class="both">{_e(old)}</div>')
            continue
        cells.append(f'<div class="old">{_e(old)}</div>' if old is not None else '<div class="none"></div>')
        cells.append(f'<div class="new">{_e(new)}</div>' if new is not None else '<div class="none"></div>')
    return '<div class="diff">' + "".join(cells) + "</div>"


def _finding_html(finding: Finding, number: int) -> str:
    where = (finding.anchor or "(no file)") + (f":{finding.line}" if finding.line > 0 else "")
    parts = [f'<div class="finding {finding.severity.value}" id="finding-{number}" data-code="{_e(finding.code)}"'
             f' data-cluster="{_e(finding.cluster)}" data-check="{_e(finding.check)}">',
             f'<div><b>{_e(finding.code)}</b> <span class="where">{_e(where)}</span>'
             + (f" [{_e(finding.cluster)}]" if finding.cluster else "")
             + (f" <i>{_e(finding.severity.value)}</i>" if finding.severity is not Severity.ERROR else "") + "</div>",
             f"<div>{_e(finding.message)}</div>"]
    meta = [f"{_e(label)}: {_e(text)}" for label, text in context(finding)]
    parts += [f'<div class="meta">{item}</div>' for item in meta]
    if finding.diff:
        lines = list(finding.diff[:MAX_DIFF_LINES])
        if len(finding.diff) > MAX_DIFF_LINES:
            lines.append(f"... {len(finding.diff) - MAX_DIFF_LINES} more diff line(s)")
        parts.append(_diff_html(lines))
    if finding.hint:
        parts.append(f'<div class="meta">fix: {_e(finding.hint)}</div>')
    parts.append("</div>")
    return "\n".join(parts)


def _grid_html(grid: Grid, anchors: dict[tuple[str, str], int]) -> list[str]:
    if not grid.clusters:
        return []
    out = ['<h2>Clusters</h2>', '<table id="grid"><tr><th>cluster</th>'
           + "".join(f"<th>{_e(check)}</th>" for check in grid.checks) + "</tr>"]
    for cluster in grid.clusters:
        row = [f'<tr data-cluster="{_e(cluster)}"><th>{_e(cluster)}</th>']
        for check in grid.checks:
            cell = grid.cell(cluster, check)
            label = _LABELS[cell.status]
            count = cell.errors or cell.others
            if count and cell.status is not Status.PASS:
                label += f" ({count})"
            target = anchors.get((cluster, check))
            if target is not None:
                label = f'<a href="#finding-{target}">{label}</a>'
            row.append(f'<td class="cell {cell.status.value}" data-check="{_e(check)}" '
                       f'data-status="{cell.status.value}">{label}</td>')
        out.append("".join(row) + "</tr>")
    out.append("</table>")
    return out


def _repository_html(grid: Grid) -> list[str]:
    if not grid.repository:
        return []
    out = ['<h2>Repository checks</h2>', '<table id="repository"><tr><th>check</th><th>status</th></tr>']
    for cell in grid.repository:
        count = cell.errors or cell.others
        label = _LABELS[cell.status] + (f" ({count})" if count and cell.status is not Status.PASS else "")
        out.append(f'<tr><th>{_e(cell.name or cell.check)}</th><td class="cell {cell.status.value}" '
                   f'data-status="{cell.status.value}">{label}</td></tr>')
    out.append("</table>")
    return out


def html_report(report: Report, *, title: str = "overlay-parity") -> str:
    """The report as one self-contained HTML document."""
    findings = sorted(report.findings(), key=lambda f: (f.cluster, f.check, f.severity is not Severity.ERROR))
    anchors: dict[tuple[str, str], int] = {}
    for number, finding in enumerate(findings):
        anchors.setdefault((finding.cluster, finding.check), number)
    failing = report.failing()
    failed = sum(1 for r in report.results if r.failed)
    state = "fail" if failing else "pass"
    verdict = (f"{'FAILED' if failing else 'PASSED'}: {failed} of {len(report.results)} checks failed, "
               f"{len(failing)} finding(s)")
    grid = build_grid(report)
    body = [f"<h1>{_e(title)}</h1>", f'<div class="verdict {state}" id="verdict">{_e(verdict)}</div>',
            *_grid_html(grid, anchors), *_repository_html(grid)]
    if findings:
        body.append(f'<h2>Findings ({len(findings)})</h2>')
        body += [_finding_html(finding, number) for number, finding in enumerate(findings)]
        families = sorted({family(f.code) for f in findings}, key=list(GUIDANCE).index)
        body.append("<h2>How to fix or approve</h2><ul>")
        body += [f"<li><b>{kind}</b>: {_registry_text(GUIDANCE[kind])}</li>" for kind in families]
        body.append("</ul><h2>Codes</h2><ul>")
        body += [f"<li><b>{_e(code)}</b>: {_registry_text(describe(code))}</li>"
                 for code in sorted({f.code for f in findings})]
        body.append("</ul>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}: {_e(verdict)}</title>",
        f"<style>{STYLE}</style></head><body>",
        *body,
        "</body></html>",
    ]) + "\n"


def write_html(report: Report, path: Path, *, title: str = "overlay-parity") -> None:
    """Write the HTML report to ``path`` (parents created)."""
    write_report_file(path, html_report(report, title=title))
