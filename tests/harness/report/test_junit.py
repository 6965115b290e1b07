"""JUnit XML read as CI servers read it: a strict parser, an XSD, file and line on every failing case."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from harness.findings import Finding
from harness.report import CheckResult, Report, junit_xml, write_junit
from tests.harness.report.samples import HOSTILE, fleet

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("junit.xsd"))))
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


def parse(text: str) -> etree._Element:
    root = etree.fromstring(text.encode("utf-8"), STRICT)
    XSD.assertValid(root)
    return root


def test_valid_against_the_xsd_with_counts_timestamp_and_hostname() -> None:
    stamp = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
    root = parse(junit_xml(fleet(), timestamp=stamp, hostname="ci-runner-7"))
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("8", "4", "0", "0")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["parity", "policy", "inventory", "coverage", "secrets"]
    parity = suites["parity"]
    assert (parity.get("tests"), parity.get("failures"), parity.get("errors"), parity.get("skipped")) == \
        ("3", "2", "0", "0")
    assert parity.get("timestamp") == "2026-12-06T22:30:00+00:00"
    assert parity.get("hostname") == "ci-runner-7"


def test_every_case_with_a_finding_has_file_and_line() -> None:
    root = parse(junit_xml(fleet()))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    dev = cases["parity[k8s-dev]"]
    assert dev.get("file") == "testdata/fx/applications/overlays/k8s-dev/services/fluxcd/harbor.yaml"
    assert dev.get("line") == "12"
    assert cases["coverage"].get("file") == "renderer/templates/services/x/extra.yaml"
    assert cases["policy[k8s-prod]"].get("line") == "4"  # a warning: anchored too, reported as output
    assert cases["policy[k8s-prod]"].find("failure") is None
    assert cases["parity[k8s-qa]"].get("file") is None
    for case in root.iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            assert case.get("file")
            assert case.get("line")


def test_hostile_names_keep_the_document_well_formed(tmp_path: Path) -> None:
    bad = Finding(code="PARITY-CONTENT", message=f"differs: {HOSTILE}\x00\x0b\ufffe", check="parity",
                  cluster="k8s\x1b-dev", path=HOSTILE, file=f"testdata/{HOSTILE}", line=3,
                  diff=(f"{HOSTILE}: 'a' → 'b'", "]]> <x/> &amp;"))
    report = Report(results=[CheckResult(f"parity[{HOSTILE}]", "parity", "k8s\x1b-dev", [bad], 0.1)])
    target = tmp_path / "junit.xml"
    write_junit(report, target)
    root = parse(target.read_text(encoding="utf-8"))
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "parity[evil\\n|name\\x1b[31m\\xff<b>@bob`x`.yaml]"
    assert case.get("file") == "testdata/evil\\n|name\\x1b[31m\\xff<b>@bob`x`.yaml"
    failure = case.find("failure")
    assert failure is not None
    assert failure.text is not None
    assert "]]> <x/> &amp;" in failure.text
    assert "\\x00" in failure.text
    assert "\\x0b" in failure.text
    assert "\\ufffe" in failure.text
