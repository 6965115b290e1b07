"""Anchoring findings at repository files: overlay file, template, kustomization, config; related places."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.anchors import ParityPlaces, anchor_in_root, anchor_parity, anchor_rendered, repo_relative
from harness.findings import Finding, Location

OVERLAY = "fx/applications/overlays/k8s-dev"


@pytest.fixture
def places(tmp_path: Path) -> ParityPlaces:
    for rel in (f"{OVERLAY}/services/a.yaml", f"{OVERLAY}/kustomization.yaml", "fx/.k8s-dev-config.yaml",
                "templates/services/a.yaml", "templates/services/new.yaml", "inventory.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x: 1\n", encoding="utf-8")
    return ParityPlaces.of(tmp_path, tmp_path / OVERLAY, tmp_path / "fx/.k8s-dev-config.yaml",
                           tmp_path / "templates",
                           [("services/a.yaml", "services/a.yaml"), ("services/new.yaml", "services/new.yaml"),
                            ("services/gone.yaml", "services/gone.yaml")],
                           [("rule-1", "inventory.yaml", 7), ("rule-2", "missing.yaml", 3)])


def finding(code: str, path: str, **extra: object) -> Finding:
    return Finding(code=code, message="m", check="parity", cluster="k8s-dev", path=path, line=4,
                   rules=("rule-1", "rule-2"), extra=dict(extra))


def test_fixture_side_findings_anchor_at_the_overlay_file(places: ParityPlaces) -> None:
    [anchored] = anchor_parity([finding("PARITY-CONTENT", "services/a.yaml", rendered_path="services/a.yaml")],
                               places)
    assert (anchored.file, anchored.line) == (f"{OVERLAY}/services/a.yaml", 4)
    assert anchored.related == (Location("templates/services/a.yaml", 0, "template"),
                                Location("inventory.yaml", 7, "inventory-rule"))  # rule-2's file does not exist


def test_rendered_only_files_anchor_at_their_template_else_the_config(places: ParityPlaces) -> None:
    unexpected, lost, overlay = anchor_parity([
        finding("PARITY-UNEXPECTED", "services/new.yaml", rendered_path="services/new.yaml"),
        finding("PARITY-UNEXPECTED", "services/gone.yaml", rendered_path="services/gone.yaml"),
        finding("POLICY-SECURITY-DROPPED", "."),
    ], places)
    assert (unexpected.file, unexpected.line) == ("templates/services/new.yaml", 0)
    assert [r.role for r in unexpected.related] == ["inventory-rule"]  # not the template again
    assert (lost.file, lost.line) == ("fx/.k8s-dev-config.yaml", 0)  # its template does not exist
    assert overlay.file == f"{OVERLAY}/kustomization.yaml"


def test_rendered_trees_anchor_at_templates(places: ParityPlaces) -> None:
    [anchored] = anchor_rendered([finding("POLICY-PRUNE", "services/a.yaml")], places)
    assert (anchored.file, anchored.line) == ("templates/services/a.yaml", 0)


def test_a_set_file_is_kept_and_paths_never_escape_the_root(places: ParityPlaces, tmp_path: Path) -> None:
    given = Finding(code="PARITY-CONTENT", message="m", path="services/a.yaml", file="elsewhere.yaml", line=2)
    assert anchor_parity([given], places)[0].file == "elsewhere.yaml"
    assert repo_relative(tmp_path / ".." / "outside.yaml", tmp_path) == ""
    assert repo_relative(tmp_path / OVERLAY, tmp_path) == ""  # a directory is not a file
    inventory = anchor_in_root([Finding(code="PARITY-STALE-RULE", message="m", path="inventory.yaml", line=7),
                                Finding(code="X", message="m", path="nope.yaml")], tmp_path)
    assert [(f.file, f.line) for f in inventory] == [("inventory.yaml", 7), ("", 0)]
