"""The differences of a cluster as data (for ``propose`` and other rule drafting)."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.differences import cluster_differences
from harness.inventory import parse_inventory
from tests.harness.conftest import inventory_text, rule

LIMIT = 1_000_000


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_differences_name_files_renames_pointers_kinds_and_lines(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    # a rename: the renderer writes the fixture's file under another name
    shutil.move(rendered / "services/sources/opencenter-harbor.yaml", rendered / "services/sources/harbor-src.yaml")
    # a field inside a list, in the second document of a multi-document file
    edit(rendered, "services/fluxcd/harbor.yaml", "- name: harbor-base", "- name: harbor-other")
    # reordered documents elsewhere would be a note; here: a hand-added fixture file
    (fixture / "services/harbor/NOTES.yaml").write_text("note: hand-written\n")
    inventory = parse_inventory(inventory_text(defaults=rule("ignore-readme", "ignore_fixture", "README.md")), "c.yaml")
    found = {(d.kind, d.fixture_path): d for d in cluster_differences(
        "k8s-dev", rendered, fixture, inventory.rules_for("k8s-dev"), max_file_bytes=LIMIT).differences}
    assert set(found) == {("missing", "services/sources/opencenter-harbor.yaml"),
                          ("extra", "services/sources/harbor-src.yaml"),
                          ("content", "services/fluxcd/harbor.yaml"),
                          ("missing", "services/harbor/NOTES.yaml")}
    assert found["missing", "services/sources/opencenter-harbor.yaml"].renamed_from == (
        "services/sources/harbor-src.yaml",)
    assert found["extra", "services/sources/harbor-src.yaml"].renamed_to == ("services/sources/opencenter-harbor.yaml",)
    assert found["missing", "services/harbor/NOTES.yaml"].renamed_from == ()
    [field] = found["content", "services/fluxcd/harbor.yaml"].fields
    assert (field.op, field.pointer, field.key_path, field.doc_kind) == (
        "changed", "/spec/dependsOn/0/name", "spec.dependsOn[0].name", "Kustomization")
    assert field.doc.startswith("[doc 2 Kustomization flux-system/harbor-override]")
    lines = (fixture / "services/fluxcd/harbor.yaml").read_text().splitlines()
    assert lines[field.fixture_line - 1].strip() == "- name: harbor-base"


def test_an_in_sync_cluster_has_no_differences(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    inventory = parse_inventory(inventory_text(), "c.yaml")
    files = {p.relative_to(rendered).as_posix(): p.read_bytes() for p in rendered.rglob("*") if p.is_file()}
    assert cluster_differences("k8s-dev", files, fixture, inventory.rules_for("k8s-dev"),
                               max_file_bytes=LIMIT).differences == []
