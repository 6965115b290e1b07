"""security_dropped: Kyverno policies, NetworkPolicies and .sops.yaml never vanish from rendered output."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.policy import PolicyOptions, check_overlay, security_dropped
from harness.project_config import DEFAULT_SECURITY_KINDS
from tests.harness.policy.trees import edit, make_overlay, write


def _pair(tmp_path: Path, *, sops: bool = False) -> tuple[Path, Path]:
    fixture = make_overlay(tmp_path / "fixture", sops=sops)
    rendered = make_overlay(tmp_path / "rendered", flux_system=False, sops=sops)
    return fixture, rendered


def test_identical_trees_pass(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path, sops=True)
    assert security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, True) == []


def test_moved_to_another_file_is_not_a_drop(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    shutil.move(rendered / "services/demo/policies.yaml", rendered / "services/demo/moved.yaml")
    assert security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, False) == []


def test_dropped_network_policy(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    text = (rendered / "services/demo/policies.yaml").read_text()
    (rendered / "services/demo/policies.yaml").write_text(text.split("---\n")[0])
    [finding] = security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, False, cluster="k8s-t")
    assert finding.code == "POLICY-SECURITY-DROPPED"
    assert finding.cluster == "k8s-t"
    assert finding.path == "services/demo/policies.yaml"
    assert "NetworkPolicy default-deny (networking.k8s.io)" in finding.message


def test_renamed_or_renamespaced_policy_is_a_drop(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    edit(rendered / "services/demo/policies.yaml", "{name: disallow-privileged}",
         "{name: disallow-privileged, namespace: other}")
    [finding] = security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, False)
    assert "ClusterPolicy disallow-privileged (kyverno.io)" in finding.message


def test_configured_kinds_only(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    (rendered / "services/demo/policies.yaml").unlink()
    assert security_dropped(fixture, rendered, ["v1/ConfigMap"], False) == []
    assert len(security_dropped(fixture, rendered, ["kyverno.io/ClusterPolicy"], False)) == 1


def test_sops_yaml_dropped_only_matters_when_sops_is_on(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path, sops=True)
    (rendered / ".sops.yaml").unlink()
    [finding] = security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, True)
    assert finding.path == ".sops.yaml"
    assert "missing" in finding.message
    assert security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, False) == []


def test_sops_on_requires_root_sops_yaml_even_without_fixture_copy(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    [finding] = security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, True)
    assert finding.path == ".sops.yaml"


def test_unparsable_fixture_fails_closed_and_flux_system_is_out_of_scope(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    write(fixture, {"services/demo/broken.yaml": "a: [\n",
                    "flux-system/policy.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\n"})
    [finding] = security_dropped(fixture, rendered, DEFAULT_SECURITY_KINDS, False)
    assert finding.path == "services/demo/broken.yaml"
    assert "does not parse" in finding.message


def test_policy_face_uses_fixture_dir_and_notes_when_absent(tmp_path: Path) -> None:
    fixture, rendered = _pair(tmp_path)
    (rendered / "services/demo/policies.yaml").unlink()
    options = PolicyOptions(policies=("security-files",), fixture_dir=fixture)
    result = check_overlay(rendered, options=options)
    assert result.failed
    assert {f.code for f in result.findings} == {"POLICY-SECURITY-DROPPED"}
    result = check_overlay(rendered, options=PolicyOptions(policies=("security-files",)))
    assert not result.failed
    assert "no fixture" in result.findings[0].message
