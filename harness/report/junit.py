"""JUnit XML for CI servers: one testsuite per check kind, one testcase per check result.

Each testcase carries ``file`` and ``line`` (the anchor of its first finding that fails the gate, else
of its first finding) so CI servers link a failure to a file; each testsuite carries ``tests``,
``failures``, ``errors`` (always 0: a check that cannot run is a bad-input exit, not a test error),
``skipped`` (0: checks are never skipped), ``time``, ``timestamp`` and ``hostname``. Attribute values
pass :func:`~harness.report.escape.xml_attr` and element text :func:`~harness.report.escape.xml_text`,
so a file name with control characters or undecodable bytes cannot make the document ill-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from harness.findings import Finding, Severity
from harness.report.escape import xml_attr, xml_text
from harness.report.model import CheckResult, Report
from harness.report.output import write_report_file
from harness.report.text import format_finding


def _anchor(result: CheckResult) -> Finding | None:
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    return next(iter(errors or result.findings), None)


def _testcase(suite: ET.Element, check: str, result: CheckResult) -> None:
    attributes = {"classname": xml_attr(f"overlay-parity.{check}"), "name": xml_attr(result.name),
                  "time": f"{result.seconds:.3f}"}
    anchor = _anchor(result)
    if anchor is not None and anchor.anchor:
        attributes["file"] = xml_attr(anchor.anchor)
        if anchor.line > 0:
            attributes["line"] = str(anchor.line)
    case = ET.SubElement(suite, "testcase", attributes)
    failing = [f for f in result.findings if f.severity is Severity.ERROR]
    if failing:
        failure = ET.SubElement(case, "failure", message=xml_attr(f"{len(failing)} finding(s)"),
                                type=xml_attr(failing[0].code))
        failure.text = xml_text("\n".join(format_finding(f) for f in failing))
    others = [f for f in result.findings if f.severity is not Severity.ERROR]
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = xml_text("\n".join(format_finding(f) for f in others))


def junit_xml(report: Report, *, timestamp: datetime | None = None, hostname: str | None = None) -> str:
    """JUnit XML: one testsuite per check kind, one testcase per result, one failure per failing result."""
    stamp = (timestamp or datetime.now(UTC)).isoformat(timespec="seconds")
    if hostname is None:
        import socket  # ~7 ms to import: only when a JUnit file is written

        hostname = socket.gethostname()
    host = xml_attr(hostname)
    suites = ET.Element("testsuites", name="overlay-parity", tests=str(len(report.results)),
                        failures=str(sum(1 for r in report.results if r.failed)), errors="0", skipped="0",
                        time=f"{sum(r.seconds for r in report.results):.3f}", timestamp=stamp)
    by_check: dict[str, list[CheckResult]] = {}
    for result in report.results:
        by_check.setdefault(result.check, []).append(result)
    for check, results in by_check.items():
        suite = ET.SubElement(
            suites, "testsuite", name=xml_attr(check), tests=str(len(results)),
            failures=str(sum(1 for r in results if r.failed)), errors="0", skipped="0",
            time=f"{sum(r.seconds for r in results):.3f}", timestamp=stamp, hostname=host,
        )
        for result in results:
            _testcase(suite, check, result)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: Path) -> None:
    """Write JUnit XML (parents created)."""
    write_report_file(path, junit_xml(report))
