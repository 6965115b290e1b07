"""``overlay-parity init``: what it finds in a repository, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.init_project import find_fixtures, find_template_roots, plan_init, write_init
from harness.inventory import load_inventory
from harness.project_config import load_project_config
from tests.support.trees import write_tree

CONFIG = "cluster: x\n"


def gitops(root: Path, clusters: tuple[str, ...] = ("dev", "prod")) -> Path:
    files: dict[str, str] = {}
    for name in clusters:
        files[f".{name}-config.yaml"] = CONFIG
        files[f"applications/overlays/{name}/kustomization.yaml"] = "resources: []\n"
    return write_tree(root, files)


def test_init_writes_settings_and_an_empty_valid_inventory(tmp_path: Path) -> None:
    repo = gitops(tmp_path / "Acme Repo")
    write_tree(repo, {".qa-config.yaml": CONFIG, "applications/overlays/old/kustomization.yaml": "{}\n",
                      "platform/descriptors/web.yaml": "name: web\nfiles: []\n",
                      "platform/templates/web/a.yaml": "a: 1\n", ".git/x/.stage-config.yaml": CONFIG})
    plan = plan_init(repo, renderer="render --config {config} --out {out}")
    assert plan.fixture.clusters == ("dev", "prod")
    assert any("qa" in n for n in plan.notes)
    assert any("old" in n for n in plan.notes)
    written = write_init(plan)
    assert written == [repo / "canonicalization" / "acme-repo.yaml", repo / "overlay-parity.toml"]
    config = load_project_config(repo / "applications")
    assert config.fixture == repo.resolve()
    assert config.renderer == "render --config {config} --out {out}"
    assert config.template_root == (repo / "platform/templates").resolve()
    assert config.descriptor_root == (repo / "platform/descriptors").resolve()
    assert config.fixture_globs == ("applications/**", ".*-config.yaml")
    inventory = load_inventory(config.inventory)
    assert inventory.fixture == "acme-repo"
    assert inventory.all_rules() == []
    with pytest.raises(InputError, match="never overwrites"):
        plan_init(repo)


def test_existing_inventory_is_kept_and_a_nested_fixture_is_found(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    gitops(repo / "fleet" / "shared")
    write_tree(repo, {"canonicalization/shared.yaml": "version: 2.0.0\n"})
    plan = plan_init(repo)
    assert plan.inventory_text is None
    assert "kept the existing inventory" in plan.notes[-1]
    assert 'fixture = "fleet/shared"' in plan.settings_text
    assert '"fleet/shared/applications/**"' in plan.settings_text
    assert write_init(plan) == [repo / "overlay-parity.toml"]
    assert (repo / "canonicalization/shared.yaml").read_text() == "version: 2.0.0\n"


def test_no_fixture_or_several_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="found no cluster configs"):
        plan_init(tmp_path)
    gitops(tmp_path / "a")
    gitops(tmp_path / "b")
    with pytest.raises(InputError, match="found 2 fixtures"):
        plan_init(tmp_path)
    assert [f.root.name for f in find_fixtures(tmp_path)] == ["a", "b"]
    plan = plan_init(tmp_path, fixture=tmp_path / "b")
    assert 'fixture = "b"' in plan.settings_text


def test_template_roots_need_descriptors_beside_templates(tmp_path: Path) -> None:
    write_tree(tmp_path, {"descriptors/readme.yaml": "title: not a descriptor\n", "templates/a.yaml": "a: 1\n"})
    assert find_template_roots(tmp_path) is None
