"""Conventions on built objects: pinned base sources, prune, sops decryption, drift detection."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.policy import PolicyOptions, check_overlay
from tests.harness.policy.trees import d, edit, make_overlay, write


class ConventionOptions(TypedDict, total=False):
    """The PolicyOptions fields these tests vary."""

    conventions: bool
    disabled_conventions: frozenset[str]
    base_repo_pattern: str


def _errors(overlay: Path, **options: Unpack[ConventionOptions]) -> list[Finding]:
    result = check_overlay(overlay, options=PolicyOptions(policies=("conventions",), **options))
    return [f for f in result.findings if f.severity is Severity.ERROR]


def test_clean_overlay_passes(tmp_path: Path) -> None:
    assert _errors(make_overlay(tmp_path, sops=True)) == []


@pytest.mark.parametrize("ref", ["{tag: v1.4.2}", "{semver: '>=1.4.0'}", "{commit: 0123abcd}",
                                 "{name: refs/tags/v1.4.2}"])
def test_pinned_refs_pass(tmp_path: Path, ref: str) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/sources/opencenter-demo.yaml", "{tag: v1.4.2}", ref)
    assert _errors(overlay) == []


@pytest.mark.parametrize(("ref", "what"), [("{branch: main}", "branch 'main'"), ("{}", "the default branch")])
def test_unpinned_base_source(tmp_path: Path, ref: str, what: str) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/sources/opencenter-demo.yaml", "{tag: v1.4.2}", ref)
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-UNPINNED-SOURCE"
    assert what in finding.message
    assert finding.path == "services/sources/opencenter-demo.yaml"
    assert "github.com" not in finding.message  # URLs are never quoted
    assert _errors(overlay, disabled_conventions=frozenset({"unpinned-source"})) == []
    assert _errors(overlay, base_repo_pattern="some-other-base") == []


def test_branch_on_other_repositories_is_fine(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    # the flux-system GitRepository tracks branch main and is not the shared base: no finding (clean test)
    assert "branch: main" in (overlay / "flux-system/gotk-sync.yaml").read_text()
    assert _errors(overlay) == []


def test_prune_false(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/fluxcd/demo.yaml", "prune: true", "prune: false")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-PRUNE"
    assert "demo-base" in finding.message
    assert _errors(overlay, conventions=False) == []


def test_prune_changed_by_a_patch_is_seen(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/fluxcd/no-prune.yaml": d("""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: demo-override, namespace: flux-system}
        spec: {prune: false}
    """)})
    edit(overlay / "services/fluxcd/kustomization.yaml", "demo.yaml]", "demo.yaml]\npatches: [{path: no-prune.yaml}]")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-PRUNE"
    assert "demo-override" in finding.message


def _add_secret_file(overlay: Path) -> None:
    write(overlay, {"services/demo/secrets/credentials.yaml": d("""
        apiVersion: v1
        kind: Secret
        metadata: {name: demo-credentials}
        stringData: {token: ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]}
    """)})
    edit(overlay / "services/demo/kustomization.yaml", "policies.yaml]", "policies.yaml, secrets/credentials.yaml]")


def test_decryption_required_for_sops_governed_files(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, sops=True)
    _add_secret_file(overlay)
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-DECRYPTION"
    assert "demo-override" in finding.message
    assert "services/demo/secrets/credentials.yaml" in finding.message
    assert _errors(overlay, disabled_conventions=frozenset({"decryption"})) == []


def test_decryption_present_passes(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, sops=True)
    _add_secret_file(overlay)
    edit(overlay / "services/fluxcd/demo.yaml", "dependsOn: [{name: demo-base}]",
         "dependsOn: [{name: demo-base}]\n  decryption: {provider: sops, secretRef: {name: sops-age}}")
    assert _errors(overlay) == []


def test_decryption_ignores_files_outside_the_build(tmp_path: Path) -> None:
    # the root (flux-system Kustomization's path) does not read services/demo/secrets: no decryption needed there
    overlay = make_overlay(tmp_path, sops=True)
    write(overlay, {"services/demo/secrets/unused.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n"})
    assert _errors(overlay) == []


def test_drift_detection_disabled(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    write(overlay, {"services/fluxcd/release.yaml": d("""
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: demo, namespace: demo}
        spec:
          interval: 5m
          chart: {spec: {chart: demo, sourceRef: {kind: HelmRepository, name: demo}}}
          driftDetection: {mode: disabled}
    """)})
    edit(overlay / "services/fluxcd/kustomization.yaml", "demo.yaml]", "demo.yaml, release.yaml]")
    [finding] = _errors(overlay)
    assert finding.code == "POLICY-DRIFT-DETECTION"
    assert finding.path == "services/fluxcd/release.yaml"
    edit(overlay / "services/fluxcd/release.yaml", "mode: disabled", "mode: enabled")
    assert _errors(overlay) == []


def test_unknown_convention_is_usage_error() -> None:
    with pytest.raises(InputError) as info:
        PolicyOptions(disabled_conventions=frozenset({"nope"}))
    assert info.value.code == "USAGE"


def test_sops_rules_match_in_linear_time(tmp_path: Path) -> None:
    # `(a+)+$` backtracks exponentially in Python's re; .sops.yaml patterns are matched with RE2 (issue 18 item 3)
    import re

    from harness.kustomize import KustomizeBuilder
    from harness.policy.model import PolicyContext

    overlay = make_overlay(tmp_path, sops=True)
    (overlay / ".sops.yaml").write_text("creation_rules:\n  - path_regex: ^(a+)+$\n    age: age1x\n")
    with PolicyContext(overlay, "k8s-t", repo_root=None, options=PolicyOptions(), builder=KustomizeBuilder()) as ctx:
        [rule] = ctx.sops_rules
    assert rule is not None
    assert not isinstance(rule, re.Pattern)
    assert rule.search("a" * 100_000 + "!") is None
    assert rule.search("aaaa") is not None
