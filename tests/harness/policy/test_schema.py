"""Schema policy: kubernetes-validate (strict, pinned version), Flux structure table, "no schema" notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.policy import PolicyOptions, PolicyResult, check_overlay
from harness.policy.schema import schema_store
from tests.harness.policy.trees import d, edit, make_overlay, write

ONLY = PolicyOptions(policies=("schema",))


def _run(overlay: Path, options: PolicyOptions = ONLY) -> tuple[PolicyResult, list[Finding]]:
    result = check_overlay(overlay, options=options)
    return result, [f for f in result.findings if f.severity is Severity.ERROR]


def test_clean_overlay_validates_and_notes_kinds_without_schema(tmp_path: Path) -> None:
    result, errors = _run(make_overlay(tmp_path, sops=True))
    assert errors == []
    [note] = [f for f in result.findings if f.severity is Severity.NOTE]
    assert note.message == "no schema for kyverno.io/v1 ClusterPolicy: 1 document(s) not validated"
    assert note.path == "services/demo/policies.yaml"
    # ConfigMap, NetworkPolicy, GitRepository, 2 Flux Kustomizations; flux-system/ is bootstrap-owned
    assert result.notes["schema_validated"] == 5
    skipped = result.notes["schema_skipped"]
    assert skipped["kustomize_config"] == 4
    assert skipped["sops_config"] == 1
    assert skipped["bootstrap"] == 3
    assert skipped["fragments"] == 1  # override-values.yaml is secretGenerator input, not an object


def test_unknown_field_and_wrong_type_name_fields_never_values(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/demo/deploy.yaml": d("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: demo}
        spec:
          replicas: PLACEHOLDER-not-a-number-7731
          selector: {matchLabels: {app: demo}}
          template:
            metadata: {labels: {app: demo}}
            spec:
              containers: [{name: demo, image: 'demo:1', bogusField: 1}]
    """)})
    edit(overlay / "services/demo/kustomization.yaml", "policies.yaml]", "policies.yaml, deploy.yaml]")
    _, errors = _run(overlay)
    [finding] = errors
    assert finding.code == "POLICY-SCHEMA"
    assert finding.path == "services/demo/deploy.yaml"
    assert "spec.replicas: wrong type" in finding.message
    assert "spec.template.spec.containers.0: unknown field(s) bogusField" in finding.message
    assert "PLACEHOLDER-not-a-number-7731" not in str(finding.to_dict())


def test_removed_api_version_is_an_error_not_a_note(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/demo/policies.yaml", "networking.k8s.io/v1", "networking.k8s.io/v1beta1")
    _, errors = _run(overlay)
    [finding] = errors
    assert "serves no networking.k8s.io/v1beta1 NetworkPolicy" in finding.message


def test_non_strict_mode_allows_unknown_fields(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/demo/configmap.yaml", "data: {mode: standard}", "data: {mode: standard}\nextra: 1")
    assert len(_run(overlay)[1]) == 1
    assert _run(overlay, PolicyOptions(policies=("schema",), strict_schema=False))[1] == []


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("  interval: 5m\n  path: ./applications/base", "  path: ./applications/base", "spec.interval is required"),
    ("  prune: true\n  sourceRef: {kind: GitRepository, name: opencenter-demo}",
     "  sourceRef: {kind: GitRepository, name: opencenter-demo}", "spec.prune is required"),
    ("interval: 5m\n  path: ./applications/base", "interval: 5 minutes\n  path: ./applications/base",
     "spec.interval must be a duration"),
    ("metadata: {name: demo-base, namespace: flux-system}", "metadata: {name: demo-base}",
     "metadata.namespace is required (no kustomization sets one)"),
])
def test_flux_structure(tmp_path: Path, old: str, new: str, problem: str) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", old, new)
    _, errors = _run(overlay)
    assert [f.message for f in errors] == [f"Kustomization demo-base: {problem}"]


def test_namespace_from_a_kustomization_counts(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", "metadata: {name: demo-base, namespace: flux-system}",
         "metadata: {name: demo-base}")
    edit(overlay / "services/fluxcd/kustomization.yaml", "kind: Kustomization",
         "kind: Kustomization\nnamespace: flux-system")
    assert _run(overlay)[1] == []


def test_helmrelease_needs_chart_or_chart_ref(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/demo/release.yaml": d("""
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: demo, namespace: demo}
        spec: {interval: 5m}
    """)})
    edit(overlay / "services/demo/kustomization.yaml", "policies.yaml]", "policies.yaml, release.yaml]")
    _, errors = _run(overlay)
    assert [f.message for f in errors] == ["HelmRelease demo: spec.chart or spec.chartRef is required"]


def test_patches_and_values_are_not_validated_but_parse_errors_are(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/demo/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo-settings}\n"
                                                "notAField: 1\n",
                    "services/demo/broken.yaml": "a: [\n"})
    edit(overlay / "services/demo/kustomization.yaml", "namespace: demo",
         "namespace: demo\npatches: [{path: patch.yaml}]")
    _, errors = _run(overlay)
    [finding] = errors
    assert finding.path == "services/demo/broken.yaml"
    assert finding.message.startswith("does not parse")


def test_resource_without_kind_is_an_error(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/demo/naked.yaml": "metadata: {name: x}\n"})
    edit(overlay / "services/demo/kustomization.yaml", "policies.yaml]", "policies.yaml, naked.yaml]")
    [finding] = _run(overlay)[1]
    assert "has no apiVersion/kind" in finding.message


def test_schema_store_is_shared_and_version_checked() -> None:
    assert schema_store("1.33") is schema_store("1.33")
    assert schema_store("1.33").version == "1.33"
    with pytest.raises(InputError) as info:
        schema_store("1.99")
    assert info.value.code == "USAGE"


def test_values_that_flux_substitutes_later_are_not_type_errors() -> None:
    from harness.policy.schema import flux_problems

    spec: dict[str, object] = {"interval": "${sync_interval}", "prune": True,
                               "sourceRef": {"kind": "GitRepository", "name": "x"}}
    data = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "a"},
            "spec": spec}
    assert flux_problems(data, namespaced=True) == []
    spec["interval"] = "often"
    assert flux_problems(data, namespaced=True) == ["spec.interval must be a duration"]
