"""Fuzzing the bounded condition language: parsing is fail-closed (a Condition or DESCRIPTOR-INVALID,
nothing else), evaluation never raises, agrees with a direct reading of the four operators, and never
shows a value under ``secrets``."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from renderer.conditions import OPERATORS, Condition, evaluate, parse_condition
from renderer.config import schema_has_field
from tests.hardening.strategies import KEYS, SCALARS, VALUES, assert_well_formed
from tests.hardening.support import examples

FIELDS = st.sampled_from([
    "opencenter.meta.region", "opencenter.services.harbor.enabled", "opencenter.services.harbor.certificate.enabled",
    "opencenter.gitops.overlay_units.sops.enabled", "opencenter.gitops.overlay_units.customer_managed.enabled",
    "opencenter.services.kafka-cluster.replicas", "opencenter.managed_services.alert-proxy.enabled",
    "secrets.customer_managed.customer-repository.identity",
])
ODD_FIELDS = st.one_of(FIELDS, st.sampled_from(["", "opencenter", "opencenter..meta", "Opencenter.meta",
                                                "opencenter.meta.nope", "opencenter.services.0", "a.b.c",
                                                "opencenter.meta.region.x", "secrets.x"]),
                       st.text(alphabet="abcdefgmnopr_-.0", max_size=24))
RAW_CONDITIONS = st.dictionaries(
    st.one_of(st.sampled_from(["field", "op", "value"]), KEYS),
    st.one_of(ODD_FIELDS, st.sampled_from([*OPERATORS, "greater", "and", True, False]), VALUES), max_size=4)
SECRET = "zz-condition-secret-4Hq8Pw"


@examples(2.0)
@given(st.one_of(RAW_CONDITIONS, VALUES, st.fixed_dictionaries(
    {"field": ODD_FIELDS, "op": st.sampled_from([*OPERATORS, True, False, "x"])}, optional={"value": VALUES})))
def test_parse_is_fail_closed(raw: Any) -> None:
    try:
        condition = parse_condition(raw, file="d.yaml", line=7, has_field=schema_has_field)
    except InputError as error:
        [line] = assert_well_formed(error, codes=("DESCRIPTOR-INVALID",))
        assert line.startswith("d.yaml:")
        return
    assert isinstance(raw, dict)
    assert set(raw) <= {"field", "op", "value"}
    assert condition.op in OPERATORS
    assert schema_has_field(condition.field)
    assert (condition.op == "equals") == ("value" in raw)
    if condition.op == "equals":
        assert isinstance(condition.value, str | int | float | bool)


def _nest(dotted: str, leaf: Any, noise: Any, cut: int) -> Any:
    """Config data holding ``leaf`` at ``dotted`` (or, with ``cut``, broken off ``cut`` levels early)."""
    parts = dotted.split(".")
    keep = parts[: len(parts) - cut] if cut else parts
    node: Any = leaf if not cut else noise
    for part in reversed(keep):
        node = {part: node}
    return node


def _lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    """An independent reading of a dotted path (mappings by key, lists by decimal index)."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _expected(condition: Condition, exists: bool, value: Any) -> bool:
    if not exists:
        return False
    if condition.op == "exists":
        return value is not None
    if condition.op in ("true", "false"):
        return value is (condition.op == "true")
    if isinstance(value, bool) or isinstance(condition.value, bool):
        return type(value) is type(condition.value) and value == condition.value
    if isinstance(value, int | float) and isinstance(condition.value, int | float):
        return bool(value == condition.value)
    return type(value) is type(condition.value) and value == condition.value


@examples(3.0)
@given(FIELDS, st.sampled_from(OPERATORS), SCALARS, st.one_of(VALUES, st.just(SECRET)), VALUES,
       st.integers(0, 3))
def test_evaluate_never_raises_and_follows_the_operators(field: str, op: str, expected: Any, actual: Any,
                                                         noise: Any, cut: int) -> None:
    value = expected if op == "equals" and isinstance(expected, str | int | float | bool) else None
    if op == "equals" and value is None:
        value = "x"
    condition = Condition(field, op, value)
    cut = min(cut, len(field.split(".")) - 1)
    data = _nest(field, actual, noise, cut)
    result, reason = evaluate(condition, data)
    assert result is _expected(condition, *_lookup(data, field))
    assert isinstance(reason, str)
    assert "\n" not in reason
    assert reason.startswith(field)
    if field.startswith("secrets."):
        assert SECRET not in reason
        assert (not isinstance(actual, str) or len(actual) < 4 or actual not in reason)


@examples(1.0)
@given(FIELDS, st.sampled_from(OPERATORS), VALUES)
def test_evaluate_on_arbitrary_config_data(field: str, op: str, data: Any) -> None:
    condition = Condition(field, op, 1 if op == "equals" else None)
    result, reason = evaluate(condition, data if isinstance(data, dict) else {"opencenter": data})
    assert isinstance(result, bool)
    assert "\n" not in reason
