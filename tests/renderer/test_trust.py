"""Trust policy (renderer.trust) and the age/Bech32 recipient check (harness.bech32)."""

from __future__ import annotations

import copy
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from harness import bech32
from harness.errors import InputError, InputErrors
from harness.tools import find_tool
from harness.user_regex import re2_problem, regex_problem
from harness.yamlio import load_file
from renderer.config import load_config
from renderer.trust import TRUST_POLICY, check_trust, is_secret_value_allowed

FIXTURE = Path(__file__).resolve().parents[2] / "testdata" / "relaypoint-logistics-shared"
DEV_RECIPIENT = "age1mhsertvk3tszzjp96wdakpdwj5z342j6xcw5hp5v4u8n0u48lg0sk6qgu0"
CM = ("opencenter", "gitops", "overlay_units", "customer_managed")
SOPS = ("opencenter", "gitops", "overlay_units", "sops")
URL_FIELDS = {
    "gitops.repository": ("opencenter", "gitops", "repository", "url"),
    "gitops.base_repo": ("opencenter", "gitops", "base_repo", "url"),
    "customer_managed": (*CM, "repository_url"),
}
CREDENTIALS = {
    "identity": "PLACEHOLDER-NOT-A-REAL-PRIVATE-KEY",
    "identity_pub": "PLACEHOLDER-NOT-A-REAL-PUBLIC-KEY",
    "known_hosts": "PLACEHOLDER-NOT-A-REAL-KNOWN-HOSTS",
}


# ----------------------------------------------------------------------------------------- helpers


def dev_data() -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(load_file(FIXTURE / ".k8s-dev-config.yaml")[0])
    return data


def node(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for part in path:
        data = data[part]
    return data


def set_at(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node(data, path[:-1])[path[-1]] = value


def write(tmp_path: Path, data: dict[str, Any], cluster: str = "k8s-dev") -> Path:
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, buffer)
    path = tmp_path / f".{cluster}-config.yaml"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def violations(tmp_path: Path, data: dict[str, Any]) -> list[InputError]:
    """Load ``data`` and return the trust-policy errors (empty when it loads)."""
    path = write(tmp_path, data)
    errors: list[InputError] = []
    try:
        load_config(path)
    except InputErrors as exc:
        errors = exc.errors
    assert all(e.code == TRUST_POLICY for e in errors), [e.one_line() for e in errors]
    return errors


def messages(errors: list[InputError]) -> list[str]:
    return [e.message for e in errors]


def line_number(path: Path, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def emit_secret_data(url: str = "ssh://git@git.relaypoint.example.net/relaypoint/rpl-apps.git") -> dict[str, Any]:
    data = dev_data()
    node(data, CM).update(emit_secret=True, repository_url=url)
    data["secrets"] = {"customer_managed": {"customer-repository": dict(CREDENTIALS)}}
    return data


# ----------------------------------------------------------------------------------------- fixtures pass


@pytest.mark.parametrize("cluster", ["k8s-dev", "k8s-dr", "k8s-prod", "k8s-qa", "k8s-uat"])
def test_fixture_configs_have_no_violations(cluster: str) -> None:
    config = load_config(FIXTURE / f".{cluster}-config.yaml")
    assert check_trust(config) == []


# ----------------------------------------------------------------------------------------- repository URLs


@pytest.mark.parametrize("field", sorted(URL_FIELDS))
@pytest.mark.parametrize(
    "url",
    [
        "http://git.relaypoint.example.net/platform/repo.git",
        "git://git.relaypoint.example.net/platform/repo.git",
        "file:///srv/git/repo.git",
        "git@git.relaypoint.example.net:platform/repo.git",
        "ftp://git.relaypoint.example.net/repo.git",
    ],
)
def test_repository_url_scheme_must_be_ssh_or_https(tmp_path: Path, field: str, url: str) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS[field], url)
    errors = violations(tmp_path, data)
    dotted = ".".join(URL_FIELDS[field])
    assert [m for m in messages(errors) if m.startswith(dotted)], messages(errors)
    assert any("ssh:// or https://" in m for m in messages(errors))


@pytest.mark.parametrize("field", sorted(URL_FIELDS))
@pytest.mark.parametrize(
    "url", ["ssh://git@github.com/org/repo.git", "https://github.com/org/repo.git", "ssh://github.com:2222/org/repo"]
)
def test_repository_url_ssh_and_https_accepted(tmp_path: Path, field: str, url: str) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS[field], url)
    assert violations(tmp_path, data) == []


@pytest.mark.parametrize("field", sorted(URL_FIELDS))
def test_ssh_url_needs_a_host(tmp_path: Path, field: str) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS[field], "ssh:///org/repo.git")
    errors = violations(tmp_path, data)
    assert messages(errors) == [f"{'.'.join(URL_FIELDS[field])}: ssh URL must name a host"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://user:tok3n@github.com/org/repo.git", "must not embed a password or token"),
        ("https://user@github.com/org/repo.git", "must not embed credentials"),
        ("ssh://git:pw@github.com/org/repo.git", "must not embed a password or token"),
        ("ssh://git@github.com", "must name a repository path"),
        ("https://github.com/org/repo.git?ref=main", "must not have a query or fragment"),
        ("ssh://git@github.com:99999/org/repo.git", "is not a valid URL"),
        ("ssh://git@git hub.com/org/repo.git", "must not contain whitespace"),
        ("ssh://git@bad_host.example.com/org/repo.git", "host is not a valid DNS name"),
    ],
)
def test_repository_url_shape(tmp_path: Path, url: str, problem: str) -> None:
    data = dev_data()
    del data["opencenter"]["gitops"]["allowed_repository_hosts"]
    set_at(data, URL_FIELDS["customer_managed"], url)
    errors = violations(tmp_path, data)
    assert len(errors) == 1, messages(errors)
    assert problem in errors[0].message
    assert "tok3n" not in errors[0].one_line()


@pytest.mark.parametrize("field", sorted(URL_FIELDS))
def test_host_allowlist_rejects_unlisted_host(tmp_path: Path, field: str) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS[field], "ssh://git@gitlab.unreviewed.example.org/org/repo.git")
    errors = violations(tmp_path, data)
    assert messages(errors) == [
        f"{'.'.join(URL_FIELDS[field])}: host is not in opencenter.gitops.allowed_repository_hosts"
    ]
    assert "unreviewed" not in errors[0].one_line()


def test_host_allowlist_accepts_listed_hosts_case_insensitively(tmp_path: Path) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS["customer_managed"], "https://GitHub.com/org/repo.git")
    assert violations(tmp_path, data) == []


def test_without_allowlist_any_host_is_accepted(tmp_path: Path) -> None:
    data = dev_data()
    del data["opencenter"]["gitops"]["allowed_repository_hosts"]
    set_at(data, URL_FIELDS["customer_managed"], "ssh://git@gitlab.unreviewed.example.org/org/repo.git")
    assert violations(tmp_path, data) == []


# ----------------------------------------------------------------------------------------- emit_secret


def test_emit_secret_over_ssh_with_credentials_is_accepted(tmp_path: Path) -> None:
    assert violations(tmp_path, emit_secret_data()) == []


def test_emit_secret_over_https_is_rejected(tmp_path: Path) -> None:
    data = emit_secret_data("https://git.relaypoint.example.net/relaypoint/rpl-apps.git")
    errors = violations(tmp_path, data)
    assert messages(errors) == [
        "opencenter.gitops.overlay_units.customer_managed.emit_secret: "
        "emit_secret is only allowed for an ssh:// repository_url"
    ]
    assert errors[0].location is not None
    assert errors[0].location.line == line_number(write(tmp_path, data), "emit_secret:")


def test_https_without_emit_secret_is_accepted(tmp_path: Path) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS["customer_managed"], "https://git.relaypoint.example.net/relaypoint/rpl-apps.git")
    assert violations(tmp_path, data) == []


@pytest.mark.parametrize("missing", sorted(CREDENTIALS))
def test_emit_secret_needs_each_credential(tmp_path: Path, missing: str) -> None:
    data = emit_secret_data()
    del data["secrets"]["customer_managed"]["customer-repository"][missing]
    errors = violations(tmp_path, data)
    assert messages(errors) == [
        f"secrets.customer_managed.customer-repository.{missing}: is required when emit_secret is true"
    ]
    assert errors[0].location is not None
    assert errors[0].location.line == line_number(write(tmp_path, data), "customer-repository:")


def test_emit_secret_without_any_credentials_reports_all_three(tmp_path: Path) -> None:
    data = emit_secret_data()
    data["secrets"] = {"customer_managed": {}}
    errors = violations(tmp_path, data)
    assert sorted(m.split(":")[0].rsplit(".", 1)[1] for m in messages(errors)) == sorted(CREDENTIALS)


def test_emit_secret_needs_secret_name(tmp_path: Path) -> None:
    data = emit_secret_data()
    del node(data, CM)["secret_name"]
    assert messages(violations(tmp_path, data)) == [
        "opencenter.gitops.overlay_units.customer_managed.emit_secret: emit_secret needs secret_name"
    ]


# ----------------------------------------------------------------------------------------- names and paths


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("repository_name", "Customer_Repository"),
        ("repository_name", "-customer"),
        ("repository_name", "a" * 64),
        ("secret_name", "customer.repository"),
        ("secret_name", "CustomerSecret"),
    ],
)
def test_customer_managed_names_must_be_dns_1123(tmp_path: Path, key: str, value: str) -> None:
    data = dev_data()
    node(data, CM)[key] = value
    errors = violations(tmp_path, data)
    assert messages(errors) == [f"opencenter.gitops.overlay_units.customer_managed.{key}: must be a DNS-1123 label"]
    assert value not in errors[0].one_line()


def test_kustomization_names_must_be_dns_1123_and_unique(tmp_path: Path) -> None:
    data = dev_data()
    units = node(data, CM)["kustomizations"]
    units[0]["name"] = "Policies"
    units[2]["name"] = "infrastructure"
    units[2]["depends_on"] = ["policies"]
    units.append({"name": "policies", "path": "/x"})
    errors = messages(violations(tmp_path, data))
    prefix = "opencenter.gitops.overlay_units.customer_managed.kustomizations"
    assert f"{prefix}[0].name: must be a DNS-1123 label" in errors
    assert f"{prefix}[2].name: duplicates the name of kustomizations[1]" in errors
    assert len(errors) == 2, errors


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("apps/dev", "must start with '/'"),
        ("./apps/dev", "must start with '/'"),
        ("/apps/../../etc", "must not contain a '..' segment"),
        ("/apps/..", "must not contain a '..' segment"),
        ("/apps/dev\\x", "must not contain whitespace"),
    ],
)
def test_kustomization_path_rules(tmp_path: Path, path: str, problem: str) -> None:
    data = dev_data()
    node(data, CM)["kustomizations"][1]["path"] = path
    errors = violations(tmp_path, data)
    assert len(errors) == 1, messages(errors)
    assert problem in errors[0].message
    assert errors[0].message.startswith("opencenter.gitops.overlay_units.customer_managed.kustomizations[1].path")
    assert errors[0].location is not None
    assert errors[0].location.line == line_number(write(tmp_path, data), "path:", 2)


@pytest.mark.parametrize("path", ["/", "/apps/dev", "/apps/dev.d/x..y", "/a/b/c"])
def test_kustomization_path_accepted(tmp_path: Path, path: str) -> None:
    data = dev_data()
    node(data, CM)["kustomizations"][1]["path"] = path
    assert violations(tmp_path, data) == []


def test_depends_on_must_name_existing_kustomization(tmp_path: Path) -> None:
    data = dev_data()
    node(data, CM)["kustomizations"][2]["depends_on"] = ["infrastructure", "databases"]
    errors = violations(tmp_path, data)
    assert messages(errors) == [
        "opencenter.gitops.overlay_units.customer_managed.kustomizations[2].depends_on[1]: "
        "names no Kustomization defined in this list"
    ]
    assert "databases" not in errors[0].one_line()


def test_depends_on_self_and_cycles_are_rejected(tmp_path: Path) -> None:
    data = dev_data()
    units = node(data, CM)["kustomizations"]
    units[0]["depends_on"] = ["apps"]  # policies -> apps -> infrastructure -> policies
    units.append({"name": "loner", "path": "/loner", "depends_on": ["loner"]})
    errors = messages(violations(tmp_path, data))
    assert any("kustomizations[3].depends_on[0]: a Kustomization must not depend on itself" in m for m in errors)
    cycles = [m for m in errors if "forms a cycle" in m]
    assert cycles == [
        "opencenter.gitops.overlay_units.customer_managed.kustomizations[0].depends_on: depends_on forms a cycle: "
        "kustomizations[0] -> kustomizations[2] -> kustomizations[1] -> kustomizations[0]"
    ]


# ----------------------------------------------------------------------------------------- SOPS


def test_sops_enabled_needs_a_rule(tmp_path: Path) -> None:
    data = dev_data()
    node(data, SOPS)["rules"] = []
    errors = violations(tmp_path, data)
    assert messages(errors) == [
        "opencenter.gitops.overlay_units.sops.enabled: SOPS is enabled but has no rules (at least one is required)"
    ]
    del node(data, SOPS)["rules"]
    assert len(violations(tmp_path, data)) == 1


def test_sops_disabled_needs_no_rule(tmp_path: Path) -> None:
    data = dev_data()
    set_at(data, SOPS, {"enabled": False})
    assert violations(tmp_path, data) == []


@pytest.mark.parametrize("key", ["path_regex", "encrypted_regex"])
@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("^(services/.*", "does not compile"),
        ("^(?!flux-system/).*\\.yaml$", "lookahead"),
        ("^.*(?<!\\.enc)\\.yaml$", "lookbehind"),
        ("^(a)\\1$", "backreference"),
        ("^(?P<d>a)(?P=d)$", "named backreference"),
        ("^(?>a+)b$", "atomic group"),
        ("^a++$", "possessive quantifier"),
        ("^a{2,3}+$", "possessive quantifier"),
        ("^data\\Z", "\\Z"),
        ("(?x) ^data $", "inline flags"),
        ("^a{1,2000}$", "repeat count over 1000"),
        ("^a{,3}$", "{,n}"),
    ],
)
def test_sops_regex_must_compile_in_python_and_re2(tmp_path: Path, key: str, pattern: str, problem: str) -> None:
    data = dev_data()
    node(data, SOPS)["rules"][1][key] = pattern
    errors = violations(tmp_path, data)
    assert len(errors) == 1, messages(errors)
    assert errors[0].message.startswith(f"opencenter.gitops.overlay_units.sops.rules[1].{key}: ")
    assert problem in errors[0].message
    assert errors[0].location is not None
    assert errors[0].location.line == line_number(write(tmp_path, data), f"{key}:", 2)


@pytest.mark.parametrize(
    "pattern",
    [
        "^managed-services/.*/helm-values/.*\\.ya?ml$",
        "^(data|stringData)$",
        "(?i)^secrets?/[a-z0-9_-]+\\.(yaml|yml)$",
        "^[]a-z]+$",
        "^[\\]\\[]{1,3}$",
        "^\\(literal\\)[(?!]$",
        "^a{2}b{0,1000}$",
        "^(?P<name>x)(?:y)*?$",
    ],
)
def test_re2_compatible_regexes_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None
    assert re2_problem(pattern) is None


def test_rule_needs_recipients(tmp_path: Path) -> None:
    data = dev_data()
    node(data, SOPS)["rules"][0]["age_recipients"] = []
    assert messages(violations(tmp_path, data)) == [
        "opencenter.gitops.overlay_units.sops.rules[0].age_recipients: must list at least one age recipient"
    ]


def _age(payload: bytes, hrp: str = "age") -> str:
    return bech32.encode(hrp, payload)


BAD_CHECKSUM = DEV_RECIPIENT[:-1] + ("q" if DEV_RECIPIENT[-1] != "q" else "p")


@pytest.mark.parametrize(
    ("recipient", "problem"),
    [
        (BAD_CHECKSUM, "checksum mismatch"),
        (_age(bytes(31)), "payload is 31 bytes"),
        (_age(bytes(33)), "payload is 33 bytes"),
        (_age(bytes(32), "agx"), "must start with 'age1'"),
        (_age(bytes(32), "age-plugin-yubikey"), "must start with 'age1'"),
        (DEV_RECIPIENT.upper(), "must start with 'age1'"),
        ("age1" + DEV_RECIPIENT[4:].upper(), "must be lowercase"),
        (DEV_RECIPIENT.replace("q", "b", 1), "outside the Bech32 alphabet"),
        ("age1", "shorter than the 6-character checksum"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "must start with 'age1'"),
        ("AGE-SECRET-KEY-1QQQQ", "must start with 'age1'"),
    ],
)
def test_recipients_must_be_well_formed_age(tmp_path: Path, recipient: str, problem: str) -> None:
    data = dev_data()
    node(data, SOPS)["rules"][1]["age_recipients"][1] = recipient
    errors = violations(tmp_path, data)
    assert len(errors) == 1, messages(errors)
    assert errors[0].message.startswith(
        "opencenter.gitops.overlay_units.sops.rules[1].age_recipients[1]: not a valid age recipient: "
    )
    assert problem in errors[0].message
    if len(recipient) > 8:
        assert recipient not in errors[0].one_line()


def test_generated_age_recipient_accepted(tmp_path: Path) -> None:
    # The secret key stays in this process's memory; only the public line is used.
    result = subprocess.run([str(find_tool("age-keygen"))], capture_output=True, text=True, check=True, timeout=30)
    public = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("# public key:"))
    assert bech32.is_age_recipient(public)
    data = dev_data()
    node(data, SOPS)["rules"][0]["age_recipients"] = [public]
    assert violations(tmp_path, data) == []


# ----------------------------------------------------------------------------------------- secret values


@pytest.mark.parametrize(
    "value",
    [
        "PLACEHOLDER-NOT-A-REAL-KEY",
        "ENC[AES256_GCM,data:Zm9vYmFy,iv:aXZpdml2aXZpdml2aXY=,tag:dGFndGFndGFndGFn,type:str]",
        "ref+vault://kv/relaypoint/customer-repository#identity",
        "ref+sops://secrets/customer.enc.yaml#/identity",
    ],
)
def test_secret_value_forms_accepted(tmp_path: Path, value: str) -> None:
    assert is_secret_value_allowed(value)
    data = emit_secret_data()
    data["secrets"]["customer_managed"]["customer-repository"]["identity"] = value
    assert violations(tmp_path, data) == []


@pytest.mark.parametrize(
    "value",
    [
        "Distinctive-Literal-Secret-4711",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        "ENC[Distinctive-Literal-Secret-4711]",
        "PLACEHOLDER-",
        "PLACEHOLDER-has spaces in it",
        "placeholder-lowercase",
        "ref+vault:kv/x",
        "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQY",
    ],
)
def test_literal_secret_values_rejected_without_echo(tmp_path: Path, value: str) -> None:
    assert not is_secret_value_allowed(value)
    data = dev_data()
    data["secrets"] = {"customer_managed": {"customer-repository": {"known_hosts": value}}}
    errors = violations(tmp_path, data)
    expected = (
        "secrets.customer_managed.customer-repository.known_hosts: is not a PLACEHOLDER-..., SOPS ENC[...] "
        "or ref+<backend>://... value (no literal secret material in configs)"
    )
    assert messages(errors) == [expected]
    text = "\n".join(e.one_line() for e in errors) + repr(errors)
    for fragment in value.split():
        if len(fragment) > 8 and fragment not in expected + "use PLACEHOLDER-<WHAT> in fixtures":
            assert fragment not in text
    assert errors[0].location is not None
    assert errors[0].location.line == line_number(write(tmp_path, data), "known_hosts:")


# ----------------------------------------------------------------------------------------- all at once


def test_every_violation_is_reported_at_once(tmp_path: Path) -> None:
    data = dev_data()
    set_at(data, URL_FIELDS["customer_managed"], "http://git.relaypoint.example.net/relaypoint/rpl-apps.git")
    node(data, CM)["kustomizations"][2]["path"] = "apps/dev"
    node(data, SOPS)["rules"][0]["age_recipients"][0] = BAD_CHECKSUM
    path = write(tmp_path, data)
    with pytest.raises(InputErrors) as info:
        load_config(path)
    errors = info.value.errors
    assert [e.code for e in errors] == [TRUST_POLICY] * 3
    lines = [e.location.line if e.location else 0 for e in errors]
    assert lines == sorted([
        line_number(path, "repository_url:"),
        line_number(path, "path: apps/dev"),
        line_number(path, BAD_CHECKSUM),
    ])
    assert len(info.value.lines()) == 3
    assert all(line.startswith(f"{path}:") for line in info.value.lines())
