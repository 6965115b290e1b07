"""The Finding model: location fields, JSON round trip, the stable fingerprint."""

from __future__ import annotations

from dataclasses import replace

from harness.findings import ROLES, Finding, Location, Severity, failing

FIXTURE = "testdata/fx/applications/overlays/k8s-dev/services/fluxcd/harbor.yaml"


def located() -> Finding:
    return Finding(code="PARITY-CONTENT", message="rendered file differs from the fixture (2 changes)",
                   check="parity", cluster="k8s-dev", path="services/fluxcd/harbor.yaml", line=12,
                   rules=("flux-annotation",), extra={"key_path": "spec.ref.tag"}, file=FIXTURE,
                   related=(Location("renderer/templates/services/fluxcd/harbor.yaml", 9, "template"),
                            Location("canonicalization/fx.yaml", 30, "inventory-rule")))


def test_round_trip_keeps_locations() -> None:
    finding = located()
    data = finding.to_dict()
    assert data["file"] == FIXTURE
    assert data["related"][0] == {"file": "renderer/templates/services/fluxcd/harbor.yaml", "line": 9,
                                  "role": "template"}
    again = Finding.from_dict(data)
    assert again == finding
    assert again.related[1].role == "inventory-rule"
    assert {r.role for r in again.related} <= set(ROLES)


def test_reports_written_before_locations_still_read() -> None:
    old = {"code": "PARITY-MISSING", "message": "m", "path": "a.yaml", "severity": "warning"}
    finding = Finding.from_dict(old)
    assert (finding.file, finding.related, finding.severity) == ("", (), Severity.WARNING)
    assert finding.anchor == "a.yaml"
    assert located().anchor == FIXTURE


def test_stable_fingerprint_ignores_line_and_counts_but_not_identity() -> None:
    base = located()
    print_ = base.stable_fingerprint()
    assert len(print_) == 64
    assert replace(base, line=99).stable_fingerprint() == print_
    assert replace(base, message="rendered file differs from the fixture (3 changes)").stable_fingerprint() == print_
    assert replace(base, related=()).stable_fingerprint() == print_
    for other in (replace(base, cluster="k8s-qa"), replace(base, code="PARITY-PARSE"),
                  replace(base, file=FIXTURE.replace("harbor", "longhorn")),
                  replace(base, extra={"key_path": "spec.interval"})):
        assert other.stable_fingerprint() != print_


def test_stable_fingerprint_accepts_undecodable_names() -> None:
    name = b"bad\xff\n.yaml".decode("utf-8", "surrogateescape")
    assert len(Finding(code="X", message="m", path=name).stable_fingerprint()) == 64


def test_failing_keeps_errors_only() -> None:
    note = replace(located(), severity=Severity.NOTE)
    assert failing([located(), note]) == [located()]
