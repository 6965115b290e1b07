"""Report formats: JSON round trip, JUnit XML, terminal text, shard merging."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.report import (
    CheckResult,
    Report,
    check_shards,
    format_finding,
    format_text,
    junit_xml,
    merge_reports,
    parse_shard_label,
    read_report,
    write_json,
    write_junit,
)

MASK = "<redacted sha256:1a2b3c4d>"


def content(cluster: str, path: str = "services/fluxcd/harbor.yaml") -> Finding:
    return Finding(code="PARITY-CONTENT", message="rendered file differs from the fixture (1 change)", check="parity",
                   cluster=cluster, path=path, line=3, hint="fix the template", owner="harbor",
                   rules=("flux-annotation",),
                   diff=("spec.ref.tag: 'v1.2.0' → 'v1.3.0'", f"stringData.identity: {MASK}"),
                   extra={"rendered_path": path, "matched_by": "identity"})


def sample_report() -> Report:
    note = Finding(code="PARITY-PATH-ONLY-BUDGET", message="the budget can shrink", check="inventory",
                   path="canonicalization/x.yaml", severity=Severity.NOTE, extra={"count": 1, "budget": 2})
    warning = Finding(code="COVERAGE-OUTPUT-COLLISION", message="may collide", check="coverage",
                      severity=Severity.WARNING)
    return Report(
        results=[
            CheckResult("parity[k8s-dev]", "parity", "k8s-dev", [content("k8s-dev")], 0.5,
                        {"files_compared": 10, "matched_rules": ["flux-annotation"]}),
            CheckResult("parity[k8s-qa]", "parity", "k8s-qa", [], 0.25, {"files_compared": 9}),
            CheckResult("inventory", "inventory", "", [note], 0.0, {"version": "1.0.0"}),
            CheckResult("coverage", "coverage", "", [warning], 0.1, {}),
        ],
        matched_rules={"flux-annotation", "b-rule"},
        clusters_run={"k8s-dev", "k8s-qa"},
        inventory={"path": "canonicalization/x.yaml", "version": "1.0.0", "clusters": ["k8s-dev", "k8s-qa"]},
        shard="1/2",
    )


# --------------------------------------------------------------------------------------------- JSON

def test_json_round_trip_is_lossless(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "out" / "report.json"
    write_json(report, path)
    again = read_report(path)
    assert again.to_dict() == report.to_dict()
    assert again.results[0].findings[0] == report.results[0].findings[0]
    assert again.results[2].findings[0].severity is Severity.NOTE
    assert again.matched_rules == report.matched_rules
    assert again.clusters_run == report.clusters_run


def test_json_summary_counts_only_failing_findings_as_errors() -> None:
    data = sample_report().to_dict()
    assert data["tool"] == "overlay-parity"
    assert data["format"] == 1
    summary = data["summary"]
    assert (summary["checks"], summary["failed_checks"], summary["errors"], summary["warnings"]) == (4, 1, 1, 1)
    assert summary["by_code"] == {"PARITY-CONTENT": 1}
    assert data["clusters_run"] == ["k8s-dev", "k8s-qa"]
    assert json.loads(json.dumps(data)) == data


def test_exit_code_ignores_notes_and_warnings() -> None:
    report = sample_report()
    assert report.exit_code() == 1
    report.results[0].findings.clear()
    assert report.exit_code() == 0
    assert not report.failing()


@pytest.mark.parametrize(("text", "code"), [
    ("not json", "REPORT-INVALID"),
    ("[1, 2]", "REPORT-INVALID"),
    ('{"tool": "other", "format": 1, "results": []}', "REPORT-INVALID"),
    ('{"tool": "overlay-parity", "format": 1, "results": [{"check": "parity"}]}', "REPORT-INVALID"),
])
def test_malformed_reports_are_one_line_input_errors(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_report(path)
    assert info.value.code == code
    assert "\n" not in info.value.one_line()
    assert str(path) in info.value.one_line()


def test_missing_report_is_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_report(tmp_path / "nope.json")
    assert info.value.code == "FILE-MISSING"


# --------------------------------------------------------------------------------------------- JUnit

def test_junit_is_well_formed_with_one_testcase_per_result(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # noqa: S314 (our own output)
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [r.name for r in report.results]
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites["parity"].get("tests") == "2"
    assert suites["parity"].get("failures") == "1"
    failures = root.findall(".//failure")
    assert len(failures) == 1
    assert failures[0].get("type") == "PARITY-CONTENT"
    assert "spec.ref.tag" in (failures[0].text or "")
    # Non-failing findings are reported as output, not as failures.
    outs = [c.find("system-out") for c in cases]
    assert sum(o is not None for o in outs) == 2


def test_junit_escapes_markup_in_messages() -> None:
    finding = Finding(code="PARITY-CONTENT", message="<b>&'\"", check="parity", diff=("]]> <x/>",))
    xml = junit_xml(Report(results=[CheckResult("parity[a]", "parity", "a", [finding])]))
    failure = ET.fromstring(xml).find(".//failure")  # noqa: S314 (our own output)
    assert failure is not None
    assert "<b>&'\"" in (failure.text or "")


# --------------------------------------------------------------------------------------------- text

def test_text_has_one_status_line_per_result_and_a_summary() -> None:
    text = format_text(sample_report())
    lines = text.splitlines()
    status = [line for line in lines if line.startswith(("ok ", "FAIL "))]
    assert [line.split()[1] for line in status] == ["parity[k8s-dev]", "parity[k8s-qa]", "inventory", "coverage"]
    assert status[0].startswith("FAIL")
    assert status[1].startswith("ok")
    assert lines[-1].startswith("FAILED: 3 of 4 checks clean, 1 finding(s)")
    assert "spec.ref.tag: 'v1.2.0' → 'v1.3.0'" in text
    assert "the budget can shrink" not in text  # notes only with verbose
    assert "the budget can shrink" in format_text(sample_report(), verbose=True)


def test_format_finding_block() -> None:
    block = format_finding(content("k8s-dev")).splitlines()
    assert block[0] == ("[k8s-dev] PARITY-CONTENT services/fluxcd/harbor.yaml:3: rendered file differs from the "
                        "fixture (1 change)")
    assert block[1] == "    (owner: harbor; rules: flux-annotation)"
    assert block[3] == f"    stringData.identity: {MASK}"
    assert block[-1] == "    fix: fix the template"


# --------------------------------------------------------------------------------------------- merge

def shard(name: str, clusters: list[str], matched: set[str], *, version: str = "1.0.0") -> Report:
    results = [CheckResult(f"parity[{c}]", "parity", c, []) for c in clusters]
    stale = Finding(code="PARITY-STALE-RULE", message="stale", check="inventory")
    results.append(CheckResult("inventory", "inventory", "", [stale]))
    return Report(results=results, matched_rules=matched, clusters_run=set(clusters),
                  inventory={"path": "inv.yaml", "version": version}, shard=name)


def test_merge_is_the_union_without_shard_inventory_results() -> None:
    merged = merge_reports([shard("1/2", ["a", "c"], {"r1"}), shard("2/2", ["b"], {"r2"})])
    assert [r.name for r in merged.results] == ["parity[a]", "parity[c]", "parity[b]"]
    assert merged.matched_rules == {"r1", "r2"}
    assert merged.clusters_run == {"a", "b", "c"}
    assert merged.inventory["version"] == "1.0.0"
    assert merged.shard == "merged"


def test_merge_refuses_overlapping_shards_and_mixed_versions() -> None:
    with pytest.raises(InputError) as info:
        merge_reports([shard("1/2", ["a"], set()), shard("2/2", ["a"], set())])
    assert info.value.code == "REPORT-INVALID"
    with pytest.raises(InputError) as info:
        merge_reports([shard("1/2", ["a"], set()), shard("2/2", ["b"], set(), version="1.1.0")])
    assert "inventory versions" in info.value.message


def labelled(*labels: str) -> list[tuple[str, Report]]:
    return [(f"r{number}.json", Report(shard=label)) for number, label in enumerate(labels)]


def test_shard_labels() -> None:
    assert parse_shard_label("2/4", source="r.json") == (2, 4)
    assert parse_shard_label("", source="r.json") is None  # an unsharded run
    assert parse_shard_label("merged", source="r.json") is None  # a report written by merge-reports
    for bad in ("5/4", "0/4", "two/4", "2-4", "1/"):
        with pytest.raises(InputError) as info:
            parse_shard_label(bad, source="r.json")
        assert info.value.one_line().startswith(f"r.json: REPORT-INVALID: shard label {bad!r} is not I/N")


def test_check_shards_accepts_one_whole_matrix() -> None:
    check_shards(labelled("2/3", "3/3", "1/3"), expect=3)
    check_shards(labelled("", ""), expect=2)
    check_shards(labelled("", "merged"))
    check_shards(labelled("1/3", "3/3"), expect=3, allow_partial=True)
    check_shards(labelled(""), expect=2, allow_partial=True)


@pytest.mark.parametrize(("labels", "expect", "partial", "message"), [
    (("1/3", "3/3"), None, False, "shard 2/3 is missing (2 of 3 shard reports given)"),
    (("2/2",), None, False, "shard 1/2 is missing (1 of 2 shard reports given)"),
    (("1/2", "2/2", "2/2"), None, True, "shard 2/2 is given twice (also r1.json)"),
    (("1/2", "2/3"), None, True, "shard 2/3 does not belong with shard 1/2 (r0.json)"),
    (("1/3", "2/3", "3/3"), 4, True, "shard 1/3 is not a shard of --expect-shards 4"),
    (("1/2", ""), None, True, "report has no shard label but r0.json is shard 1/2"),
    (("", ""), 3, False, "2 of --expect-shards 3 reports given"),
    (("", "", ""), 2, True, "3 reports given for --expect-shards 2"),
], ids=["missing", "missing-first", "duplicate", "mixed-n", "expect", "labelled-and-not", "too-few", "too-many"])
def test_check_shards_refuses(labels: tuple[str, ...], expect: int | None, partial: bool, message: str) -> None:
    with pytest.raises(InputError) as info:
        check_shards(labelled(*labels), expect=expect, allow_partial=partial)
    assert info.value.code == "REPORT-INVALID"
    assert info.value.message == message
