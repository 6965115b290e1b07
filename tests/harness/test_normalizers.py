"""Path and document normalizations: ignore, alias, path_only, yaml_remove (with match_kind)."""

from __future__ import annotations

import copy
from typing import Any

from harness.inventory import parse_inventory
from harness.normalizers import (
    YamlRemoveNormalizer,
    effective_removals,
    ignored_fixture,
    map_rendered,
    path_only_rules,
    remove_pointers,
    yaml_remove_rules,
)
from tests.harness.conftest import inventory_text, rule

INV = parse_inventory(inventory_text(defaults="\n".join([
    rule("drop-reconcile", "yaml_remove", "services/fluxcd/*.yaml",
         pointers=["/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile"], match_kind="Kustomization"),
    rule("drop-first-dep", "yaml_remove", "services/fluxcd/*.yaml",
         pointers=["/spec/dependsOn/0", "/spec/dependsOn/1"],
         match_kind="kustomize.toolkit.fluxcd.io/v1/Kustomization"),
    rule("drop-interval", "yaml_remove", "**/renamed.yaml", pointers=["/spec/interval"]),
    rule("ignore-extra", "ignore_rendered", "services/extra/"),
    rule("ignore-readme", "ignore_fixture", "*.md"),
    rule("rename", "alias", "services/new/renamed.yaml", to="services/old/original.yaml"),
    rule("values-only", "path_only", "services/old/original.yaml"),
]), budget=1), "canon.yaml")
RS = INV.rules_for("k8s-dev")

KUSTOMIZATION: dict[str, Any] = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "harbor", "annotations": {"kustomize.toolkit.fluxcd.io/reconcile": "enabled", "x": "y"}},
    "spec": {"dependsOn": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "interval": "5m"},
}
GITREPO: dict[str, Any] = {
    "apiVersion": "source.toolkit.fluxcd.io/v1",
    "kind": "GitRepository",
    "metadata": {"name": "repo", "annotations": {"kustomize.toolkit.fluxcd.io/reconcile": "enabled"}},
    "spec": {"dependsOn": [{"name": "a"}]},
}


def test_map_rendered() -> None:
    ignored = map_rendered(RS, "services/extra/a.yaml")
    assert ignored.key is None
    assert [r.id for r in ignored.rules] == ["ignore-extra"]
    aliased = map_rendered(RS, "services/new/renamed.yaml")
    assert aliased.key == "services/old/original.yaml"
    assert [r.id for r in aliased.rules] == ["rename"]
    plain = map_rendered(RS, "services/a.yaml")
    assert plain.key == "services/a.yaml"
    assert plain.rules == ()


def test_ignored_fixture() -> None:
    assert [r.id for r in ignored_fixture(RS, "services/NOTES.md")] == ["ignore-readme"]
    assert ignored_fixture(RS, "services/a.yaml") == ()


def test_pair_rules_match_either_side() -> None:
    assert [r.id for r in path_only_rules(RS, "services/old/original.yaml", "services/new/renamed.yaml")] == [
        "values-only"]
    assert [r.id for r in yaml_remove_rules(RS, "services/old/original.yaml", "services/new/renamed.yaml")] == [
        "drop-interval"]
    assert [r.id for r in yaml_remove_rules(RS, "services/fluxcd/harbor.yaml")] == ["drop-reconcile",
                                                                                    "drop-first-dep"]


def test_remove_pointers_honours_match_kind() -> None:
    docs = [copy.deepcopy(KUSTOMIZATION), copy.deepcopy(GITREPO)]
    removals = remove_pointers(docs, yaml_remove_rules(RS, "services/fluxcd/harbor.yaml"))
    assert docs[0]["metadata"]["annotations"] == {"x": "y"}
    assert docs[0]["spec"]["dependsOn"] == [{"name": "c"}]  # 0 and 1 as written, not shifted
    assert docs[1] == GITREPO  # not a Kustomization: untouched
    assert set(removals.by_rule) == {"drop-reconcile", "drop-first-dep"}
    assert sum(removals.by_rule["drop-first-dep"].values()) == 2


def test_api_version_filter_excludes_other_versions() -> None:
    old = copy.deepcopy(KUSTOMIZATION)
    old["apiVersion"] = "kustomize.toolkit.fluxcd.io/v1beta2"
    docs = [old]
    removals = remove_pointers(docs, yaml_remove_rules(RS, "services/fluxcd/harbor.yaml"))
    assert list(removals.by_rule) == ["drop-reconcile"]  # kind-only filter still applies
    assert len(old["spec"]["dependsOn"]) == 3


def test_effective_removals_only_when_sides_differ() -> None:
    rules = yaml_remove_rules(RS, "services/fluxcd/harbor.yaml")
    same_a, same_b = [copy.deepcopy(KUSTOMIZATION)], [copy.deepcopy(KUSTOMIZATION)]
    assert effective_removals(remove_pointers(same_a, rules), remove_pointers(same_b, rules)) == set()
    changed = copy.deepcopy(KUSTOMIZATION)
    changed["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/reconcile"] = "disabled"
    assert effective_removals(remove_pointers([changed], rules),
                              remove_pointers([copy.deepcopy(KUSTOMIZATION)], rules)) == {"drop-reconcile"}
    one_sided = copy.deepcopy(KUSTOMIZATION)
    del one_sided["spec"]["dependsOn"]
    assert effective_removals(remove_pointers([one_sided], rules),
                              remove_pointers([copy.deepcopy(KUSTOMIZATION)], rules)) == {"drop-first-dep"}


def test_normalizer_callable() -> None:
    normalizer = YamlRemoveNormalizer(yaml_remove_rules(RS, "services/fluxcd/harbor.yaml"))
    rendered, fixture = [copy.deepcopy(KUSTOMIZATION)], [copy.deepcopy(KUSTOMIZATION)]
    rendered[0]["spec"]["dependsOn"][0]["name"] = "z"
    normalizer(rendered, fixture)
    assert rendered == fixture
    assert normalizer.effective == {"drop-first-dep"}
