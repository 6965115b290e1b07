"""A cluster config violating each trust-policy rule, given to ``overlay-parity render``.

The loader reports every violation at once, one line per violation: each line must be well-formed
(file:line: CONFIG-TRUST-POLICY: key.path: problem (fix: ...)), located at the offending key, must not
echo the offending value, and the existing overlay must stay byte-identical."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening.support import FIXTURE, Project, assert_bad_input, make_project, snapshot

REPO = "ssh://git@git.relaypoint.example.net/platform/relaypoint-logistics-shared.git"
BASE = "ssh://git@github.com/opencenter-cloud/opencenter-gitops-base.git"
CUSTOMER = "ssh://git@git.relaypoint.example.net/relaypoint/rpl-apps.git"
RECIPIENT = "age1alpdg5tmxmj7ha3grzxr0c2gdgjkar3nu5s2nuj24dw2u63nq3pqt4fqty"
KNOWN_HOSTS_LITERAL = "git.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@dataclass(frozen=True)
class Case:
    """Edit a fixture config; expect a violation at the line containing ``anchor`` mentioning ``fragment``."""

    cluster: str
    edits: tuple[tuple[str, str], ...]
    anchor: str
    fragment: str
    secret: str = ""  # a value that must never be echoed
    hint: str = ""  # a word the fix must contain (the hint names what to change)


CASES = {
    "url-scheme-http": Case("k8s-uat", ((REPO, "http://git.relaypoint.example.net/platform/x.git"),),
                            "http://git.relaypoint", "ssh:// or https://"),
    "url-embedded-password": Case("k8s-uat", ((REPO, "https://bot:hunter2-pw@git.relaypoint.example.net/p/x.git"),),
                                  "bot:hunter2-pw@", "password", secret="hunter2-pw"),
    "url-https-user": Case("k8s-uat", ((REPO, "https://bot@git.relaypoint.example.net/platform/x.git"),),
                           "https://bot@", "credentials"),
    "url-no-repository-path": Case("k8s-uat", ((REPO, "ssh://git@git.relaypoint.example.net/"),),
                                   "url: ssh://git@git.relaypoint.example.net/\n", "repository path"),
    "url-query": Case("k8s-uat", ((REPO, "https://git.relaypoint.example.net/platform/x.git?ref=main"),),
                      "?ref=main", "query or fragment"),
    "url-invalid-host": Case("k8s-uat", ((REPO, "ssh://git@bad_host.relaypoint.example.net/platform/x.git"),),
                             "bad_host", "not a valid DNS name"),
    "url-ssh-without-host": Case("k8s-uat", ((REPO, "ssh:///platform/x.git"),), "ssh:///platform", "name a host"),
    "host-not-allowlisted": Case("k8s-uat", ((BASE, "ssh://git@gitlab.com/opencenter-cloud/base.git"),),
                                 "gitlab.com", "allowed_repository_hosts"),
    "repository-name-not-dns1123": Case("k8s-uat", (("repository_name: customer-repository",
                                                     "repository_name: Customer_Repo"),),
                                        "Customer_Repo", "DNS-1123"),
    "secret-name-not-dns1123": Case("k8s-uat", (("secret_name: customer-repository-rpl-apps-flux-k8s",
                                                 "secret_name: Bad_Secret"),), "Bad_Secret", "DNS-1123"),
    "kustomization-name-not-dns1123": Case("k8s-uat", (("- name: apps\n", "- name: Apps_X\n"),),
                                           "Apps_X", "DNS-1123"),
    "kustomization-name-duplicate": Case("k8s-uat", (("- name: apps\n", "- name: policies\n"),),
                                         "- name: policies\n            path: /apps", "duplicates"),
    "kustomization-path-relative": Case("k8s-uat", (("path: /apps/uat", "path: apps/uat"),),
                                        "path: apps/uat", "start with '/'"),
    "kustomization-path-dotdot": Case("k8s-uat", (("path: /apps/uat", "path: /apps/../../etc"),),
                                      "/apps/../../etc", "'..'"),
    "depends-on-unknown": Case("k8s-uat", (("depends_on: [policies]", "depends_on: [nothing-here]"),),
                               "nothing-here", "names no Kustomization", hint="depends_on"),
    "depends-on-itself": Case("k8s-uat", (("depends_on: [policies]", "depends_on: [infrastructure]"),),
                              "depends_on: [infrastructure]\n          - name: apps", "itself", hint="depends_on"),
    "depends-on-cycle": Case("k8s-uat", (("path: /policies/uat\n", "path: /policies/uat\n            "
                                          "depends_on: [apps]\n"),), "depends_on: [apps]", "cycle", hint="cycles"),
    "emit-secret-over-https": Case("k8s-uat", ((CUSTOMER, "https://git.relaypoint.example.net/rpl/apps.git"),),
                                   "emit_secret: true", "only allowed for an ssh://", hint="emit_secret: false"),
    "emit-secret-without-secret-name": Case("k8s-uat", (("        secret_name: customer-repository-rpl-apps-flux-k8s\n",
                                                         ""),), "emit_secret: true", "needs secret_name",
                                            hint="set secret_name"),
    "emit-secret-without-identity": Case("k8s-uat", (("      identity: PLACEHOLDER-NOT-A-REAL-PRIVATE-KEY\n", ""),),
                                         "customer-repository:\n      identity_pub", "required when emit_secret"),
    "sops-enabled-without-rules": Case("k8s-uat", (("      sops:\n        enabled: false",
                                                    "      sops:\n        enabled: true"),),
                                       "enabled: true\n  services:", "no rules", hint="add a rule"),
    "sops-regex-does-not-compile": Case("k8s-dev", ((r"path_regex: ^services/.*/secrets/.*\.ya?ml$",
                                                     "path_regex: ^services/(.*$"),), "^services/(.*$", "compile"),
    "sops-regex-not-re2": Case("k8s-dev", ((r"path_regex: ^services/.*/secrets/.*\.ya?ml$",
                                            "path_regex: ^services/(?!kube)secrets/.*$"),), "(?!kube)", "RE2"),
    "sops-rule-without-recipients": Case("k8s-dev", (
        ("            age_recipients:\n              - age1mhsertvk3tszzjp96wdakpdwj5z342j6xcw5hp5v4u8n0u48lg0sk6qgu0\n"
         "          - path_regex", "            age_recipients: []\n          - path_regex"),),
        "age_recipients: []", "at least one age recipient"),
    "sops-malformed-recipient": Case("k8s-dev", ((RECIPIENT, RECIPIENT[:-1] + "x"),), RECIPIENT[:-1] + "x",
                                     "not a valid age recipient"),
    "secret-value-is-a-literal": Case("k8s-uat", (("known_hosts: PLACEHOLDER-NOT-A-REAL-KNOWN-HOSTS-ENTRY",
                                                   f"known_hosts: {KNOWN_HOSTS_LITERAL}"),), "known_hosts: git.example",
                                      "PLACEHOLDER", secret="AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoq"),
}


def _write(project: Project, case: Case) -> str:
    text = (FIXTURE / f".{case.cluster}-config.yaml").read_text(encoding="utf-8")
    for old, new in case.edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    project.config(case.cluster).write_text(text, encoding="utf-8")
    return text


def _line_of(text: str, anchor: str) -> int:
    assert anchor in text, anchor
    return text[: text.index(anchor)].count("\n") + 1


@pytest.fixture
def trust_project(tmp_path: Path, pristine: Path) -> Project:
    return make_project(tmp_path / "repo", pristine=pristine, clusters=("k8s-dev", "k8s-uat"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_trust_policy_rule(trust_project: Project, name: str) -> None:
    case = CASES[name]
    text = _write(trust_project, case)
    config = trust_project.config(case.cluster)
    before = snapshot(trust_project.overlays)
    proc = trust_project.cli("render", "--config", config, "--out", trust_project.overlay("k8s-dev"))
    errors = assert_bad_input(proc, code="CONFIG-TRUST-POLICY", file=config, lines=None)
    assert 1 <= len(errors) <= 2, errors  # an invalid host is also not allowlisted
    expected_line = _line_of(text, case.anchor)
    assert any(e.line == expected_line and case.fragment in e.message for e in errors), (expected_line, errors)
    for error in errors:
        assert error.message.split(":", 1)[0].replace("_", "").replace("-", "").replace(".", "").replace(
            "[", "").replace("]", "").isalnum(), error  # starts with a key path
    if case.secret:
        assert case.secret not in proc.stdout + proc.stderr
    if case.hint:
        assert any(case.hint in e.hint for e in errors), errors
    assert snapshot(trust_project.overlays) == before


def test_every_violation_is_one_well_formed_line(trust_project: Project) -> None:
    """Many violations in one config: one line each, sorted by line, none lost, none duplicated."""
    names = ["url-embedded-password", "host-not-allowlisted", "repository-name-not-dns1123",
             "kustomization-path-relative", "depends-on-unknown", "emit-secret-without-identity",
             "sops-enabled-without-rules", "secret-value-is-a-literal"]
    text = (FIXTURE / ".k8s-uat-config.yaml").read_text(encoding="utf-8")
    for name in names:
        for old, new in CASES[name].edits:
            assert old in text, (name, old)
            text = text.replace(old, new, 1)
    config = trust_project.config("k8s-uat")
    config.write_text(text, encoding="utf-8")
    before = snapshot(trust_project.overlays)
    proc = trust_project.cli("render", "--config", config, "--out", trust_project.overlay("k8s-dev"))
    errors = assert_bad_input(proc, code="CONFIG-TRUST-POLICY", file=config, lines=None)
    # repository-name-not-dns1123 hides the credential lookup, so emit-secret-without-identity is not reported
    expected = {CASES[n].fragment for n in names if n != "emit-secret-without-identity"}
    assert {f for f in expected if any(f in e.message for e in errors)} == expected
    assert len(errors) == len(expected)
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    assert len({(e.line, e.message) for e in errors}) == len(errors)
    assert "hunter2-pw" not in proc.stderr
    assert CASES["secret-value-is-a-literal"].secret not in proc.stderr
    assert snapshot(trust_project.overlays) == before
