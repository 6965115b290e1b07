"""Issue 16 item 1: for every path of every bundled cluster, ``explain``'s verdict equals ``check``'s finding.

``check`` compares an in-memory render (:meth:`ParityRun.check_cluster`); ``explain`` renders into a
directory, lists both trees and inspects one path at a time (:mod:`harness.single_path`). Both ask
:mod:`harness.pairing`, and this test holds them equal: the codes explain reports for a path are exactly
the codes of the check findings at that path (as fixture-side key or as rendered path). It runs on the
pristine bundled fixture and on a copy with one drift of every kind in each cluster.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.findings import Finding
from harness.project_config import load_project_config
from harness.runner import ParityRun
from harness.single_path import inspect_path, rendered_cluster
from tests.integration.test_bundled_fixture import CLUSTERS, copy_bundled, overlay


def plant_drift(root: Path) -> None:
    """One drift of each kind, spread over the clusters (the renderer's output is unchanged)."""
    dev = overlay(root, "k8s-dev")
    (dev / "services/harbor/override-values.yaml").unlink()  # missing
    (dev / "services/harbor/extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    # the aliased NetworkPolicy's fixture file is gone, and a same-named fixture file appears
    (dev / "services/keycloak/20-keycloak/keycloak-networkpolicy.yaml").unlink()
    olm = dev / "services/fluxcd/olm.yaml"
    first, second = olm.read_text().split("---\n")[1:3]
    olm.write_text(f"---\n{second}---\n{first}")  # reordered documents: a note
    qa = overlay(root, "k8s-qa")
    gateway = qa / "services/fluxcd/gateway.yaml"
    gateway.write_text(gateway.read_text().replace("interval: 5m", "interval: 7m", 1))  # content
    (qa / "services/fluxcd/broken.yaml").write_text("a: [\n")  # unexpected and unparseable
    kustomization = qa / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "\n  bad: [\n")  # parse failure
    prod = overlay(root, "k8s-prod")
    for path in sorted(prod.rglob("override-values.yaml"))[:1]:
        path.write_text(path.read_text() + "\nextra: 1\n")


def _codes(findings: list[Finding], path: str) -> list[str]:
    return sorted(f.code for f in findings if path in (f.path, f.extra.get("rendered_path")))


@pytest.mark.parametrize("mutated", [False, True], ids=["pristine", "drifted"])
def test_explain_agrees_with_check_on_every_path(tmp_path: Path, mutated: bool) -> None:
    root = copy_bundled(tmp_path / "project")
    if mutated:
        plant_drift(root)
    project = load_project_config(root)
    run = ParityRun.create(project)
    disagreements: list[str] = []
    checked = 0
    codes_seen: set[str] = set()
    for cluster in CLUSTERS:
        with rendered_cluster(project, cluster) as rendered:
            findings = run.check_cluster(cluster, rendered=(rendered.out, rendered.plan)).findings
            codes_seen.update(f.code for f in findings)
            # every path of either tree, and every fixture-side key (an alias target the fixture lacks)
            paths = rendered.rendered_files | rendered.fixture_files | {p.key for p in rendered.pairing.pairs}
            for path in sorted(paths):
                checked += 1
                explained = sorted(v.code for v in inspect_path(rendered, path).reported if v.code)
                if explained != _codes(findings, path):
                    disagreements.append(f"{cluster} {path}: explain {explained}, check {_codes(findings, path)}")
            reported = {p for f in findings for p in (f.path, f.extra.get("rendered_path")) if p}
            assert reported <= paths
    assert disagreements == []
    assert checked > 500
    if mutated:
        assert {"PARITY-MISSING", "PARITY-UNEXPECTED", "PARITY-CONTENT", "PARITY-PARSE",
                "PARITY-REORDERED"} <= codes_seen
    else:
        assert codes_seen == set()
    shutil.rmtree(root)
