"""Cluster config loading (renderer.config): schema, typing, located errors, no echoed values."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import InputError, InputErrors
from renderer.config import (
    _validator,  # the reference validator the fast check is held to
    config_schema,
    dotted_path,
    get_field,
    load_config,
    schema_has_field,
    schema_valid_fast,
)
from renderer.config_model import ClusterConfig, ServiceConfig

FIXTURE = Path(__file__).resolve().parents[2] / "testdata" / "relaypoint-logistics-shared"
DEV = FIXTURE / ".k8s-dev-config.yaml"
DEV_TEXT = DEV.read_text(encoding="utf-8")
SECRET = "Zq7-DISTINCTIVE-SECRET-VALUE-93f1"


def write(tmp_path: Path, text: str, cluster: str = "k8s-dev") -> Path:
    path = tmp_path / f".{cluster}-config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of_text(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found")


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def load_errors(path: Path) -> list[InputError]:
    with pytest.raises(InputError) as info:
        load_config(path)
    exc = info.value
    return exc.errors if isinstance(exc, InputErrors) else [exc]


def plain_values(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from plain_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from plain_values(value)


# ----------------------------------------------------------------------------------------- happy path


def test_dev_config_loads_typed() -> None:
    config = load_config(DEV)
    assert isinstance(config, ClusterConfig)
    assert config.cluster == "k8s-dev"
    assert config.path == DEV
    assert config.meta.env == "dev"
    assert config.meta.region == "iad3"
    assert config.cluster_info.name == "k8s-dev"
    assert config.gitops.repository.branch == "main"
    assert config.gitops.base_repo.tag == "v1.4.2"
    assert config.gitops.base_repo.secret_ref == "opencenter-base"
    assert config.gitops.flux.source_interval == "15m"
    assert config.gitops.allowed_repository_hosts == ("git.relaypoint.example.net", "github.com")
    assert config.services["harbor"] == ServiceConfig(
        "harbor", True, {"hostname": "harbor.k8s-dev.iad3.relaypoint.example.net", "certificate": {"enabled": True}}
    )
    assert config.services["longhorn"].enabled is False
    assert config.service_enabled("kyverno")
    assert not config.service_enabled("sealed-secrets")
    assert not config.service_enabled("no-such-service")
    assert config.managed_services["alert-proxy"].options["receiver_url"].startswith("https://")
    assert config.enabled_managed_services == ["alert-proxy"]
    cm = config.customer_managed
    assert cm is not None
    assert cm.enabled
    assert not cm.emit_secret
    assert [(k.name, k.path, k.depends_on) for k in cm.kustomizations] == [
        ("policies", "/policies/dev", ()),
        ("infrastructure", "/infrastructure/dev", ("policies",)),
        ("apps", "/apps/dev", ("infrastructure",)),
    ]
    assert config.sops is not None
    assert config.sops_enabled
    assert [len(r.age_recipients) for r in config.sops.rules] == [1, 2]
    assert config.sops.rules[0].encrypted_regex == "^(data|stringData)$"
    assert config.secrets.customer_managed == {}


def test_data_is_plain_and_matches_file() -> None:
    config = load_config(DEV)
    plain = (dict, list, str, int, float, bool, type(None), dt.date, dt.datetime)
    for value in plain_values(config.data):
        assert type(value) in plain, type(value)
        assert not type(value).__module__.startswith("ruamel")
    assert get_field(config.data, "opencenter.services.harbor.certificate.enabled") == (True, True)
    assert config.data["opencenter"]["gitops"]["flux"] == {
        "source_interval": "15m", "kustomization_interval": "5m", "timeout": "10m",
    }


def test_config_is_frozen_and_repr_hides_secrets(tmp_path: Path) -> None:
    text = DEV_TEXT.replace(
        "secrets:\n  customer_managed: {}\n",
        f"secrets:\n  customer_managed:\n    customer-repository:\n      identity: PLACEHOLDER-{SECRET[4:]}\n",
    )
    config = load_config(write(tmp_path, text))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.cluster = "other"  # type: ignore[misc]
    assert SECRET[4:] not in repr(config)
    assert SECRET[4:] not in repr(config.secrets)
    assert config.secrets.customer_managed["customer-repository"].identity == f"PLACEHOLDER-{SECRET[4:]}"


def test_lines_index_points_at_keys() -> None:
    config = load_config(DEV)
    harbor = line_of_text(DEV_TEXT, "    harbor:")
    assert config.line_of(("opencenter", "services", "harbor")) == harbor
    assert config.line_of(("opencenter", "services", "harbor", "certificate")) == harbor + 3
    assert config.line_of(("opencenter", "services", "harbor", "certificate", "enabled")) == harbor + 4
    assert config.line_of(("opencenter", "services", "harbor", "nope", "deeper")) == harbor
    assert config.line_of(()) == 0


# ----------------------------------------------------------------------------------------- structural errors


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_is_one_clear_error(tmp_path: Path, text: str) -> None:
    errors = load_errors(write(tmp_path, text))
    assert len(errors) == 1
    assert errors[0].code == "CONFIG-INVALID"
    assert errors[0].message == "config file is empty"
    assert errors[0].one_line().startswith(str(tmp_path))


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just a string\n", "string"), ("42\n", "integer")])
def test_wrong_top_level_type(tmp_path: Path, text: str, kind: str) -> None:
    errors = load_errors(write(tmp_path, text))
    assert len(errors) == 1
    assert errors[0].code == "CONFIG-INVALID"
    assert errors[0].message == f"top level must be a mapping with an 'opencenter' key, not a {kind}"
    assert errors[0].location is not None
    assert errors[0].location.line == 1


def test_duplicate_key_is_an_error_with_line(tmp_path: Path) -> None:
    text = replace_once(DEV_TEXT, "    region: iad3\n", "    region: iad3\n    region: ord1\n")
    errors = load_errors(write(tmp_path, text))
    assert len(errors) == 1
    assert errors[0].code == "YAML-DUPLICATE-KEY"
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(text, "region: ord1")


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    text = replace_once(DEV_TEXT, "    env: dev\n", "    env: [dev\n")
    errors = load_errors(write(tmp_path, text))
    assert errors[0].code == "YAML-INVALID"
    assert errors[0].location is not None
    assert errors[0].location.line > 0


@pytest.mark.parametrize(
    "name",
    ["k8s-dev-config.yaml", ".K8S-dev-config.yaml", ".k8s-dev.yaml", ".k8s_dev-config.yaml", ".k8s-dev-config.yml"],
)
def test_file_name_must_name_the_cluster(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(DEV_TEXT, encoding="utf-8")
    errors = load_errors(path)
    assert [e.code for e in errors] == ["CONFIG-INVALID"]
    assert ".<cluster>-config.yaml" in errors[0].message


def test_cluster_name_must_match_file_name(tmp_path: Path) -> None:
    errors = load_errors(write(tmp_path, DEV_TEXT, cluster="k8s-qa"))
    assert len(errors) == 1
    assert errors[0].code == "CONFIG-INVALID"
    assert errors[0].message == (
        "opencenter.cluster.name: must equal the cluster named by the file name ('k8s-qa' from .k8s-qa-config.yaml)"
    )
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(DEV_TEXT, "name: k8s-dev")


def test_missing_file_and_size_limit(tmp_path: Path) -> None:
    assert load_errors(tmp_path / ".k8s-dev-config.yaml")[0].code == "FILE-MISSING"
    path = write(tmp_path, DEV_TEXT)
    assert load_errors_with_limit(path, 100)[0].code == "FILE-TOO-LARGE"


def load_errors_with_limit(path: Path, limit: int) -> list[InputError]:
    with pytest.raises(InputError) as info:
        load_config(path, max_bytes=limit)
    return [info.value]


def test_symlink_refused(tmp_path: Path) -> None:
    link = tmp_path / ".k8s-dev-config.yaml"
    link.symlink_to(DEV)
    assert load_errors(link)[0].code == "FILE-SYMLINK"


# ----------------------------------------------------------------------------------------- schema errors


def test_schema_error_carries_line_of_offending_key(tmp_path: Path) -> None:
    text = replace_once(DEV_TEXT, "      alertmanager_routes: false\n", "      alertmanager_routes: yes\n")
    errors = load_errors(write(tmp_path, text))
    assert [e.message for e in errors] == [
        "opencenter.services.kube-prometheus-stack.alertmanager_routes: must be a boolean, not a string"
    ]
    assert errors[0].code == "CONFIG-INVALID"
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(text, "alertmanager_routes: yes")


def test_unknown_key_is_reported_at_its_line(tmp_path: Path) -> None:
    text = replace_once(DEV_TEXT, "    flux:\n", "    flux:\n      suspend_everything: true\n")
    errors = load_errors(write(tmp_path, text))
    assert len(errors) == 1
    assert errors[0].message.startswith("opencenter.gitops.flux: unknown key 'suspend_everything'")
    assert "allowed keys: kustomization_interval, source_interval, timeout" in errors[0].message
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(text, "suspend_everything")


def test_unknown_service_is_rejected(tmp_path: Path) -> None:
    text = replace_once(DEV_TEXT, "    calico:\n", "    calicoo:\n      enabled: true\n    calico:\n")
    errors = load_errors(write(tmp_path, text))
    assert [e.message.split(";")[0] for e in errors] == ["opencenter.services: unknown key 'calicoo'"]


def test_service_options_allow_extra_keys(tmp_path: Path) -> None:
    extra = "      listeners: {http: 80, https: 443}\n      mode: shared\n"
    text = replace_once(DEV_TEXT, "    gateway:\n      enabled: true\n", "    gateway:\n      enabled: true\n" + extra)
    config = load_config(write(tmp_path, text))
    assert config.services["gateway"].options == {"listeners": {"http": 80, "https": 443}, "mode": "shared"}


def test_every_schema_violation_is_reported(tmp_path: Path) -> None:
    text = DEV_TEXT
    text = replace_once(text, "      source_interval: 15m\n", "      source_interval: fifteen minutes\n")
    text = replace_once(text, "      tag: v1.4.2\n", "      tag: latest\n")
    text = replace_once(text, "    longhorn:\n      enabled: false\n", "    longhorn:\n      replicas: 3\n")
    text = replace_once(text, "    organization: relaypoint-logistics\n", "")
    errors = load_errors(write(tmp_path, text))
    found = {(e.message.split(":")[0], e.location.line if e.location else 0) for e in errors}
    assert found == {
        ("opencenter.meta", line_of_text(text, "  meta:")),
        ("opencenter.gitops.base_repo.tag", line_of_text(text, "tag: latest")),
        ("opencenter.gitops.flux.source_interval", line_of_text(text, "source_interval:")),
        ("opencenter.services.longhorn", line_of_text(text, "    longhorn:")),
    }
    by_path = {e.message.split(":")[0]: e.message for e in errors}
    assert by_path["opencenter.meta"].endswith("missing required key 'organization'")
    assert by_path["opencenter.services.longhorn"].endswith("missing required key 'enabled'")
    assert "must match pattern ^([0-9]+(ms|s|m|h))+$" in by_path["opencenter.gitops.flux.source_interval"]
    assert "fifteen" not in by_path["opencenter.gitops.flux.source_interval"]
    assert "latest" not in by_path["opencenter.gitops.base_repo.tag"]
    assert [e.location.line for e in errors if e.location] == sorted(e.location.line for e in errors if e.location)
    assert all(e.code == "CONFIG-INVALID" for e in errors)


def test_customer_managed_enabled_requires_repository_fields(tmp_path: Path) -> None:
    start = DEV_TEXT.index("      customer_managed:\n")
    end = DEV_TEXT.index("      sops:\n")
    text = DEV_TEXT[:start] + "      customer_managed:\n        enabled: true\n" + DEV_TEXT[end:]
    errors = load_errors(write(tmp_path, text))
    assert sorted(e.message for e in errors) == sorted(
        f"opencenter.gitops.overlay_units.customer_managed: missing required key '{k}'"
        for k in ("repository_name", "repository_url", "branch", "kustomizations")
    )
    disabled = text.replace("        enabled: true\n      sops:", "        enabled: false\n      sops:")
    config = load_config(write(tmp_path, disabled))
    assert config.customer_managed is not None
    assert not config.customer_managed_enabled


def test_overlay_units_are_optional(tmp_path: Path) -> None:
    start = DEV_TEXT.index("    overlay_units:\n")
    end = DEV_TEXT.index("  services:\n")
    config = load_config(write(tmp_path, DEV_TEXT[:start] + DEV_TEXT[end:]))
    assert config.customer_managed is None
    assert config.sops is None
    assert not config.customer_managed_enabled
    assert not config.sops_enabled


def test_non_string_key_and_custom_tag_are_rejected(tmp_path: Path) -> None:
    calico = "    calico:\n      enabled: true\n"
    text = replace_once(DEV_TEXT, calico, calico + "      1: one\n")
    text = replace_once(text, "      replicas: 1\n", "      replicas: !int 1\n")
    errors = load_errors(write(tmp_path, text))
    assert sorted(e.message for e in errors) == [
        "opencenter.services.calico: has a key of type integer; keys must be strings",
        "opencenter.services.kafka-cluster.replicas: uses a custom YAML tag; only plain YAML values are allowed",
    ]
    assert {e.location.line for e in errors if e.location} == {
        line_of_text(text, "    calico:"), line_of_text(text, "replicas: !int"),
    }


# ----------------------------------------------------------------------------------------- secrets never echoed


def test_secret_values_never_appear_in_schema_errors(tmp_path: Path) -> None:
    text = DEV_TEXT.replace(
        "secrets:\n  customer_managed: {}\n",
        "secrets:\n"
        "  customer_managed:\n"
        "    customer-repository:\n"
        f"      identity: [{SECRET}]\n"
        f"      identity_pub: {{nested: {SECRET}}}\n"
        f"      {SECRET}: oops\n"
        f"    Bad_Name_{SECRET}:\n"
        f"      known_hosts: {SECRET}\n"
        f"  {SECRET}-section: {SECRET}\n",
    )
    text = replace_once(text, "    env: dev\n", f"    env: {SECRET}\n")
    errors = load_errors(write(tmp_path, text))
    assert len(errors) >= 5
    assert all(e.code == "CONFIG-INVALID" for e in errors)
    blob = "\n".join(e.one_line() for e in errors) + "\n" + "\n".join(repr(e) for e in errors)
    assert SECRET not in blob
    assert SECRET.lower() not in blob.lower()
    assert "secrets.customer_managed.customer-repository.identity: must be a string, not a list" in blob


def test_secret_values_never_appear_in_trust_errors(tmp_path: Path) -> None:
    text = DEV_TEXT.replace(
        "secrets:\n  customer_managed: {}\n",
        f"secrets:\n  customer_managed:\n    customer-repository:\n      identity: {SECRET}\n"
        f"      known_hosts: '|1|{SECRET}= ssh-ed25519 AAAA{SECRET}'\n",
    )
    with pytest.raises(InputErrors) as info:
        load_config(write(tmp_path, text))
    assert [e.code for e in info.value.errors] == ["CONFIG-TRUST-POLICY"] * 2
    blob = "\n".join(info.value.lines()) + repr(info.value.errors) + str(info.value)
    assert SECRET not in blob


# ----------------------------------------------------------------------------------------- schema API


def test_config_schema_is_valid_and_a_copy() -> None:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    schema["properties"].clear()
    assert config_schema()["properties"]


def test_schema_is_closed_except_option_maps() -> None:
    def walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                yield path, node
            for key, value in node.items():
                yield from walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{path}/{index}")

    open_maps = []
    for path, node in walk(config_schema(), ""):
        if node.get("additionalProperties", True) is not False and "$ref" not in node and "/if/" not in f"{path}/":
            open_maps.append(path)
    assert sorted(open_maps) == sorted([
        "/$defs/service",
        "/$defs/customerManaged/then",
        "/properties/opencenter/properties/services/properties/cert-manager/properties/issuers",
        "/properties/opencenter/properties/services/properties/harbor/properties/certificate",
    ])


@pytest.mark.parametrize(
    ("dotted", "expected"),
    [
        ("opencenter", True),
        ("opencenter.meta.region", True),
        ("opencenter.cluster.name", True),
        ("opencenter.services.harbor.enabled", True),
        ("opencenter.services.harbor.certificate.enabled", True),
        ("opencenter.services.kube-prometheus-stack.alertmanager_routes", True),
        ("opencenter.services.velero.schedules", True),
        ("opencenter.services.cert-manager.issuers.letsencrypt_production", True),
        ("opencenter.services.gateway.any_option.deeper", True),
        ("opencenter.managed_services.alert-proxy.enabled", True),
        ("opencenter.gitops.overlay_units.sops.enabled", True),
        ("opencenter.gitops.overlay_units.sops.rules.0.path_regex", True),
        ("opencenter.gitops.overlay_units.customer_managed.emit_secret", True),
        ("opencenter.gitops.overlay_units.customer_managed.repository_name", True),
        ("opencenter.gitops.overlay_units.customer_managed.kustomizations.0.depends_on.1", True),
        ("opencenter.gitops.allowed_repository_hosts.0", True),
        ("secrets.customer_managed.customer-repository.identity", True),
        ("opencenter.meta.nope", False),
        ("opencenter.services.no-such-service.enabled", False),
        ("opencenter.services.harbor.enabled.deeper", False),
        ("opencenter.services.cert-manager.issuers.letsencrypt_production.x", False),
        ("opencenter.gitops.overlay_units.customer_managed.nope", False),
        ("opencenter.gitops.overlay_units.sops.rules.first", False),
        ("opencenter.gitops.flux.source_interval.x", False),
        ("secrets.customer_managed.Bad_Name", False),
        ("secrets.customer_managed.customer-repository.password", False),
        ("nope", False),
        ("", False),
        ("opencenter..meta", False),
        ("opencenter.Meta", False),
        ("opencenter.meta.region ", False),
    ],
)
def test_schema_has_field(dotted: str, expected: bool) -> None:
    assert schema_has_field(dotted) is expected


def test_get_field() -> None:
    data = {"a": {"b": [{"c": 1}, {"d": None}], "e": False}}
    assert get_field(data, "a.e") == (True, False)
    assert get_field(data, "a.b.0.c") == (True, 1)
    assert get_field(data, "a.b.1.d") == (True, None)
    assert get_field(data, "a.b.2") == (False, None)
    assert get_field(data, "a.b.x") == (False, None)
    assert get_field(data, "a.e.f") == (False, None)
    assert get_field(data, "z") == (False, None)
    with pytest.raises(ValueError, match="non-empty"):
        get_field(data, "a..b")


def test_dotted_path() -> None:
    assert dotted_path(("a", "b", 0, "c")) == "a.b[0].c"
    assert dotted_path(()) == "(top level)"


@pytest.mark.parametrize(("old", "new", "key"), [
    ("repository_name: customer-repository", "repository_name: kustomization", "repository_name"),
    ("          - name: apps", "          - name: kustomization", "kustomizations[2].name"),
])
def test_a_config_name_that_collides_with_a_fixed_output_is_a_config_error_at_its_line(
        tmp_path: Path, old: str, new: str, key: str) -> None:
    text = replace_once(DEV_TEXT, old, new)
    errors = [e for e in load_errors(write(tmp_path, text)) if "reserved" in e.message]
    assert len(errors) == 1
    assert errors[0].code == "CONFIG-INVALID"
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(text, new.strip())
    assert f"customer_managed.{key}" in errors[0].message


def test_secret_name_may_not_equal_repository_name(tmp_path: Path) -> None:
    text = replace_once(DEV_TEXT, "secret_name: customer-repository-rpl-apps-flux-k8s",
                        "secret_name: customer-repository")
    text = replace_once(text, "emit_secret: false", "emit_secret: true")
    errors = [e for e in load_errors(write(tmp_path, text)) if "equals repository_name" in e.message]
    assert len(errors) == 1
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(text, "secret_name: customer-repository")


@pytest.mark.parametrize("label", ["{key: 'bad key', value: x}", "{key: a.io/x, value: 'no spaces'}",
                                   "{key: a.io/x}", "{key: a.io/x, value: y, extra: 1}"])
def test_the_kafka_client_label_is_schema_checked(tmp_path: Path, label: str) -> None:
    text = replace_once(DEV_TEXT, "      replicas: 1\n", f"      replicas: 1\n      client_namespace_label: {label}\n")
    errors = load_errors(write(tmp_path, text))
    assert errors
    assert {e.code for e in errors} == {"CONFIG-INVALID"}
    assert errors[0].location is not None
    assert errors[0].location.line == line_of_text(text, "client_namespace_label")


@pytest.mark.parametrize("shape", ["flow", "block", "secret"])
def test_deeply_nested_config_data_is_one_located_error(tmp_path: Path, shape: str) -> None:
    if shape == "flow":
        deep = "[" * 3000 + "]" * 3000
        text = replace_once(DEV_TEXT, "      replicas: 1\n", f"      replicas: 1\n      extra: {deep}\n")
    elif shape == "block":
        text = DEV_TEXT + "deep:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(400)) + "  " * 401 + "v\n"
    else:
        text = DEV_TEXT.replace("secrets:\n", "secrets:\n  nested: " + "{a: " * 1000 + "x" + "}" * 1000 + "\n", 1)
    errors = load_errors(write(tmp_path, text))
    assert len(errors) == 1
    assert errors[0].code == "YAML-TOO-DEEP"
    assert errors[0].location is not None
    assert errors[0].location.line > 1


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaf_paths(value, (*path, index))
    else:
        yield path


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_fast_schema_check_never_accepts_what_the_reference_validator_refuses(data: st.DataObject) -> None:
    config = copy.deepcopy(load_config(DEV).data)
    leaves = list(_leaf_paths(config))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(leaves))
        parent = config
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = data.draw(st.one_of(
            st.none(), st.booleans(), st.integers(-5, 2**70), st.floats(allow_nan=False), st.text(max_size=12),
            st.sampled_from(["ssh://git@h/x.git", "https://h/x", "k8s dev", "UPPER", "v1.0.0", "-x", "1:00"]),
            st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.sampled_from(["a", "enabled"]),
                                                                      st.booleans(), max_size=2)))
    reference = list(_validator().iter_errors(config))
    if schema_valid_fast(config):
        assert reference == []


def test_the_fast_schema_check_accepts_every_bundled_config() -> None:
    for path in sorted(FIXTURE.glob(".*-config.yaml")):
        assert schema_valid_fast(load_config(path).data) is True
