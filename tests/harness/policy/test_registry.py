"""The policy registry and the run_policies entry point on a clean tree (every policy, real tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.codes import CODES
from harness.errors import InputError
from harness.findings import Severity
from harness.policy import POLICIES, PolicyOptions, run_policies, select_policies
from tests.harness.policy.trees import CLUSTER, make_overlay


def test_registry_names_and_codes() -> None:
    assert list(POLICIES) == ["lifecycle", "flux-paths", "conventions", "security-files", "sops", "schema"]
    for policy in POLICIES.values():
        assert policy.codes
        assert all(code in CODES for code in policy.codes)
    assert [p.name for p in select_policies(["schema", "lifecycle"])] == ["lifecycle", "schema"]
    with pytest.raises(InputError) as info:
        select_policies(["nope"])
    assert info.value.code == "USAGE"


def test_clean_tree_passes_every_policy(tmp_path: Path) -> None:
    fixture = make_overlay(tmp_path / "fixture", sops=True)
    overlay = make_overlay(tmp_path / "rendered", sops=True, flux_system=False)
    findings = run_policies(overlay, cluster=CLUSTER, options=PolicyOptions(fixture_dir=fixture))
    assert [f for f in findings if f.severity is not Severity.NOTE] == []
    assert all(f.check == "policy" and f.cluster == CLUSTER for f in findings)
    [claim] = [f for f in findings if f.code == "POLICY-LIFECYCLE"]
    assert claim.extra == {"lifecycle_claim": "renderer-parity", "validated": True}


def test_symlinks_are_refused(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    (overlay / "services/demo/link.yaml").symlink_to(overlay / "services/demo/configmap.yaml")
    with pytest.raises(InputError) as info:
        run_policies(overlay, cluster=CLUSTER)
    assert info.value.code == "FILE-SYMLINK"
