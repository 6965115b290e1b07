"""Security-relevant objects wherever they sit, and rules that would blind the gate (issue 18 items 6, 7)."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from harness.errors import InputError
from harness.findings import Severity
from harness.inventory import Inventory, parse_inventory
from harness.inventory_judge import inventory_findings, waivers
from harness.parity import compare_cluster
from harness.security import SecurityKinds, sops_hidden_by

KINDS = SecurityKinds.parse(("kyverno.io/ClusterPolicy", "networking.k8s.io/NetworkPolicy"), secrets=True)
NETPOL = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
          "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
LIST_YAML = dedent("""\
    apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
      - apiVersion: v1
        kind: List
        items:
          - apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny}
            spec: {podSelector: {}}
    """).encode()
LIMIT = 1_000_000


def labels(path: str, data: bytes | None) -> list[str]:
    return [f.label for f in KINDS.found_in(path, data)]


def test_objects_are_found_in_lists_json_and_every_document() -> None:
    assert labels("a.yaml", LIST_YAML) == ["contains a networking.k8s.io/NetworkPolicy in the items of a List"]
    [found] = KINDS.found_in("a.yaml", LIST_YAML)
    assert found.at == ("items", "1", "items", "0")
    assert labels("a.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [NETPOL]}).encode()) == [
        "contains a networking.k8s.io/NetworkPolicy in the items of a List"]
    assert labels("np.json", json.dumps(NETPOL).encode()) == ["contains a networking.k8s.io/NetworkPolicy"]
    multi = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n" + \
        b"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
    assert labels("m.yaml", multi) == ["contains a kyverno.io/ClusterPolicy"]
    escaped = b'apiVersion: v1\n"kind": "Sec\\x72et"\nmetadata: {name: s}\n'  # a double-quoted escape spells it
    assert labels("s.yaml", escaped) == ["contains a Secret"]
    assert labels("bad.json", b'{"kind": "NetworkPolicy", ') == ["unparseable file naming kind NetworkPolicy"]
    assert labels("x.yaml", b"apiVersion: other.io/v1\nkind: NetworkPolicy\n") == []
    assert labels("notes.txt", b"kind: NetworkPolicy\n") == []
    assert labels("deep/.sops.yaml", None) == [".sops.yaml"]


def inventory(rules: str, *, kinds: tuple[str, ...] = ("networking.k8s.io/NetworkPolicy",)) -> Inventory:
    return parse_inventory(f"version: 1.0.0\nfixture: f\ndefaults:\n{dedent(rules)}", "canon.yaml",
                           security_kinds=kinds)


def rule(rule_id: str, kind: str, path: str, extra: str = "", waiver: bool = False) -> str:
    text = f"  - id: {rule_id}\n    kind: {kind}\n    path: '{path}'\n{extra}    rationale: r\n    approved_by: o\n"
    if waiver:
        text += "    security_waiver:\n      rationale: reviewed with security\n      approved_by: sec-team\n"
    return text


@pytest.mark.parametrize(("rules", "line", "what"), [
    (rule("a", "ignore_fixture", "README.md") + rule("b", "ignore_fixture", ".sops.yaml"), 7, ".sops.yaml"),
    (rule("s", "path_only", "**/.sops.y*ml"), 2, ".sops.yaml"),
    (rule("s", "ignore_rendered", "services/x/.sops.yaml"), 2, "services/x/.sops.yaml"),
    (rule("s", "yaml_remove", ".sops.yaml", "    pointers: [/creation_rules/0]\n"), 2, ".sops.yaml"),
    (rule("n", "yaml_remove", "services/**", "    match_kind: NetworkPolicy\n    pointers: [/spec]\n"), 2,
     "NetworkPolicy"),
    (rule("n", "yaml_remove", "services/**",
          "    match_kind: networking.k8s.io/v1/NetworkPolicy\n    pointers: [/spec/ingress/0]\n"), 2, "NetworkPolicy"),
])
def test_rules_naming_security_objects_are_refused_at_load_without_a_waiver(rules: str, line: int,
                                                                             what: str) -> None:
    with pytest.raises(InputError) as caught:
        inventory(rules)
    error = caught.value
    assert error.code == "INVENTORY-SECURITY-HIDDEN"
    assert error.location is not None
    assert (error.location.file, error.location.line) == ("canon.yaml", line + 2)
    assert what in error.message
    assert "security_waiver" in error.hint
    waived = inventory(rules.replace("    approved_by: o\n", "    approved_by: o\n    security_waiver:\n"
                                     "      rationale: reviewed with security\n      approved_by: sec-team\n"))
    assert [w["approved_by"] for w in waivers(waived)] == ["sec-team"] * len(waived.waivers())
    assert waived.waivers()


@pytest.mark.parametrize("rules", [
    rule("a", "ignore_rendered", "services/extra/*.yaml"),
    rule("b", "yaml_remove", ".sops.yaml", "    pointers: [/metadata/annotations/x]\n"),
    rule("c", "yaml_remove", "services/**", "    match_kind: NetworkPolicy\n    pointers: [/metadata/labels/x]\n"),
    rule("d", "yaml_remove", "services/**", "    match_kind: ConfigMap\n    pointers: [/data]\n"),
    rule("e", "alias", "services/a.yaml", "    to: services/.sops.yaml\n"),
])
def test_rules_that_name_no_security_object_load(rules: str) -> None:
    assert inventory(rules).waivers() == []


def test_the_waiver_needs_its_own_rationale_and_approver() -> None:
    for broken in ("      rationale: r\n", "      approved_by: ' '\n      rationale: r\n"):
        with pytest.raises(InputError) as caught:
            inventory(rule("b", "ignore_fixture", ".sops.yaml") + "    security_waiver:\n" + broken)
        assert caught.value.code == "INVENTORY-INVALID"


def test_waivers_are_listed_as_notes_in_the_inventory_check() -> None:
    inv = inventory(rule("b", "ignore_fixture", ".sops.yaml", waiver=True))
    [note] = [f for f in inventory_findings(inv, {"b"}, ["k8s-dev"], ["k8s-dev"])
              if f.code == "PARITY-SECURITY-WAIVER"]
    assert note.severity is Severity.NOTE
    assert note.line == 4
    assert "sec-team" in note.message
    assert "reviewed with security" in note.message


@pytest.mark.parametrize(("rules", "write"), [
    (rule("d", "ignore_fixture", "services/extra/"), {"services/extra/np.yaml": json.dumps(NETPOL)}),
    (rule("d", "ignore_rendered", "services/extra/"), {"services/extra/list.yaml": LIST_YAML.decode()}),
    (rule("p", "path_only", "services/extra/*.json"), {"services/extra/np.json": json.dumps(NETPOL)}),
    (rule("y", "yaml_remove", "services/extra/*.yaml", "    pointers: [/items/1/items/0/spec]\n"),
     {"services/extra/list.yaml": LIST_YAML.decode()}),
    (rule("y", "yaml_remove", "services/extra/*.yaml", "    pointers: [/items/1]\n"),
     {"services/extra/list.yaml": LIST_YAML.decode()}),
    (rule("s", "ignore_fixture", "services/extra/"), {"services/extra/.sops.yaml": "creation_rules: []\n"}),
])
def test_content_that_a_rule_would_hide_is_refused_at_compare_time(overlay_pair: tuple[Path, Path], rules: str,
                                                                    write: dict[str, str]) -> None:
    rendered, fixture = overlay_pair
    for path, text in write.items():
        for root in (rendered, fixture):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
    with pytest.raises(InputError) as caught:
        compare_cluster("k8s-dev", rendered, fixture, inventory(rules).rules_for("k8s-dev"), max_file_bytes=LIMIT)
    assert caught.value.code == "INVENTORY-SECURITY-HIDDEN"
    assert caught.value.location is not None
    assert caught.value.location.line == 4
    waived = inventory(rules.replace("    approved_by: o\n", "    approved_by: o\n    security_waiver:\n"
                                     "      rationale: reviewed\n      approved_by: sec\n"))
    result = compare_cluster("k8s-dev", rendered, fixture, waived.rules_for("k8s-dev"), max_file_bytes=LIMIT)
    # the waived rule applies as written: it drops its file, or the equal sides compare equal
    assert waived.all_rules()[0].id in result.matched_rules or result.ok


def test_a_harmless_removal_on_a_security_object_is_allowed(overlay_pair: tuple[Path, Path]) -> None:
    rendered, fixture = overlay_pair
    for root, value in ((rendered, "a"), (fixture, "b")):
        (root / "services/extra").mkdir(parents=True)
        doc = {**NETPOL, "metadata": {"name": "deny", "annotations": {"x": value}}}
        (root / "services/extra/np.yaml").write_text(json.dumps(doc))
    rules = rule("y", "yaml_remove", "services/extra/*.yaml", "    pointers: [/metadata/annotations/x]\n")
    result = compare_cluster("k8s-dev", rendered, fixture, inventory(rules).rules_for("k8s-dev"), max_file_bytes=LIMIT)
    assert result.ok
    assert result.matched_rules == {"y"}


def test_sops_hidden_by_reads_the_glob_not_the_content() -> None:
    inv = inventory(rule("a", "ignore_fixture", "services/*/") + rule("b", "ignore_fixture", "*.yaml"))
    assert [sops_hidden_by(r) for r in inv.all_rules()] == ["", ""]
