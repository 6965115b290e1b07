"""Flux wiring with real kustomize builds: paths, sources, dependsOn (missing and cycles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.findings import Finding, Severity
from harness.policy import PolicyOptions, check_overlay
from harness.policy.model import resolve_flux_path
from tests.harness.policy.trees import CLUSTER, d, edit, make_overlay, write

ONLY = PolicyOptions(policies=("flux-paths",))


def _errors(overlay: Path) -> list[Finding]:
    result = check_overlay(overlay, options=ONLY)
    return [f for f in result.findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("flux_system", [True, False], ids=["bootstrap-complete", "renderer-parity"])
def test_clean_overlay_passes(tmp_path: Path, flux_system: bool) -> None:
    overlay = make_overlay(tmp_path, flux_system=flux_system)
    result = check_overlay(overlay, options=ONLY)
    assert [f for f in result.findings if f.severity is Severity.ERROR] == []
    # root + services/demo; the flux-system Kustomization's path is the root: built once, from the cache
    assert result.notes["builds"] == 2


def test_overlay_outside_standard_layout_maps_by_prefix(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, standard_layout=False)
    assert _errors(overlay) == []


def test_missing_path(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", f"{CLUSTER}/services/demo", f"{CLUSTER}/services/gone")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-FLUX-PATH"
    assert finding.path == "services/fluxcd/demo.yaml"
    assert "does not exist" in finding.message
    assert "demo-override" in finding.message


def test_path_that_does_not_build(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/demo/kustomization.yaml", "[configmap.yaml,", "[configmap.yaml, absent.yaml,")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-FLUX-PATH"
    assert "does not build" in finding.message
    assert "absent.yaml" in finding.message


@pytest.mark.parametrize(("path", "expected"), [
    ("./applications/overlays/k8s-prod/services/demo", "another cluster's overlay (k8s-prod)"),
    ("../outside", "escapes the repository root"),
    ("./applications/base/services/demo", "outside this cluster's overlay"),
])
def test_paths_outside_the_overlay(tmp_path: Path, path: str, expected: str) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", f"./applications/overlays/{CLUSTER}/services/demo", path)
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-FLUX-PATH"
    assert expected in finding.message


def test_resolve_flux_path_without_repo_root(tmp_path: Path) -> None:
    overlay = tmp_path / "somewhere"
    overlay.mkdir()
    target, problem = resolve_flux_path(f"./applications/overlays/{CLUSTER}/services/x", overlay, CLUSTER, None)
    assert (target, problem) == (overlay.resolve() / "services" / "x", "")
    target, problem = resolve_flux_path("./apps/x", overlay, CLUSTER, None)
    assert target is None
    assert "no repository root" in problem
    target, problem = resolve_flux_path(f"/applications/overlays/{CLUSTER}", overlay, CLUSTER, None)
    assert target == overlay.resolve()


def test_undefined_source(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", "name: opencenter-demo}", "name: opencenter-nope}")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-FLUX-SOURCE"
    assert "GitRepository flux-system/opencenter-nope is not defined" in finding.message


def test_wrong_source_kind(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", "{kind: GitRepository, name: opencenter-demo}",
         "{kind: HelmRepository, name: opencenter-demo}")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-FLUX-SOURCE"
    assert "cannot feed a Kustomization" in finding.message


def test_bootstrap_source_is_always_defined(tmp_path: Path) -> None:
    # GitRepository flux-system/flux-system is supplied by `flux bootstrap`: never "not defined" (issue 12 item 3),
    # also when a bootstrap-complete overlay's gotk-sync.yaml does not carry it.
    overlay = make_overlay(tmp_path)
    sync = overlay / "flux-system/gotk-sync.yaml"
    sync.write_text(sync.read_text().split("---\n", 1)[1])
    assert _errors(overlay) == []


def test_missing_dependency_and_cycle(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/fluxcd/cycle.yaml": d("""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: a, namespace: flux-system}
        spec:
          interval: 5m
          prune: true
          dependsOn: [{name: b}, {name: ghost}]
          sourceRef: {kind: GitRepository, name: opencenter-demo}
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: b, namespace: flux-system}
        spec:
          interval: 5m
          prune: true
          dependsOn: [{name: c}]
          sourceRef: {kind: GitRepository, name: opencenter-demo}
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: c, namespace: flux-system}
        spec:
          interval: 5m
          prune: true
          dependsOn: [{name: a}, {name: demo-base, namespace: other}]
          sourceRef: {kind: GitRepository, name: opencenter-demo}
    """)})
    edit(overlay / "services/fluxcd/kustomization.yaml", "demo.yaml]", "demo.yaml, cycle.yaml]")
    findings = _errors(overlay)
    assert all(f.code == "POLICY-FLUX-DEPENDS" for f in findings)
    messages = sorted(f.message for f in findings)
    assert messages == [
        "Kustomization flux-system/a: dependsOn flux-system/ghost names no Flux Kustomization in the overlay",
        "Kustomization flux-system/c: dependsOn other/demo-base names no Flux Kustomization in the overlay",
        "dependsOn cycle: flux-system/a -> flux-system/b -> flux-system/c -> flux-system/a",
    ]


def test_build_errors_show_overlay_relative_paths(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, flux_system=False)
    edit(overlay / "services/sources/kustomization.yaml", "[opencenter-demo.yaml]", "[opencenter-demo.yaml, gone.yaml]")
    edit(overlay / "services/fluxcd/demo.yaml", f"{CLUSTER}/services/demo", f"{CLUSTER}/services/fluxcd")
    result = check_overlay(overlay, options=PolicyOptions(policies=("lifecycle", "flux-paths")))
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    assert {f.code for f in errors} == {"POLICY-LIFECYCLE", "POLICY-FLUX-PATH"}
    for finding in errors:
        assert "services/sources/gone.yaml" in finding.message
        assert str(tmp_path) not in finding.message
        assert "/tmp" not in finding.message
