"""Path pairing (ignore, alias, path_only) and document normalization (yaml_remove with match_kind).

The path tests read :mod:`harness.pairing`, the document tests :mod:`harness.rules.yaml_remove` and
:mod:`harness.normalizers` (they were one module before the rule-kind registry)."""

from __future__ import annotations

import copy
from typing import Any

from harness.inventory import RuleSet, parse_inventory
from harness.normalizers import DocumentNormalizer
from harness.pairing import pair_trees
from harness.rules import Role, Rule
from harness.rules.yaml_remove import effective_removals, remove_pointers
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


def yaml_remove_rules(ruleset: RuleSet, path: str) -> list[Rule]:
    return ruleset.matching(Role.NORMALIZE, path)

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


def test_rendered_paths_are_dropped_or_mapped() -> None:
    pairing = pair_trees(RS, ["services/extra/a.yaml", "services/new/renamed.yaml", "services/a.yaml"], [])
    [dropped] = pairing.dropped
    assert (dropped.path, dropped.side, [r.id for r in dropped.rules]) == ("services/extra/a.yaml", "rendered",
                                                                          ["ignore-extra"])
    keys = {p.key: p for p in pairing.pairs}
    assert keys["services/old/original.yaml"].rendered_path == "services/new/renamed.yaml"
    assert [r.id for r in keys["services/old/original.yaml"].mapping] == ["rename"]
    assert keys["services/a.yaml"].rendered_path == "services/a.yaml"
    assert keys["services/a.yaml"].mapping == ()
    assert pairing.matched == {"ignore-extra", "rename"}


def test_fixture_paths_are_dropped() -> None:
    pairing = pair_trees(RS, [], ["services/NOTES.md", "services/a.yaml"])
    assert [(d.path, [r.id for r in d.rules]) for d in pairing.dropped] == [("services/NOTES.md", ["ignore-readme"])]
    assert [p.key for p in pairing.pairs] == ["services/a.yaml"]


def test_pair_rules_match_either_side() -> None:
    pairing = pair_trees(RS, ["services/new/renamed.yaml", "services/fluxcd/harbor.yaml"],
                         ["services/old/original.yaml", "services/fluxcd/harbor.yaml"])
    renamed = pairing.pair_for("services/old/original.yaml")
    assert renamed is not None
    assert [r.id for r in renamed.presence_only] == ["values-only"]
    assert [r.id for r in renamed.normalize] == ["drop-interval"]
    assert renamed.content_rules == ()  # only presence is compared
    harbor = pairing.pair_for("services/fluxcd/harbor.yaml")
    assert harbor is not None
    assert [r.id for r in harbor.normalize] == ["drop-reconcile", "drop-first-dep"]


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
    normalizer = DocumentNormalizer(yaml_remove_rules(RS, "services/fluxcd/harbor.yaml"))
    rendered, fixture = [copy.deepcopy(KUSTOMIZATION)], [copy.deepcopy(KUSTOMIZATION)]
    rendered[0]["spec"]["dependsOn"][0]["name"] = "z"
    normalizer(rendered, fixture)
    assert rendered == fixture
    assert normalizer.effective == {"drop-first-dep"}
