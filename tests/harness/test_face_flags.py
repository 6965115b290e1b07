"""harness/face_flags.py: library text in the CLI's flags, worded for the pytest face."""

from __future__ import annotations

from harness.face_flags import finding_for_pytest, in_pytest_flags, result_for_pytest
from harness.findings import Finding
from harness.report import CheckResult


def test_cli_flags_become_pytest_flags_and_nothing_else_changes() -> None:
    assert in_pytest_flags("update the fixture (--update), or --update-force after review") == \
        "update the fixture (--parity-update), or --parity-update-force after review"
    assert in_pytest_flags("select other clusters with --cluster; --json or --parity-report") == \
        "select other clusters with --parity-cluster; --json or --parity-report"
    assert in_pytest_flags("--parity-update stays; a-b--update and --updates are not flags of ours") == \
        "--parity-update stays; a-b--update and --updates are not flags of ours"


def test_findings_and_update_reasons_are_worded_for_pytest() -> None:
    finding = Finding(code="PARITY-CONTENT", message="differs", hint="update the fixture (--update)")
    assert finding_for_pytest(finding).hint == "update the fixture (--parity-update)"
    result = CheckResult(name="parity[a]", check="parity", cluster="a", findings=[finding],
                         notes={"updates": [{"path": "x.yaml", "action": "delete", "applied": False,
                                             "reason": "rerun with --update-force after review"}]})
    worded = result_for_pytest(result)
    assert worded.findings[0].hint == "update the fixture (--parity-update)"
    assert worded.notes["updates"][0]["reason"] == "rerun with --parity-update-force after review"
    assert result.notes["updates"][0]["reason"] == "rerun with --update-force after review"  # not mutated
