"""The five bundled RelayPoint clusters, rendered by the configured renderer, pass every policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.findings import Severity
from harness.policy import RENDERER_PARITY, PolicyOptions, check_overlay, sops_enabled_in_config
from harness.project_config import load_project_config
from harness.renderer_api import Renderer
from harness.renderers import renderer_for

ROOT = Path(__file__).resolve().parents[3]
PROJECT = load_project_config(ROOT)
CLUSTERS = ["k8s-dev", "k8s-dr", "k8s-prod", "k8s-qa", "k8s-uat"]
SOPS_CLUSTERS = {"k8s-dev", "k8s-dr"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return renderer_for(PROJECT)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_bundled_cluster_passes_every_policy(cluster: str, renderer: Renderer, tmp_path: Path) -> None:
    config = PROJECT.config_for(cluster)
    assert sops_enabled_in_config(config) is (cluster in SOPS_CLUSTERS)
    out = tmp_path / "applications" / "overlays" / cluster
    out.mkdir(parents=True)
    renderer.render(config, out)
    fixture = PROJECT.overlays / cluster
    options = PolicyOptions.from_project(PROJECT, fixture_dir=fixture if fixture.is_dir() else None,
                                         sops_enabled=cluster in SOPS_CLUSTERS, renderer=renderer,
                                         config_path=config)
    result = check_overlay(out, cluster=cluster, options=options)
    problems = [f"{f.code} {f.path}: {f.message}" for f in result.findings if f.severity is not Severity.NOTE]
    assert problems == []
    assert result.lifecycle_claim == RENDERER_PARITY
    assert result.notes["lifecycle_validated"] is True
    assert result.notes["builds"] > 10  # every own-repository Flux path was built
    if cluster in SOPS_CLUSTERS:
        assert result.notes["sops_proof"] == "rendered"
    else:
        assert "sops_proof" not in result.notes
