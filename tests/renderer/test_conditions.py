"""Bounded conditions: parsing is fail-closed, evaluation is strict and explains itself, secrets are masked."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import InputError
from harness.yamlio import load_roundtrip
from renderer.conditions import Condition, evaluate, is_secret_field, masked, parse_condition, show_value
from renderer.config import schema_has_field

DATA: dict[str, Any] = {
    "opencenter": {
        "meta": {"region": "ord1", "env": "qa"},
        "services": {
            "harbor": {"enabled": True, "certificate": {"enabled": False}, "hostname": None},
            "kafka-cluster": {"enabled": True, "replicas": 1},
            "velero": {"enabled": "yes"},
        },
    },
    "secrets": {"customer_managed": {"customer-repository": {"identity": "PLACEHOLDER-TOP-SECRET-VALUE"}}},
}


def parse(text: str) -> Condition:
    return parse_condition(load_roundtrip(text, "d.yaml"), file="d.yaml", line=7, has_field=schema_has_field)


@pytest.mark.parametrize(("text", "message"), [
    ("field: opencenter.meta.region\nop: equals\nvalue: ord1\nextra: 1\n", "unknown key 'extra'"),
    ("field: opencenter.meta.region\nop: matches\nvalue: ord\n", "unknown operator 'matches'"),
    ("field: opencenter.meta.region\nop: equals\n", "needs a 'value'"),
    ("field: opencenter.meta.region\nop: exists\nvalue: x\n", "takes no 'value'"),
    ("field: opencenter.meta.region\nop: equals\nvalue: [a, b]\n", "must be a string, number or boolean"),
    ("field: opencenter.meta.region\nop: equals\nvalue: null\n", "must be a string, number or boolean"),
    ("field: opencenter..meta\nop: exists\n", "ill-formed field path"),
    ("field: Opencenter.Meta\nop: exists\n", "ill-formed field path"),
    ("field: opencenter.meta.galaxy\nop: exists\n", "unknown field 'opencenter.meta.galaxy'"),
    ("field: opencenter.services.nope.enabled\nop: \"true\"\n", "unknown field"),
    ("op: exists\n", "needs a 'field'"),
    ("field: opencenter.meta.region\n", "unknown operator"),
    ("[opencenter.meta.region, exists]\n", "must be a mapping"),
    ("any: [{field: opencenter.meta.region, op: exists}]\n", "unknown key 'any'"),
])
def test_parse_is_fail_closed(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text)
    assert info.value.code == "DESCRIPTOR-INVALID"
    assert message in info.value.message
    assert info.value.location is not None
    assert info.value.location.file == "d.yaml"
    assert info.value.location.line >= 1


def test_parse_error_points_at_the_offending_key_line() -> None:
    with pytest.raises(InputError) as info:
        parse("field: opencenter.meta.region\n\nop: sometimes\n")
    assert info.value.location is not None
    assert info.value.location.line == 3


def test_parse_accepts_the_four_operators() -> None:
    assert parse("field: opencenter.meta.region\nop: equals\nvalue: ord1\n") == \
        Condition("opencenter.meta.region", "equals", "ord1", 7)
    assert parse("field: opencenter.meta.region\nop: exists\n").op == "exists"
    assert parse("field: opencenter.services.harbor.enabled\nop: \"true\"\n").op == "true"
    assert parse("field: opencenter.services.harbor.enabled\nop: \"false\"\n").op == "false"
    # an unquoted YAML boolean is read as the operator of the same name
    assert parse("field: opencenter.services.harbor.enabled\nop: true\n").op == "true"


@pytest.mark.parametrize(("condition", "result", "reason"), [
    (Condition("opencenter.meta.region", "equals", "ord1"), True, "opencenter.meta.region is 'ord1'"),
    (Condition("opencenter.meta.region", "equals", "iad3"), False, "opencenter.meta.region is 'ord1', not 'iad3'"),
    (Condition("opencenter.meta.zone", "equals", "a"), False, "opencenter.meta.zone is absent"),
    (Condition("opencenter.services.kafka-cluster.replicas", "equals", 1), True, "is 1"),
    (Condition("opencenter.services.kafka-cluster.replicas", "equals", True), False, "is 1, not true"),
    (Condition("opencenter.services.kafka-cluster.replicas", "equals", "1"), False, "is 1, not '1'"),
    (Condition("opencenter.services.harbor.enabled", "equals", 1), False, "is true, not 1"),
    (Condition("opencenter.services.harbor.enabled", "true"), True, "opencenter.services.harbor.enabled is true"),
    (Condition("opencenter.services.harbor.enabled", "false"), False, "is true"),
    (Condition("opencenter.services.harbor.certificate.enabled", "false"), True, "is false"),
    (Condition("opencenter.services.longhorn.enabled", "true"), False,
     "opencenter.services.longhorn.enabled is absent"),
    (Condition("opencenter.services.longhorn.enabled", "false"), False, "is absent"),
    (Condition("opencenter.services.velero.enabled", "true"), False, "is 'yes', not a boolean"),
    (Condition("opencenter.services.harbor.hostname", "exists"), False, "is null"),
    (Condition("opencenter.services.harbor.certificate", "exists"), True, "certificate exists"),
    (Condition("opencenter.services.harbor.certificate.enabled", "exists"), True, "exists"),
])
def test_evaluate(condition: Condition, result: bool, reason: str) -> None:
    got, why = evaluate(condition, DATA)
    assert got is result
    assert reason in why
    assert condition.field in why


@pytest.mark.parametrize("condition", [
    Condition("secrets.customer_managed.customer-repository.identity", "equals", "PLACEHOLDER-TOP-SECRET-VALUE"),
    Condition("secrets.customer_managed.customer-repository.identity", "equals", "PLACEHOLDER-OTHER"),
    Condition("secrets.customer_managed.customer-repository.identity", "exists"),
    Condition("secrets.customer_managed.customer-repository.identity", "true"),
    Condition("secrets.customer_managed", "equals", "x"),
])
def test_secret_values_never_appear_in_reasons(condition: Condition) -> None:
    _, reason = evaluate(condition, DATA)
    assert "TOP-SECRET" not in reason
    assert "PLACEHOLDER" not in reason
    assert "customer-repository.identity" in reason or "secrets.customer_managed" in reason
    assert "PLACEHOLDER" not in condition.describe()


def test_masking_helpers() -> None:
    assert is_secret_field("secrets")
    assert is_secret_field("secrets.customer_managed.x.identity")
    assert not is_secret_field("opencenter.secrets_mode")
    assert not is_secret_field("secretsx")
    assert str(masked("secrets.a", "value")).startswith("<redacted sha256:")
    assert masked("opencenter.meta.region", "ord1") == "ord1"
    assert show_value("opencenter.x", {"a": 1}) == "<mapping of 1 keys>"
    assert show_value("opencenter.x", [1, 2]) == "<list of 2 items>"
    assert show_value("opencenter.x", "a\nb") == "'a\\nb'"
    assert len(show_value("opencenter.x", "z" * 500)) < 100


def test_describe() -> None:
    assert Condition("opencenter.meta.region", "equals", "ord1").describe() == "opencenter.meta.region equals 'ord1'"
    assert Condition("opencenter.meta.region", "exists").describe() == "opencenter.meta.region exists"
    assert Condition("opencenter.services.harbor.enabled", "false").describe() == \
        "opencenter.services.harbor.enabled is false"
