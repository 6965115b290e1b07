"""JUnit XML for CI servers: one testsuite per check kind, one testcase per check result."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.findings import Severity
from harness.report.model import CheckResult, Report
from harness.report.text import format_finding


def junit_xml(report: Report) -> str:
    """JUnit XML: one testsuite per check kind, one testcase per result, one failure per failing result."""
    suites = ET.Element("testsuites", name="overlay-parity")
    by_check: dict[str, list[CheckResult]] = {}
    for result in report.results:
        by_check.setdefault(result.check, []).append(result)
    for check, results in by_check.items():
        suite = ET.SubElement(
            suites, "testsuite", name=check, tests=str(len(results)),
            failures=str(sum(1 for r in results if r.failed)),
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"overlay-parity.{check}", name=result.name,
                                 time=f"{result.seconds:.3f}")
            failing = [f for f in result.findings if f.severity is Severity.ERROR]
            if failing:
                failure = ET.SubElement(case, "failure", message=f"{len(failing)} finding(s)",
                                        type=failing[0].code)
                failure.text = "\n".join(format_finding(f) for f in failing)
            others = [f for f in result.findings if f.severity is not Severity.ERROR]
            if others:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(format_finding(f) for f in others)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: Path) -> None:
    """Write JUnit XML (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(report), encoding="utf-8")
