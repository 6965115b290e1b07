"""Markdown for pull requests: verdict, tables, findings by code, collapsible diffs, the cap, the summary file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.report import Report
from harness.report.markdown import GITHUB_COMMENT_LIMIT, LIMIT, append_github_summary, markdown_report, write_markdown
from tests.harness.report.samples import HOSTILE, MASK, fleet


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1:]
    stop = re.search(rf"^#{{1,{len(level)}}} ", rest, re.M)
    return rest[: stop.start()] if stop else rest


def test_verdict_tables_and_findings_by_code() -> None:
    text = markdown_report(fleet(), title="overlay-parity check")
    lines = text.splitlines()
    assert lines[0] == "## overlay-parity check"
    assert lines[2].startswith("❌ **overlay-parity check: FAILED**: 4 of 8 checks failed, 4 finding(s) (")
    assert "COVERAGE-UNDECLARED: 1, PARITY-CONTENT: 1, PARITY-MISSING: 1, PARITY-STALE-RULE: 1" in lines[2]
    assert lines[2].endswith("; 1 warning(s) or note(s)")
    grid = section(text, "### Clusters")
    rows = [line for line in grid.splitlines() if line.startswith("| k8s")]
    assert rows == ["| k8s-dev | ❌ fail (1) | ✅ pass |", "| k8s-prod | ❌ fail (1) | ⚠️ warn (1) |",
                    "| k8s-qa | ✅ pass | not run |"]
    assert grid.splitlines()[1] == "| cluster | parity | policy |"
    repository = section(text, "### Repository checks")
    assert "| inventory | ❌ fail (1) |" in repository
    assert "| secrets\\[testdata\\] | ✅ pass |" in repository
    findings = section(text, "### Findings by code")
    codes = re.findall(r"^#### (\S+) \((\d+)\)$", findings, re.M)
    assert codes == [("PARITY-CONTENT", "1"), ("PARITY-MISSING", "1"), ("PARITY-STALE-RULE", "1"),
                     ("COVERAGE-UNDECLARED", "1"), ("POLICY-PRUNE", "1")] or codes == [
        ("COVERAGE-UNDECLARED", "1"), ("PARITY-CONTENT", "1"), ("PARITY-MISSING", "1"), ("PARITY-STALE-RULE", "1"),
        ("POLICY-PRUNE", "1")]
    assert codes[-1][0] == "POLICY-PRUNE"  # errors first, then warnings
    assert "A rendered file differs from its fixture file." in findings
    assert "does not set `prune: true`." in text  # the code registry's own Markdown is kept


def test_a_finding_names_file_line_rules_and_hides_its_diff_in_details() -> None:
    text = markdown_report(fleet())
    block = section(text, "#### PARITY-CONTENT (1)")
    assert "- **testdata/fx/applications/overlays/k8s-dev/services/fluxcd/harbor.yaml:12** (k8s-dev): rendered " \
        "file differs from the fixture (2 changes)" in block
    assert "inventory rules: flux-annotation" in block
    assert "template: renderer/templates/services/fluxcd/harbor.yaml:7" in block
    assert "inventory-rule: canonicalization/fx.yaml:21" in block
    assert "<details><summary>redacted diff of services/fluxcd/harbor.yaml</summary>" in block
    assert block.count("<details>") == block.count("</details>") == 1
    assert "  ```text\n  spec.ref.tag: 'v1.2.0' → 'v1.3.0'\n" in block
    assert f"  stringData.identity: {MASK}\n" in block
    assert "Fix: fix the template or approve the difference" in block
    how = section(text, "### How to fix or approve")
    assert "--update" in how
    assert "inventory" in how
    assert [line.split("**")[1] for line in how.splitlines() if line.startswith("- ")] == \
        ["parity", "inventory", "coverage", "policy"]


def test_clean_report_is_one_verdict_and_the_tables() -> None:
    report = fleet()
    for result in report.results:
        result.findings.clear()
    text = markdown_report(report, title="overlay-parity check")
    assert "✅ **overlay-parity check: PASSED**: 0 of 8 checks failed, 0 finding(s)" in text
    assert "### Findings by code" not in text
    assert "How to fix" not in text


@pytest.mark.parametrize("limit", [LIMIT, 20_000, 5_000])
def test_the_cap_is_kept_with_an_honest_count(limit: int) -> None:
    report = fleet(extra_findings=400)
    total = len(report.findings())
    text = markdown_report(report, limit=limit)
    assert len(text) <= limit < GITHUB_COMMENT_LIMIT
    shown = len(re.findall(r"^- \*\*", section(text, "### Findings by code"), re.M))
    more = re.search(r"\*\*(\d+) more finding\(s\) not shown\*\*", text)
    assert more is not None
    assert shown + int(more.group(1)) == total
    assert shown > 0
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0


def test_a_big_fleet_table_lists_failing_clusters_and_counts_the_rest() -> None:
    report = fleet()
    from harness.report import CheckResult

    report.results += [CheckResult(f"parity[c{n:05d}]", "parity", f"c{n:05d}") for n in range(4000)]
    text = markdown_report(report)
    assert len(text) <= LIMIT
    assert "| k8s-dev | ❌ fail (1) | ✅ pass |" in text
    assert "| c00001 |" not in text
    assert "4001 more cluster(s) not listed: every check passed." in text


def test_hostile_names_stay_in_their_line_and_cell() -> None:
    text = markdown_report(fleet(hostile=True))
    assert "\x1b" not in text
    assert "\udcff" not in text
    assert "<b>" not in text
    item = next(line for line in text.splitlines() if "evil" in line and line.startswith("- **"))
    assert "\\\\n\\|name\\\\x1b\\[31m\\\\xff&lt;b&gt;@&#8203;bob\\`x\\`" in item
    text.encode("utf-8")  # no lone surrogate left


def test_write_and_append_to_the_step_summary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "comment.md"
    write_markdown(fleet(), target, title="overlay-parity check")
    assert target.read_text(encoding="utf-8").startswith("## overlay")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    append_github_summary(fleet(), title="t", environ={"GITHUB_STEP_SUMMARY": str(summary)})
    append_github_summary(Report(), title="t", environ={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## t\n")
    assert text.count("## t\n") == 2


def test_step_summary_unset_or_unwritable_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        append_github_summary(fleet(), environ={})
    assert info.value.code == "USAGE"
    assert "GITHUB_STEP_SUMMARY" in info.value.one_line()
    assert "\n" not in info.value.one_line()
    with pytest.raises(InputError) as info:
        append_github_summary(fleet(), environ={"GITHUB_STEP_SUMMARY": str(tmp_path)})
    assert info.value.code == "REPORT-UNWRITABLE"
    assert str(tmp_path) in info.value.one_line()


def test_no_hostile_name_ever_escapes_a_cell() -> None:
    assert HOSTILE not in markdown_report(fleet(hostile=True))
