"""Lifecycle claims with the real kubectl: bootstrap-complete vs renderer-parity (stub flux-system)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.findings import Finding, Severity
from harness.policy import BOOTSTRAP_COMPLETE, RENDERER_PARITY, PolicyOptions, check_overlay
from tests.harness.policy.trees import edit, make_overlay, write

ONLY = PolicyOptions(policies=("lifecycle",))


def _claim_note(result_findings: list[Finding]) -> dict[str, Any]:
    notes = [f for f in result_findings if f.code == "POLICY-LIFECYCLE" and f.severity is Severity.NOTE]
    assert len(notes) == 1
    return notes[0].extra


def test_bootstrap_complete_builds_whole_overlay(tmp_path: Path) -> None:
    result = check_overlay(make_overlay(tmp_path), options=ONLY)
    assert result.lifecycle_claim == BOOTSTRAP_COMPLETE
    assert not result.failed, result.findings
    assert _claim_note(result.findings) == {"lifecycle_claim": BOOTSTRAP_COMPLETE, "validated": True}
    assert result.notes["lifecycle_validated"] is True


def test_renderer_parity_builds_with_stub_in_a_temp_copy(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, flux_system=False)
    result = check_overlay(overlay, options=ONLY)
    assert result.lifecycle_claim == RENDERER_PARITY
    assert not result.failed, result.findings
    assert _claim_note(result.findings)["validated"] is True
    assert not (overlay / "flux-system").exists(), "the stub must never be written into the overlay"


def test_bootstrap_complete_fails_when_flux_system_is_broken(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "flux-system/kustomization.yaml", "[gotk-sync.yaml]", "[gotk-sync.yaml, gotk-components.yaml]")
    result = check_overlay(overlay, options=ONLY)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    assert len(errors) == 1
    assert errors[0].code == "POLICY-LIFECYCLE"
    assert errors[0].path == "kustomization.yaml"
    assert "bootstrap-complete" in errors[0].message
    assert "gotk-components.yaml" in errors[0].message
    assert _claim_note(result.findings)["validated"] is False


def test_renderer_parity_fails_on_a_broken_reference(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, flux_system=False)
    edit(overlay / "kustomization.yaml", "- ./services/fluxcd", "- ./services/fluxcd\n  - ./managed-services/fluxcd")
    result = check_overlay(overlay, options=ONLY)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    assert [f.code for f in errors] == ["POLICY-LIFECYCLE"]
    assert "renderer-parity" in errors[0].message
    assert "managed-services" in errors[0].message
    assert str(tmp_path) not in errors[0].message


def test_missing_root_kustomization_and_unlisted_flux_system(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, flux_system=False)
    (overlay / "kustomization.yaml").unlink()
    result = check_overlay(overlay, options=ONLY)
    assert any(f.severity is Severity.ERROR and "no root kustomization" in f.message for f in result.findings)

    other = make_overlay(tmp_path / "b", flux_system=False)
    write(other, {"kustomization.yaml": "resources: [./services/fluxcd]\n"})
    result = check_overlay(other, options=ONLY)
    assert not result.failed
    assert any(f.severity is Severity.WARNING and "does not list ./flux-system" in f.message for f in result.findings)
