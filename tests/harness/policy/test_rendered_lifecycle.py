"""Rendered clusters keep their checked-in lifecycle state: bootstrap files are seeded before the render."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.policy.lifecycle import seed_bootstrap

ROOT = Path(__file__).resolve().parents[3]
OVERLAYS = ROOT / "testdata" / "relaypoint-logistics-shared" / "applications" / "overlays"


def test_seed_copies_flux_system_only_when_the_fixture_has_it(tmp_path: Path) -> None:
    assert seed_bootstrap(OVERLAYS / "k8s-dr", tmp_path / "dr") is True
    assert (tmp_path / "dr" / "flux-system" / "gotk-sync.yaml").read_bytes() == (
        OVERLAYS / "k8s-dr" / "flux-system" / "gotk-sync.yaml").read_bytes()
    assert seed_bootstrap(OVERLAYS / "k8s-dev", tmp_path / "dev") is False
    assert not (tmp_path / "dev" / "flux-system").exists()


@pytest.mark.parametrize(("cluster", "claim"), [("k8s-dr", "bootstrap-complete"), ("k8s-uat", "renderer-parity")])
def test_policy_command_validates_the_fixture_lifecycle_claim(tmp_path: Path, cluster: str, claim: str) -> None:
    report = tmp_path / "policy.json"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "policy", "--cluster", cluster, "--policy",
                           "lifecycle", "--json", str(report)], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (result,) = json.loads(report.read_text())["results"]
    assert result["notes"]["lifecycle_claim"] == claim
