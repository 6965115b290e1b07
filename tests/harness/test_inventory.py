"""Inventory loading, validation (INVENTORY-INVALID with lines), resolution and conflicts."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import jsonschema
import pytest

from harness.errors import InputError, InputErrors
from harness.inventory import (
    SCHEMA_PATH,
    KindFilter,
    inventory_schema,
    load_inventory,
    parse_inventory,
)
from harness.rules import Role
from tests.harness.conftest import inventory_text, rule

GOOD = inventory_text(
    defaults="\n".join([
        rule("reconcile-annotation", "yaml_remove", "services/fluxcd/*.yaml",
             pointers=["/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile"], match_kind="Kustomization"),
        rule("readme", "ignore_fixture", "README.md"),
        rule("values-path-only", "path_only", "managed-services/**/override-values.yaml"),
    ]),
    clusters="k8s-dev:\n" + "\n".join("  " + r for r in [
        rule("harbor-rename", "alias", "services/harbor/values.yaml", to="services/harbor/override-values.yaml"),
        rule("dev-extra", "ignore_rendered", "services/extra/"),
    ]) + "\nk8s-prod: []",
    budget=2,
)


def errors_of(text: str) -> list[InputError]:
    with pytest.raises(InputError) as info:
        parse_inventory(text, "canon.yaml")
    exc = info.value
    return exc.errors if isinstance(exc, InputErrors) else [exc]


def one_error(text: str) -> InputError:
    errors = errors_of(text)
    assert len(errors) == 1, [e.one_line() for e in errors]
    return errors[0]


def test_schema_is_valid_2020_12() -> None:
    schema = inventory_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["rule"]["additionalProperties"] is False
    assert json.loads(SCHEMA_PATH.read_text()) == schema


def test_load_good_inventory(tmp_path: Path) -> None:
    path = tmp_path / "canon.yaml"
    path.write_text(GOOD)
    inv = load_inventory(path)
    assert inv.version == "1.0.0"
    assert inv.fixture == "test-fixture"
    assert inv.path_only_budget == 2
    assert inv.path == path
    assert [r.id for r in inv.defaults] == ["reconcile-annotation", "readme", "values-path-only"]
    assert list(inv.clusters) == ["k8s-dev", "k8s-prod"]
    assert inv.path_only_count() == 1
    assert len(inv.all_rules()) == 5
    first = inv.rule("reconcile-annotation")
    assert first.line == 5
    assert first.scope == "defaults"
    assert first.file == str(path)
    assert first.match_kind == KindFilter("Kustomization")
    assert first.pointers[0].tokens == ("metadata", "annotations", "kustomize.toolkit.fluxcd.io/reconcile")
    alias = inv.rule("harbor-rename")
    assert alias.cluster == "k8s-dev"
    assert alias.to == "services/harbor/override-values.yaml"
    json.dumps(inv.to_dict())


def test_resolution_order_and_lookups() -> None:
    inv = parse_inventory(GOOD, "canon.yaml")
    dev = inv.rules_for("k8s-dev")
    assert [r.id for r in dev.rules] == ["reconcile-annotation", "readme", "values-path-only", "harbor-rename",
                                         "dev-extra"]
    assert dev.alias_target("services/harbor/values.yaml") == "services/harbor/override-values.yaml"
    assert dev.alias_target("services/harbor/override-values.yaml") is None
    assert dev.alias_source("services/harbor/override-values.yaml") is not None
    assert dev.matching(Role.DROP_RENDERED, "services/extra/a/b.yaml")
    assert not dev.matching(Role.DROP_RENDERED, "services/extras.yaml")
    assert dev.matching(Role.DROP_FIXTURE, "README.md")
    assert dev.matching(Role.DROP_FIXTURE, "services/README.md")
    assert dev.matching(Role.PRESENCE_ONLY, "managed-services/alert-proxy/override-values.yaml")
    assert not dev.matching(Role.PRESENCE_ONLY, "services/harbor/override-values.yaml")
    assert [r.id for r in dev.matching(Role.NORMALIZE, "services/fluxcd/harbor.yaml")] == ["reconcile-annotation"]
    assert dev.matching(Role.NORMALIZE, "services/fluxcd/sub/harbor.yaml") == []
    assert [r.id for r in dev.rules_matching("services/harbor/values.yaml")] == ["harbor-rename"]
    # other clusters (listed or not) get the defaults only
    for cluster in ("k8s-prod", "k8s-unknown"):
        rs = inv.rules_for(cluster)
        assert [r.id for r in rs.rules] == ["reconcile-annotation", "readme", "values-path-only"]
        assert rs.alias_target("services/harbor/values.yaml") is None


def test_ruleset_bookkeeping_is_per_call() -> None:
    inv = parse_inventory(GOOD, "canon.yaml")
    first = inv.rules_for("k8s-dev")
    first.mark("readme")
    assert first.matched == {"readme"}
    assert inv.rules_for("k8s-dev").matched == set()


def test_inventory_and_ruleset_pickle() -> None:
    inv = parse_inventory(GOOD, "canon.yaml")
    clone = pickle.loads(pickle.dumps(inv))  # noqa: S301 (our own objects)
    assert clone.rules_for("k8s-dev").matching(Role.DROP_RENDERED, "services/extra/x")
    rs = pickle.loads(pickle.dumps(inv.rules_for("k8s-dev")))  # noqa: S301 (our own objects)
    assert rs.matching(Role.PRESENCE_ONLY, "managed-services/a/override-values.yaml")


def test_rules_digest_tracks_rules_not_version() -> None:
    base = parse_inventory(GOOD, "a.yaml").rules_digest()
    assert parse_inventory(GOOD.replace("version: 1.0.0", "version: 1.0.1"), "b.yaml").rules_digest() == base
    assert parse_inventory(GOOD.replace("README.md", "NOTES.md"), "a.yaml").rules_digest() != base


def test_kind_filter() -> None:
    gitrepo = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository"}
    assert KindFilter.parse("GitRepository").matches(gitrepo)
    assert KindFilter.parse("source.toolkit.fluxcd.io/v1/GitRepository").matches(gitrepo)
    assert not KindFilter.parse("source.toolkit.fluxcd.io/v1beta2/GitRepository").matches(gitrepo)
    assert KindFilter.parse("v1/Secret") == KindFilter("Secret", "v1")
    assert not KindFilter.parse("Kustomization").matches(gitrepo)
    assert not KindFilter.parse("Kustomization").matches(["not", "a", "mapping"])


# ------------------------------------------------------------------------------------------ invalid input

def test_missing_version() -> None:
    err = one_error("fixture: x\ndefaults: []\n")
    assert err.code == "INVENTORY-INVALID"
    assert "missing required key 'version'" in err.message
    assert err.location is not None
    assert err.location.file == "canon.yaml"


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0.0", "'01.0.0'"])
def test_bad_version(version: str) -> None:
    err = one_error(f"version: {version}\n")
    assert "version must be" in err.message
    assert err.location is not None
    assert err.location.line == 1


def test_not_a_mapping() -> None:
    assert "mapping" in one_error("- a\n- b\n").message
    assert "mapping" in one_error("").message


def test_unknown_top_level_key_names_its_line() -> None:
    err = one_error("version: 1.0.0\nfixture: x\nextras: 1\n")
    assert "unknown key 'extras'" in err.message
    assert err.location is not None
    assert err.location.line == 3


def test_unknown_rule_key_and_kind() -> None:
    text = inventory_text(defaults="\n".join([
        rule("a", "ignore_fixture", "README.md", colour="blue"),
        rule("b", "normalize_all", "x.yaml"),
    ]))
    errors = errors_of(text)
    messages = [e.one_line() for e in errors]
    assert any("canon.yaml:4" in m and "unknown key 'colour'" in m for m in messages), messages
    assert any("canon.yaml:5" in m and "normalize_all" in m and "is not one of" in m for m in messages), messages
    assert all(e.code == "INVENTORY-INVALID" for e in errors)


def test_duplicate_ids_across_defaults_and_clusters() -> None:
    text = inventory_text(defaults=rule("same", "ignore_fixture", "README.md"),
                          clusters="k8s-dev:\n  " + rule("same", "ignore_rendered", "x.yaml"))
    err = one_error(text)
    assert "duplicate rule id 'same'" in err.message
    assert "line 4" in err.message
    assert err.location is not None
    assert err.location.line == 7


@pytest.mark.parametrize(("snippet", "expected"), [
    (rule("a", "ignore_fixture", "services/[abc"), "bad glob"),
    (rule("a", "ignore_fixture", "!README.md"), "negated"),
    (rule("a", "ignore_fixture", "a/../b"), "'..' segments"),
    (rule("a", "yaml_remove", "x.yaml", pointers=["/a/-"]), "bad JSON pointer"),
    (rule("a", "yaml_remove", "x.yaml", pointers=["/a/~2"]), "bad JSON pointer"),
    (rule("a", "yaml_remove", "x.yaml", pointers=["metadata"]), "does not match"),
    (rule("a", "yaml_remove", "x.yaml", pointers=[]), "must not be empty"),
    (rule("a", "yaml_remove", "x.yaml"), "missing required key 'pointers'"),
    (rule("a", "alias", "x.yaml"), "missing required key 'to'"),
    (rule("a", "ignore_rendered", "x.yaml", to="y.yaml"), "'to' is only allowed for kind alias"),
    (rule("a", "alias", "x.yaml", to="y.yaml", pointers=["/a"]), "'pointers' is only allowed for kind yaml_remove"),
    (rule("a", "path_only", "x.yaml", match_kind="Secret"), "'match_kind' is only allowed for kind yaml_remove"),
    (rule("a", "alias", "services/*.yaml", to="y.yaml"), "literal file path"),
    (rule("a", "alias", "services/x/", to="y.yaml"), "not a directory"),
    (rule("a", "alias", "x.yaml", to="x.yaml"), "onto itself"),
    (rule("a", "ignore_fixture", "flux-system/gotk-sync.yaml"), "bootstrap-owned"),
    (rule("a", "yaml_remove", "x.yaml", pointers=["/a"], match_kind="not a kind"), "does not match"),
    (rule("bad id!", "ignore_fixture", "x.yaml"), "rule id must be"),
    ("- {id: a, kind: path_only, path: x.yaml, rationale: '  ', approved_by: me}", "must not be empty"),
    ("- {id: a, kind: path_only, path: x.yaml, rationale: why}", "missing required key 'approved_by'"),
])
def test_invalid_rules_are_located(snippet: str, expected: str) -> None:
    err = one_error(inventory_text(defaults=snippet))
    assert err.code == "INVENTORY-INVALID"
    assert expected in err.message, err.one_line()
    assert err.location is not None
    assert err.location.line == 4, err.one_line()


def test_bad_pointer_is_located_on_its_own_line() -> None:
    text = inventory_text(defaults="""
        - id: a
          kind: yaml_remove
          path: x.yaml
          pointers:
            - /metadata/name
            - /spec/-
          rationale: r
          approved_by: me
    """)
    err = one_error(text)
    assert "pointers[1]" in err.message
    assert err.location is not None
    assert err.location.line == 9


def test_all_problems_are_reported_at_once() -> None:
    text = inventory_text(defaults="\n".join([
        rule("a", "ignore_fixture", "[x"),
        rule("b", "yaml_remove", "x.yaml", pointers=["/-"]),
    ]))
    errors = errors_of(text)
    assert [e.location.line for e in errors if e.location] == [4, 5]
    with pytest.raises(InputErrors):
        parse_inventory(text, "c.yaml")


def test_yaml_problems_keep_their_codes() -> None:
    err = one_error("version: 1.0.0\nversion: 1.0.1\n")
    assert err.code == "YAML-DUPLICATE-KEY"


def test_bad_cluster_name() -> None:
    assert "clusters" in one_error("version: 1.0.0\nclusters:\n  K8S_Dev: []\n").message


# ------------------------------------------------------------------------------------------ conflicts

@pytest.mark.parametrize(("rules", "expected"), [
    ([rule("a1", "alias", "new-a.yaml", to="services/a.yaml"), rule("a2", "alias", "new-b.yaml", to="services/a.yaml")],
     "two aliases onto fixture path services/a.yaml"),
    ([rule("a1", "alias", "new.yaml", to="services/a.yaml"), rule("a2", "alias", "new.yaml", to="services/b.yaml")],
     "two aliases from rendered path new.yaml"),
    ([rule("a1", "alias", "services/new.yaml", to="services/a.yaml"), rule("i1", "ignore_rendered", "services/")],
     "both aliased and ignored"),
    ([rule("a1", "alias", "services/new.yaml", to="services/a.yaml"), rule("i1", "ignore_fixture", "a.yaml")],
     "both an alias target and ignored"),
    ([rule("a1", "alias", "x.yaml", to="y.yaml"), rule("a2", "alias", "y.yaml", to="z.yaml")], "alias chain"),
])
def test_conflicts_in_defaults(rules: list[str], expected: str) -> None:
    err = one_error(inventory_text(defaults="\n".join(rules)))
    assert err.code == "INVENTORY-CONFLICT"
    assert expected in err.message, err.one_line()
    assert err.location is not None
    assert err.location.line in (4, 5)


def test_conflict_between_default_and_cluster_rule_names_the_cluster() -> None:
    text = inventory_text(defaults=rule("d-ignore", "ignore_rendered", "services/legacy/"),
                          clusters="k8s-qa:\n  " + rule("qa-alias", "alias", "services/legacy/x.yaml",
                                                        to="services/x.yaml"))
    err = one_error(text)
    assert err.code == "INVENTORY-CONFLICT"
    assert "qa-alias" in err.message
    assert "d-ignore" in err.message
    assert "k8s-qa" in err.message
    assert err.location is not None
    assert err.location.line == 7


def test_no_conflict_across_different_clusters() -> None:
    text = inventory_text(clusters="\n".join([
        "k8s-dev:", "  " + rule("dev", "alias", "n.yaml", to="services/a.yaml"),
        "k8s-qa:", "  " + rule("qa", "alias", "m.yaml", to="services/a.yaml"),
    ]))
    inv = parse_inventory(text, "c.yaml")
    assert inv.rules_for("k8s-dev").alias_target("n.yaml") == "services/a.yaml"
    assert inv.rules_for("k8s-qa").alias_target("m.yaml") == "services/a.yaml"


def test_packaged_schema_is_the_documented_schema() -> None:
    root = Path(__file__).resolve().parents[2]
    packaged = (root / "harness" / "schema" / "inventory.schema.json").read_bytes()
    assert packaged == (root / "canonicalization" / "schema" / "inventory.schema.json").read_bytes(), (
        "edit canonicalization/schema/inventory.schema.json and copy it to harness/schema/")


def test_checked_in_schema_is_what_the_rule_kind_registry_assembles() -> None:
    from harness.rules import REGISTRY
    from harness.rules.schema import schema_text

    root = Path(__file__).resolve().parents[2]
    assert (root / "canonicalization" / "schema" / "inventory.schema.json").read_text() == schema_text(), (
        "run `python -m harness.rules.schema` after changing a rule kind")
    schema = inventory_schema()
    assert schema["$defs"]["rule"]["properties"]["kind"]["enum"] == list(REGISTRY)
    for name, kind in REGISTRY.items():  # every kind-specific key is refused on every other kind
        for key in kind.properties:
            others = [k for k in REGISTRY if k != name and key not in REGISTRY[k].properties]
            for other in others:
                item = {"id": "r", "kind": other, "path": "a.yaml", "rationale": "r", "approved_by": "o", key: "x"}
                errors = jsonschema.Draft202012Validator(schema).iter_errors({"version": "1.0.0", "defaults": [item]})
                assert list(errors), (name, key, other)
