"""The parity engine on a small realistic overlay: mutations, every rule kind, stale rules, budget, redaction."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cluster_result import ClusterResult
from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.inventory import Inventory, parse_inventory
from harness.inventory_judge import budget_findings, stale_rule_findings
from harness.parity import compare_cluster, merge_matched
from harness.renderer_api import Action, Plan
from tests.harness.conftest import OVERLAY, PLANTED_PASSWORD, PLANTED_SECRET, inventory_text, rule

LIMIT = 1_000_000
EMPTY = parse_inventory(inventory_text(), "canon.yaml")


def run(rendered: Path, fixture: Path, inventory: Inventory = EMPTY, *, cluster: str = "k8s-dev",
        plan: Plan | None = None, secrets: tuple[str, ...] = ()) -> ClusterResult:
    return compare_cluster(cluster, rendered, fixture, inventory.rules_for(cluster), plan, max_file_bytes=LIMIT,
                           secrets=secrets)


def codes(result: ClusterResult) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in result.findings]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def all_text(findings: list[Finding]) -> str:
    return json.dumps([f.to_dict() for f in findings])


def test_identical_trees_pass_without_parsing(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    result = run(rendered, fixture)
    assert result.findings == []
    assert result.ok
    owned = [p for p in OVERLAY if p.split("/")[0] not in ("flux-system", "README.md")]
    assert result.files_compared == len(owned) == result.byte_identical
    assert result.parsed == 0
    assert result.excluded_fixture == ("README.md",)
    assert result.excluded_rendered == ("README.md",)
    assert result.bootstrap_fixture == 1


# ------------------------------------------------------------------------------------------ mutations

Mutation = Callable[[Path], object]

PASSING: dict[str, Mutation] = {
    "reordered keys": lambda r: (r / "services/sources/opencenter-harbor.yaml").write_text(
        (r / "services/sources/opencenter-harbor.yaml").read_text().replace(
            "kind: GitRepository\n", "").replace("apiVersion:", "kind: GitRepository\napiVersion:")),
    "comment added": lambda r: edit(r, "services/harbor/override-values.yaml", "replicas: 2",
                                    "replicas: 2  # keep two for HA\n# trailing note"),
    "comment removed": lambda r: edit(r, "services/harbor/override-values.yaml", "# Harbor overrides for k8s-dev\n",
                                      ""),
    "quoting style": lambda r: edit(r, "services/sources/opencenter-harbor.yaml", "tag: v1.2.0", 'tag: "v1.2.0"'),
    "flow style": lambda r: edit(r, "services/sources/opencenter-harbor.yaml", "ref:\n    tag: v1.2.0",
                                 "ref: {tag: 'v1.2.0'}"),
    "indentation": lambda r: edit(r, "managed-services/alert-proxy/override-values.yaml",
                                  "  receiver: opsgenie\n  region: ord1", "    receiver: opsgenie\n    region: ord1"),
    "document reordering": lambda r: (r / "services/fluxcd/harbor.yaml").write_text(
        "---\n" + "---\n".join(reversed((r / "services/fluxcd/harbor.yaml").read_text().split("---\n")[1:]))),
    "bootstrap-owned change": lambda r: edit(r, "flux-system/gotk-sync.yaml", "name: flux-system", "name: other"),
    "non-owned change": lambda r: edit(r, "README.md", "overlay", "tree"),
    "non-owned file added": lambda r: (r / "NOTES.txt").write_text("x\n"),
    "boolean spelling": lambda r: edit(r, "services/harbor/override-values.yaml", "enabled: true",
                                       "enabled: True"),  # kustomize reads `yes` as a string (issue 18 item 8)
}

FAILING: dict[str, tuple[Mutation, list[tuple[str, str]], tuple[str, ...] | None]] = {
    "value change": (
        lambda r: edit(r, "services/sources/opencenter-harbor.yaml", "tag: v1.2.0", "tag: v1.3.0"),
        [("PARITY-CONTENT", "services/sources/opencenter-harbor.yaml")],
        ("spec.ref.tag: 'v1.2.0' → 'v1.3.0'",)),
    "deleted file": (
        lambda r: (r / "services/harbor/override-values.yaml").unlink(),
        [("PARITY-MISSING", "services/harbor/override-values.yaml")], ()),
    "deleted root kustomization": (
        lambda r: (r / "kustomization.yaml").unlink(), [("PARITY-MISSING", "kustomization.yaml")], ()),
    "added file": (
        lambda r: (r / "services/harbor/extra.yaml").write_text("a: 1\n"),
        [("PARITY-UNEXPECTED", "services/harbor/extra.yaml")], ()),
    "type change": (
        lambda r: edit(r, "services/harbor/override-values.yaml", "replicas: 2", "replicas: '2'"),
        [("PARITY-CONTENT", "services/harbor/override-values.yaml")], ("replicas: 2 → '2'",)),
    "quoted on becomes boolean": (  # a plain `on` is the string "on" to kustomize (issue 18 item 8): use true
        lambda r: edit(r, "services/harbor/override-values.yaml", 'mode: "on"', "mode: true"),
        [("PARITY-CONTENT", "services/harbor/override-values.yaml")], ("mode: 'on' → true",)),
    "list order": (
        lambda r: edit(r, "services/harbor/override-values.yaml", "[80, 443]", "[443, 80]"),
        [("PARITY-CONTENT", "services/harbor/override-values.yaml")], ("ports[0]: 80 → 443", "ports[1]: 443 → 80")),
    "document deleted": (
        lambda r: (r / "services/fluxcd/harbor.yaml").write_text(
            "---\n".join((r / "services/fluxcd/harbor.yaml").read_text().split("---\n")[:2])),
        [("PARITY-CONTENT", "services/fluxcd/harbor.yaml")],
        ("[doc 2 Kustomization flux-system/harbor-override] missing",)),
    "key added in one document": (
        lambda r: edit(r, "services/fluxcd/harbor.yaml", "  prune: true\n  dependsOn:",
                       "  prune: true\n  wait: true\n  dependsOn:"),
        [("PARITY-CONTENT", "services/fluxcd/harbor.yaml")],
        ("[doc 2 Kustomization flux-system/harbor-override] spec.wait: added true",)),
    "sops rule change": (
        lambda r: edit(r, ".sops.yaml", "^(data|stringData)$", "^(data)$"),
        [("PARITY-CONTENT", ".sops.yaml")],
        ("creation_rules[0].encrypted_regex: '^(data|stringData)$' → '^(data)$'",)),
    "json whitespace": (
        lambda r: edit(r, "services/keycloak/realm.json", '"realm": ', '"realm":'),
        [("PARITY-CONTENT", "services/keycloak/realm.json")],
        ("line 1: '{\"realm\": \"opencenter\", \"enabled\": true}' → "
         "'{\"realm\":\"opencenter\", \"enabled\": true}'",)),
    "broken YAML": (
        lambda r: edit(r, "services/harbor/kustomization.yaml", "namespace: harbor", "namespace: [harbor"),
        [("PARITY-PARSE", "services/harbor/kustomization.yaml")], None),
    "fixture-only file": (
        lambda r: None,  # see test below: mutation applied to the fixture instead
        [], ()),
}


@pytest.mark.parametrize("name", sorted(PASSING))
def test_formatting_and_out_of_scope_mutations_pass(overlay_pair: tuple[Path, Path], name: str) -> None:
    rendered, fixture = overlay_pair
    PASSING[name](rendered)
    assert (rendered / "README.md").exists()
    result = run(rendered, fixture)
    # Issue 14 item 6: documents are matched by identity, and a reordering is shown as a note (never failing).
    notes = [("PARITY-REORDERED", Severity.NOTE)] if name == "document reordering" else []
    assert [(f.code, f.severity) for f in result.findings] == notes, [f.diff for f in result.findings]
    assert result.ok


@pytest.mark.parametrize("name", sorted(n for n in FAILING if n != "fixture-only file"))
def test_content_mutations_fail_exactly(overlay_pair: tuple[Path, Path], name: str) -> None:
    rendered, fixture = overlay_pair
    mutate, expected, diff = FAILING[name]
    mutate(rendered)
    result = run(rendered, fixture)
    assert codes(result) == expected
    finding = result.findings[0]
    assert finding.check == "parity"
    assert finding.cluster == "k8s-dev"
    assert finding.severity is Severity.ERROR
    assert finding.hint
    if diff is not None:
        assert finding.diff == diff
    assert PLANTED_SECRET not in all_text(result.findings)


def test_parse_finding_names_side_and_line(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    edit(fixture, "services/sources/kustomization.yaml", "resources:", "resources:\n\t- tab")
    result = run(rendered, fixture)
    assert codes(result) == [("PARITY-PARSE", "services/sources/kustomization.yaml")]
    finding = result.findings[0]
    assert "fixture side" in finding.message
    assert finding.line == 4
    assert finding.diff[0].startswith("fixture:services/sources/kustomization.yaml:4")


def test_fixture_only_file_is_missing(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    (fixture / "customer-managed/fluxcd").mkdir(parents=True)
    (fixture / "customer-managed/fluxcd/apps.yaml").write_text("a: 1\n")
    assert codes(run(rendered, fixture)) == [("PARITY-MISSING", "customer-managed/fluxcd/apps.yaml")]


def test_every_mismatch_is_reported(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    for name in ("value change", "deleted file", "added file", "broken YAML", "json whitespace"):
        FAILING[name][0](rendered)
    result = run(rendered, fixture)
    assert sorted(code for code, _ in codes(result)) == sorted(
        ["PARITY-CONTENT", "PARITY-MISSING", "PARITY-UNEXPECTED", "PARITY-PARSE", "PARITY-CONTENT"])
    assert [f.path for f in result.findings] == sorted(f.path for f in result.findings)


def test_secret_change_is_masked_everywhere(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    edit(rendered, "customer-managed/sources/customer-repo-auth.yaml", PLANTED_SECRET, "PLACEHOLDER-rotated")
    edit(rendered, "services/harbor/override-values.yaml", "replicas: 2",
         f"replicas: 2\nharborAdminPassword: {PLANTED_PASSWORD}")
    edit(rendered, "services/keycloak/realm.json", "true", f'true, "note": "{PLANTED_PASSWORD}"')
    result = run(rendered, fixture, secrets=(PLANTED_PASSWORD,))
    text = all_text(result.findings)
    for secret in (PLANTED_SECRET, PLANTED_PASSWORD, base64.b64encode(PLANTED_SECRET.encode()).decode()):
        assert secret not in text
    by_path = {f.path: f for f in result.findings}
    assert by_path["customer-managed/sources/customer-repo-auth.yaml"].diff[0].startswith(
        "stringData.identity: <redacted sha256:")
    assert by_path["services/keycloak/realm.json"].diff[0].count("<redacted sha256:") == 1
    assert by_path["services/harbor/override-values.yaml"].diff[0].startswith(
        "harborAdminPassword: added <redacted sha256:")


def test_owner_comes_from_the_plan(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    FAILING["value change"][0](rendered)
    (rendered / "services/harbor/extra.yaml").write_text("a: 1\n")
    plan = Plan(cluster="k8s-dev", actions=[
        Action(owner="harbor-source", template="t", output="services/sources/opencenter-harbor.yaml"),
        Action(owner="harbor", template="t", output="services/harbor/extra.yaml"),
    ])
    owners = {f.path: f.owner for f in run(rendered, fixture, plan=plan).findings}
    assert owners == {"services/sources/opencenter-harbor.yaml": "harbor-source",
                      "services/harbor/extra.yaml": "harbor"}


def test_input_errors_propagate(overlay_pair: tuple[Path, Path], tmp_path: Path) -> None:
    rendered, fixture = overlay_pair
    with pytest.raises(InputError) as info:
        run(tmp_path / "nothing", fixture)
    assert info.value.code == "FILE-MISSING"
    (rendered / "services/link.yaml").symlink_to(rendered / "kustomization.yaml")
    with pytest.raises(InputError) as info:
        run(rendered, fixture)
    assert info.value.code == "FILE-SYMLINK"
    assert "services/link.yaml" in info.value.one_line()


# ------------------------------------------------------------------------------------------ rule kinds

def inv(*rules: str, cluster_rules: tuple[str, ...] = (), budget: int | None = None) -> Inventory:
    clusters = "k8s-dev:\n" + "\n".join("  " + r for r in cluster_rules) if cluster_rules else ""
    return parse_inventory(inventory_text(defaults="\n".join(rules), clusters=clusters, budget=budget), "canon.yaml")


def test_alias(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    shutil.move(rendered / "services/harbor/override-values.yaml", rendered / "services/harbor/values.yaml")
    assert {c for c, _ in codes(run(rendered, fixture))} == {"PARITY-MISSING", "PARITY-UNEXPECTED"}
    inventory = inv(rule("harbor-values", "alias", "services/harbor/values.yaml",
                         to="services/harbor/override-values.yaml"))
    result = run(rendered, fixture, inventory)
    assert result.findings == []
    assert result.matched_rules == {"harbor-values"}
    edit(rendered, "services/harbor/values.yaml", "replicas: 2", "replicas: 3")
    finding = run(rendered, fixture, inventory).findings[0]
    assert (finding.code, finding.path, finding.rules) == (
        "PARITY-CONTENT", "services/harbor/override-values.yaml", ("harbor-values",))
    assert finding.extra["rendered_path"] == "services/harbor/values.yaml"


def test_alias_target_also_rendered_is_reported(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    shutil.copy(rendered / "services/harbor/override-values.yaml", rendered / "services/harbor/values.yaml")
    inventory = inv(rule("harbor-values", "alias", "services/harbor/values.yaml",
                         to="services/harbor/override-values.yaml"))
    result = run(rendered, fixture, inventory)
    assert codes(result) == [("PARITY-UNEXPECTED", "services/harbor/override-values.yaml")]
    assert "alias rule harbor-values" in result.findings[0].message


def test_ignore_rendered_and_fixture(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    (rendered / "services/harbor/generated.yaml").write_text("a: 1\n")
    (fixture / "services/legacy").mkdir()
    (fixture / "services/legacy/old.yaml").write_text("a: 1\n")
    inventory = inv(rule("gen", "ignore_rendered", "generated.yaml"), rule("legacy", "ignore_fixture",
                                                                            "services/legacy/"),
                    rule("unused", "ignore_fixture", "services/nothing/"))
    result = run(rendered, fixture, inventory)
    assert result.findings == []
    assert result.matched_rules == {"gen", "legacy"}
    assert (result.ignored_rendered, result.ignored_fixture) == (1, 1)


def test_ignore_rendered_does_not_hide_fixture_side(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    inventory = inv(rule("hide", "ignore_rendered", "services/harbor/override-values.yaml"))
    assert codes(run(rendered, fixture, inventory)) == [("PARITY-MISSING", "services/harbor/override-values.yaml")]


def test_path_only(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    inventory = inv(rule("values", "path_only", "managed-services/**/override-values.yaml"), budget=1)
    same = run(rendered, fixture, inventory)
    assert same.findings == []
    assert same.matched_rules == set()
    assert same.path_only == 1
    edit(rendered, "managed-services/alert-proxy/override-values.yaml", "ord1", "dfw3")
    changed = run(rendered, fixture, inventory)
    assert changed.findings == []
    assert changed.matched_rules == {"values"}
    (rendered / "managed-services/alert-proxy/override-values.yaml").write_text("not: [valid\n")
    assert run(rendered, fixture, inventory).findings == []  # content is not compared, not even parsed for findings
    (rendered / "managed-services/alert-proxy/override-values.yaml").unlink()
    missing = run(rendered, fixture, inventory)
    assert codes(missing) == [("PARITY-MISSING", "managed-services/alert-proxy/override-values.yaml")]
    assert missing.findings[0].rules == ("values",)
    assert missing.matched_rules == {"values"}


def test_yaml_remove_on_both_sides(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    inventory = inv(rule("reconcile", "yaml_remove", "services/fluxcd/*.yaml", match_kind="Kustomization",
                         pointers=["/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile"]))
    assert run(rendered, fixture, inventory).matched_rules == set()  # identical bytes: nothing to remove
    edit(rendered, "services/fluxcd/harbor.yaml", "reconcile: enabled", "reconcile: disabled")
    assert codes(run(rendered, fixture)) == [("PARITY-CONTENT", "services/fluxcd/harbor.yaml")]
    result = run(rendered, fixture, inventory)
    assert result.findings == []
    assert result.matched_rules == {"reconcile"}
    assert result.parsed == 1
    # a remaining difference still fails and names the rule that applied
    edit(rendered, "services/fluxcd/harbor.yaml", "interval: 5m", "interval: 10m")
    finding = run(rendered, fixture, inventory).findings[0]
    assert finding.rules == ("reconcile",)
    assert finding.diff == ("[doc 1 Kustomization flux-system/harbor-base] spec.interval: '5m' → '10m'",)


def test_yaml_remove_is_not_needed_for_formatting(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    inventory = inv(rule("reconcile", "yaml_remove", "services/fluxcd/*.yaml",
                         pointers=["/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile"]))
    edit(rendered, "services/fluxcd/harbor.yaml", "reconcile: enabled", "reconcile: 'enabled'")
    result = run(rendered, fixture, inventory)
    assert result.findings == []
    assert result.matched_rules == set()


def test_yaml_remove_match_kind_filter(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    edit(rendered, "services/sources/opencenter-harbor.yaml", "interval: 15m", "interval: 30m")
    only_kustomizations = inv(rule("interval", "yaml_remove", "services/**", pointers=["/spec/interval"],
                                   match_kind="kustomize.toolkit.fluxcd.io/v1/Kustomization"))
    assert codes(run(rendered, fixture, only_kustomizations)) == [
        ("PARITY-CONTENT", "services/sources/opencenter-harbor.yaml")]
    git_repos = inv(rule("interval", "yaml_remove", "services/**", pointers=["/spec/interval"],
                         match_kind="source.toolkit.fluxcd.io/v1/GitRepository"))
    assert run(rendered, fixture, git_repos).findings == []


def test_yaml_remove_list_items(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    edit(rendered, "services/fluxcd/harbor.yaml", "  dependsOn:\n    - name: harbor-base",
         "  dependsOn:\n    - name: cert-manager\n    - name: harbor-base")
    inventory = inv(rule("deps", "yaml_remove", "services/fluxcd/harbor.yaml", pointers=["/spec/dependsOn/0"]))
    # removing item 0 on both sides leaves [harbor-base] vs []: still a difference
    assert codes(run(rendered, fixture, inventory)) == [("PARITY-CONTENT", "services/fluxcd/harbor.yaml")]
    inventory = inv(rule("deps", "yaml_remove", "services/fluxcd/harbor.yaml", pointers=["/spec/dependsOn"]))
    assert run(rendered, fixture, inventory).findings == []


def test_cluster_rules_apply_to_their_cluster_only(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    (rendered / "services/harbor/extra.yaml").write_text("a: 1\n")
    inventory = inv(cluster_rules=(rule("dev-extra", "ignore_rendered", "services/harbor/extra.yaml"),))
    assert run(rendered, fixture, inventory, cluster="k8s-dev").findings == []
    assert codes(run(rendered, fixture, inventory, cluster="k8s-prod")) == [
        ("PARITY-UNEXPECTED", "services/harbor/extra.yaml")]


def test_ruleset_records_matches(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    (rendered / "services/harbor/extra.yaml").write_text("a: 1\n")
    inventory = inv(rule("extra", "ignore_rendered", "services/harbor/extra.yaml"))
    ruleset = inventory.rules_for("k8s-dev")
    compare_cluster("k8s-dev", rendered, fixture, ruleset, max_file_bytes=LIMIT)
    assert ruleset.matched == {"extra"}


# ------------------------------------------------------------------------------------------ stale + budget

STALE_INV = inv(rule("d1", "ignore_fixture", "a.md"), rule("d2", "ignore_fixture", "b.md"),
                cluster_rules=(rule("c1", "ignore_fixture", "c.md"),))


def stale_ids(matched: set[str], ran: set[str], **kw: object) -> list[str]:
    findings = stale_rule_findings(STALE_INV, matched, ran, **kw)  # type: ignore[arg-type]
    assert all(f.code == "PARITY-STALE-RULE" and f.path == "canon.yaml" and f.line for f in findings)
    return [f.rules[0] for f in findings]


def test_stale_cluster_rule_judged_only_when_its_cluster_ran() -> None:
    assert stale_ids(set(), {"k8s-qa"}, all_clusters=["k8s-dev", "k8s-qa"]) == []
    assert stale_ids(set(), {"k8s-dev"}, all_clusters=["k8s-dev", "k8s-qa"]) == ["c1"]
    assert stale_ids({"c1"}, {"k8s-dev"}, all_clusters=["k8s-dev", "k8s-qa"]) == []


def test_stale_default_rule_judged_only_when_every_cluster_ran() -> None:
    assert stale_ids({"d1"}, {"k8s-dev", "k8s-qa"}, all_clusters=["k8s-dev", "k8s-qa"]) == ["d2", "c1"]
    assert stale_ids({"d1", "c1"}, {"k8s-dev"}, all_clusters=["k8s-dev", "k8s-qa"]) == []
    assert stale_ids(set(), set()) == []
    # default universe: the clusters the inventory names
    assert stale_ids({"c1"}, {"k8s-dev"}) == ["d1", "d2"]


def test_stale_rule_end_to_end(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    inventory = inv(rule("used", "ignore_fixture", "README.md"), rule("unused", "ignore_fixture", "services/x/"))
    result = run(rendered, fixture, inventory)
    assert result.matched_rules == set()  # README.md is not renderer-owned: the ignore rule is stale too
    findings = stale_rule_findings(inventory, result.matched_rules, {"k8s-dev"}, all_clusters=["k8s-dev"])
    assert [f.rules for f in findings] == [("used",), ("unused",)]
    assert "matched nothing" in findings[0].message
    assert findings[0].check == "inventory"


def test_budget() -> None:
    three = [rule(f"p{i}", "path_only", f"services/p{i}.yaml") for i in range(3)]
    over = budget_findings(inv(*three, budget=2))
    assert [(f.code, f.severity, f.extra) for f in over] == [
        ("PARITY-PATH-ONLY-BUDGET", Severity.ERROR, {"count": 3, "budget": 2})]
    assert "3 path_only rules exceed path_only_budget 2" in over[0].message
    assert over[0].line == 7
    assert budget_findings(inv(*three, budget=3)) == []
    under = budget_findings(inv(*three, budget=5))
    assert under[0].severity is Severity.NOTE
    assert under[0].extra == {"count": 3, "budget": 5}
    assert budget_findings(inv(three[0]))[0].extra == {"count": 1, "budget": 0}  # absent budget is 0
    assert budget_findings(inv()) == []


# ------------------------------------------------------------------------------------------ transport

def test_result_is_picklable_and_json_round_trips(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    FAILING["value change"][0](rendered)
    (rendered / "services/harbor/generated.yaml").write_text("a: 1\n")
    result = run(rendered, fixture, inv(rule("gen", "ignore_rendered", "generated.yaml")))
    clone = pickle.loads(pickle.dumps(result))  # noqa: S301 (our own objects)
    assert clone.findings == result.findings
    assert clone.matched_rules == {"gen"}
    data = json.loads(json.dumps(result.to_dict()))
    again = ClusterResult.from_dict(data)
    assert again.findings == result.findings
    assert again.matched_rules == result.matched_rules
    assert again.notes() == result.notes()
    assert merge_matched([again, ["x"], {"y"}]) == {"gen", "x", "y"}


def test_content_findings_carry_the_fixture_line_and_pointer_of_the_differing_key(
        overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    edit(rendered, "services/fluxcd/harbor.yaml", "- name: harbor-base", "- name: harbor-other")
    edit(rendered, "services/fluxcd/harbor.yaml", "provider: sops", "provider: sops\n    force: true")
    [finding] = run(rendered, fixture).findings
    lines = (fixture / "services/fluxcd/harbor.yaml").read_text().splitlines()
    assert finding.extra["pointer"] == "/spec/dependsOn/0/name"
    assert finding.extra["key_path"] == "spec.dependsOn[0].name"
    assert finding.extra["doc_kind"] == "Kustomization"
    assert lines[finding.line - 1].strip() == "- name: harbor-base"
    added = finding.extra["changes"][1]
    assert (added["op"], added["pointer"]) == ("added", "/spec/decryption/force")
    assert lines[added["line"] - 1].strip() == "decryption:"  # a key the fixture lacks: at its parent
    assert all(c["doc"].startswith("[doc 2 Kustomization") for c in finding.extra["changes"])


@pytest.mark.parametrize(("entry", "name", "fixture_text", "rendered_text"), [
    ("files", "token.txt", "canary-token-fixture-Qw7Zr2\n", "canary-token-rendered-Lm4Xp9\n"),
    ("files", "creds=creds.txt", "user=app\nconfig=canary-token-fixture-Qw7Zr2\n",
     "user=app\nconfig=canary-token-rendered-Lm4Xp9\n"),
    ("envs", "app.env", "MODE=canary-token-fixture-Qw7Zr2\n", "MODE=canary-token-rendered-Lm4Xp9\n"),
])
def test_a_differing_secret_generator_input_is_shown_by_fingerprint_only(
        overlay_pair: tuple[Path, Path], entry: str, name: str, fixture_text: str, rendered_text: str) -> None:
    """A secretGenerator input's content becomes Secret data (issue 13 item 5): whatever its name or format,
    a difference in it is reported by fingerprint, never by value, in the message, diff or extra. (A YAML
    or JSON input is structured data: its credential-named keys are masked like any document's.)"""
    rendered, fixture = overlay_pair
    file = name.split("=", 1)[-1]
    kustomization = (f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n"
                     f"  - name: app-credentials\n    {entry}:\n      - {name}\n")
    for root, text in ((rendered, rendered_text), (fixture, fixture_text)):
        (root / "services" / "vault").mkdir(parents=True, exist_ok=True)
        (root / "services" / "vault" / "kustomization.yaml").write_text(kustomization)
        (root / "services" / "vault" / file).write_text(text)
    result = run(rendered, fixture)
    found = [f for f in result.findings if f.path == f"services/vault/{file}"]
    assert [f.code for f in found] == ["PARITY-CONTENT"]
    assert "secretGenerator input" in found[0].message
    assert "sha256:" in found[0].message
    shown = all_text(result.findings)
    assert "canary-token" not in shown


def test_a_structured_secret_generator_input_masks_its_credentials(overlay_pair: tuple[Path, Path]) -> None:
    """A Helm values file fed to a secretGenerator stays reviewable: its ordinary keys are diffed, its
    credential-named keys are masked (the scanner's model for structured generator inputs)."""
    rendered, fixture = overlay_pair
    kustomization = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n"
                     "  - name: app-values\n    files:\n      - values.yaml=override-values.yaml\n")
    for root, replicas, password in ((rendered, 3, "canary-rendered-Lm4Xp9"), (fixture, 2, "canary-fixture-Qw7Zr2")):
        (root / "services" / "vault").mkdir(parents=True, exist_ok=True)
        (root / "services" / "vault" / "kustomization.yaml").write_text(kustomization)
        (root / "services" / "vault" / "override-values.yaml").write_text(
            f"replicas: {replicas}\nauth:\n  adminPassword: {password}\n")
    result = run(rendered, fixture)
    found = [f for f in result.findings if f.path == "services/vault/override-values.yaml"]
    assert [f.code for f in found] == ["PARITY-CONTENT"]
    assert any("replicas" in line for line in found[0].diff)
    assert "canary-" not in all_text(result.findings)
