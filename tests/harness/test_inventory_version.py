"""The inventory version rule (harness/inventory_version.py): what changed, the bump (semver: test_semver.py)."""

from __future__ import annotations

from pathlib import Path

from harness.inventory_version import check_inventories, check_version_bump, rule_changes

INVENTORY = """\
version: 1.0.0
fixture: demo
path_only_budget: 1
defaults:
  - id: flux-annotation
    kind: yaml_remove
    path: services/fluxcd/*.yaml
    pointers: [/metadata/annotations]
    rationale: reconcile annotations are written by hand in the fixture
    approved_by: parity-oracle-owner
clusters:
  k8s-dev:
    - id: dev-readme
      kind: ignore_fixture
      path: README.md
      rationale: the fixture has a README the renderer does not own
      approved_by: parity-oracle-owner
"""


def test_rule_changes_name_what_changed() -> None:
    old = {"version": "1.0.0", "defaults": [{"id": "a", "path": "x"}, {"id": "b", "path": "y"}],
           "clusters": {"k8s-dev": [{"id": "c", "path": "z"}]}, "path_only_budget": 1}
    assert rule_changes(old, {**old, "version": "9.9.9"}) == []
    new = {**old, "defaults": [{"id": "a", "path": "x2"}, {"id": "d", "path": "w"}], "path_only_budget": 2,
           "clusters": {"k8s-dev": [{"id": "c", "path": "z"}], "k8s-qa": []}}
    changes = rule_changes(old, new)
    assert changes[0] == "defaults: added d; removed b; changed a"
    assert any(c.startswith("clusters.k8s-qa") for c in changes)
    assert "path_only_budget" in changes


def test_version_bump_rule(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    changed = INVENTORY.replace("README.md", "NOTES.md")
    path.write_text(changed)
    problems = check_version_bump(path, previous=INVENTORY)
    assert [p.code for p in problems] == ["INVENTORY-VERSION"]
    assert problems[0].location is not None
    assert problems[0].location.line == 1
    assert "changed dev-readme" in problems[0].message
    path.write_text(changed.replace("version: 1.0.0", "version: 1.0.1"))
    assert check_version_bump(path, previous=INVENTORY) == []
    path.write_text(changed.replace("version: 1.0.0", "version: 1.0.0-rc.1"))  # a pre-release is lower
    assert [p.code for p in check_version_bump(path, previous=INVENTORY)] == ["INVENTORY-VERSION"]
    path.write_text(INVENTORY.replace("version: 1.0.0", "version: 0.9.0"))  # no rule change, but downwards
    assert "went down" in check_version_bump(path, previous=INVENTORY)[0].message
    path.write_text(INVENTORY + "# a comment is not a rule change\n")
    assert check_version_bump(path, previous=INVENTORY) == []


def test_inventory_loader_is_used_when_installed(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY + "unknown_key: 1\n")
    problems, notes = check_inventories([path])
    assert [p.code for p in problems] == ["INVENTORY-INVALID"]
    assert notes == []
