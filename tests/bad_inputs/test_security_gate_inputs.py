"""Issue 18 classes 6 and 7: the update gate and the rules that would blind it.

6. ``check --update`` without ``--update-force`` never deletes or rewrites a security-relevant object wherever
   it sits -- alone, inside a ``kind: List``, in a ``.json`` manifest, in any document of a multi-document
   file -- and with ``--update-force`` it does (so the gate is not a no-op).
7. An inventory rule that would hide a security-relevant object or ``.sops.yaml`` from parity is refused
   (one located line) unless it carries a ``security_waiver``; with one, the waiver is listed.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.hardening.hostile import assert_one_line, assert_sane, run
from tests.hardening.support import MINIMAL_INVENTORY, Project

NETPOL = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "deny-all", "namespace": "harbor"},
          "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
KYVERNO = textwrap.dedent("""\
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: require-labels
    spec:
      validationFailureAction: Enforce
      rules:
        - name: check-team
          match:
            any:
              - resources:
                  kinds: [Pod]
          validate:
            message: label team is required
            pattern:
              metadata:
                labels:
                  team: "?*"
    """)
NETPOL_YAML = textwrap.dedent("""\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: deny-all
      namespace: harbor
    spec:
      podSelector: {}
      policyTypes: [Ingress, Egress]
    """)
LIST_YAML = "apiVersion: v1\nkind: List\nitems:\n" + textwrap.indent(
    "- " + NETPOL_YAML.replace("\n", "\n  ").rstrip() + "\n", "  ")

# name -> (relative path in the overlay, how the oracle file is changed: "new" file text, or "append" text)
PLANTED = {
    "networkpolicy-alone-in-a-new-file": ("services/harbor/extra-netpol.yaml", "new", NETPOL_YAML),
    "networkpolicy-in-a-list": ("services/harbor/extra-list.yaml", "new", LIST_YAML),
    "networkpolicy-in-a-json-manifest": ("services/harbor/extra-netpol.json", "new", json.dumps(NETPOL, indent=2)),
    "networkpolicy-in-a-json-list": ("services/harbor/extra-list.json", "new",
                                     json.dumps({"apiVersion": "v1", "kind": "List", "items": [NETPOL]})),
    "kyverno-policy-in-a-new-file": ("services/kyverno/extra-policy.yaml", "new", KYVERNO),
    "kyverno-appended-to-a-rendered-file": ("services/kyverno/kustomization.yaml", "append", KYVERNO),
    "networkpolicy-appended-to-a-rendered-file": ("services/harbor/certificate.yaml", "append", NETPOL_YAML),
    "list-appended-to-a-rendered-file": ("services/harbor/certificate.yaml", "append", LIST_YAML),
    "networkpolicy-edited-in-place": ("services/harbor/networkpolicy.yaml", "edit", ""),
}


def plant(project: Project, name: str) -> tuple[str, bytes]:
    rel, how, text = PLANTED[name]
    path = project.overlay() / rel
    if how == "new":
        path.write_text(text, encoding="utf-8")
    elif how == "append":
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n---\n" + text, encoding="utf-8")
    else:
        original = path.read_text(encoding="utf-8")
        edited = original.replace("podSelector: {}", "podSelector:\n    matchLabels: {tier: relaxed}", 1)
        assert edited != original
        path.write_text(edited, encoding="utf-8")
    return rel, path.read_bytes()


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_update_never_deletes_or_rewrites_a_security_object(project: Project, name: str) -> None:
    rel, planted = plant(project, name)
    outcome = run(["check", "--update"], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode == 1, outcome.output  # the difference stays a finding
    path = project.overlay() / rel
    assert path.exists(), f"--update deleted {rel}"
    assert path.read_bytes() == planted, f"--update rewrote {rel}"


@pytest.mark.parametrize("name", ["networkpolicy-in-a-list", "networkpolicy-in-a-json-manifest",
                                  "kyverno-appended-to-a-rendered-file"])
def test_update_force_does_update_it(project: Project, name: str) -> None:
    rel, planted = plant(project, name)
    outcome = run(["check", "--update", "--update-force"], cwd=project.root)
    assert_sane(outcome)
    path = project.overlay() / rel
    assert not path.exists() or path.read_bytes() != planted


# ------------------------------------------------------------------------------ blinding rules

def rule(kind: str, path: str, extra: str = "", waiver: bool = False) -> str:
    text = (f"  - id: hostile-{kind}\n    kind: {kind}\n    path: {json.dumps(path)}\n{extra}"
            "    rationale: make the diff go away\n    approved_by: someone\n")
    if waiver:
        text += "    security_waiver:\n      rationale: reviewed exception\n      approved_by: security-team\n"
    return text


BLINDING = {
    "ignore_fixture on .sops.yaml": rule("ignore_fixture", ".sops.yaml"),
    "ignore_rendered on .sops.yaml": rule("ignore_rendered", ".sops.yaml"),
    "ignore_fixture on every file": rule("ignore_fixture", "**"),
    "ignore_fixture on *.yaml": rule("ignore_fixture", "*.yaml"),
    "path_only on .sops.yaml": rule("path_only", ".sops.yaml"),
    "path_only on a glob reaching .sops.yaml": rule("path_only", "/.sops.*"),
    "yaml_remove of creation_rules": rule("yaml_remove", ".sops.yaml", "    pointers: [/creation_rules]\n"),
    "yaml_remove of a NetworkPolicy spec": rule("yaml_remove", "services/**",
                                                "    match_kind: NetworkPolicy\n    pointers: [/spec]\n"),
    "yaml_remove of Kyverno rules": rule("yaml_remove", "**",
                                         "    match_kind: ClusterPolicy\n    pointers: [/spec/rules]\n"),
    "yaml_remove of validationFailureAction": rule(
        "yaml_remove", "**", "    match_kind: ClusterPolicy\n    pointers: [/spec/validationFailureAction]\n"),
}
CONTENT_JUDGED = {
    "ignore_fixture on the harbor NetworkPolicy file": rule("ignore_fixture", "services/harbor/networkpolicy.yaml"),
    "path_only on every harbor file": rule("path_only", "services/harbor/**"),
}


def write_rules(project: Project, rules: str) -> None:
    project.inventory.write_text(MINIMAL_INVENTORY.replace("defaults: []\n", "defaults:\n" + rules),
                                 encoding="utf-8")


@pytest.mark.parametrize("name", sorted(BLINDING))
def test_a_rule_that_would_hide_a_security_object_is_refused(project: Project, name: str) -> None:
    write_rules(project, BLINDING[name])
    outcome = run(["check"], cwd=project.root)
    error = assert_one_line(outcome, codes=("INVENTORY-SECURITY-HIDDEN",), file=project.inventory, cwd=project.root)
    assert error.line >= 4
    assert "security_waiver" in error.message + error.hint


@pytest.mark.parametrize("name", sorted(CONTENT_JUDGED))
def test_a_rule_hiding_a_security_object_by_content_is_refused_or_a_finding(project: Project, name: str) -> None:
    write_rules(project, CONTENT_JUDGED[name])
    outcome = run(["check"], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode in (1, 2), outcome.output
    assert "INVENTORY-SECURITY-HIDDEN" in outcome.output


@pytest.mark.parametrize("name", ["ignore_fixture on .sops.yaml", "yaml_remove of a NetworkPolicy spec"])
def test_a_waiver_lets_the_rule_load_and_is_listed(project: Project, name: str) -> None:
    text = BLINDING[name].replace("    rationale: make", "    security_waiver:\n      rationale: reviewed\n"
                                  "      approved_by: security-team\n    rationale: make")
    write_rules(project, text)
    outcome = run(["check", "-v", "--json", "r.json"], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode in (0, 1), outcome.output
    assert "PARITY-SECURITY-WAIVER" in outcome.stdout
    assert "security-team" in (project.root / "r.json").read_text(encoding="utf-8")


def test_a_waiver_without_an_approver_is_refused(project: Project) -> None:
    text = BLINDING["ignore_fixture on .sops.yaml"].replace(
        "    rationale: make", "    security_waiver:\n      rationale: reviewed\n    rationale: make")
    write_rules(project, text)
    outcome = run(["check"], cwd=project.root)
    assert_one_line(outcome, codes=("INVENTORY-INVALID",), file=project.inventory, cwd=project.root)
