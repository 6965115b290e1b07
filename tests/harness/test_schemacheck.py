"""The compiled yes/no schema check agrees with jsonschema (the oracle) on the inventory schema and beyond."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.inventory import inventory_schema
from harness.schemacheck import compile_schema

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml"

SCHEMA = inventory_schema()
ORACLE = jsonschema.Draft202012Validator(SCHEMA)
QUICK = compile_schema(SCHEMA)


def test_the_inventory_schema_compiles() -> None:
    assert QUICK is not None  # else every inventory load would import jsonschema again


# ------------------------------------------------------------------------------- generated inventories

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16),
                     st.sampled_from(["", " ", "x", "1.0.0", "k8s-dev", "/spec", "spec", "Kustomization"]))
_ANY = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                    max_leaves=6)

_RULE_VALUES: dict[str, list[Any]] = {  # well-formed values first, then malformed ones
    "id": ["r1", "rule.a:b-c", "-bad", "x" * 101, ""],
    "kind": ["alias", "ignore_rendered", "ignore_fixture", "path_only", "yaml_remove", "other"],
    "path": ["services/**", "kustomization.yaml", ""],
    "to": ["services/a.yaml", ""],
    "pointers": [["/metadata"], ["/a", "/b"], [], ["metadata"], "/metadata"],
    "match_kind": ["Kustomization", "source.toolkit.fluxcd.io/v1/GitRepository", "a/b/c/D", "1bad"],
    "rationale": ["because", "  ", ""],
    "approved_by": ["owner", "\t"],
}
_GOOD = {"id": 2, "kind": 5, "path": 2, "to": 1, "pointers": 2, "match_kind": 2, "rationale": 1, "approved_by": 1}


def _value(draw: st.DrawFn, key: str) -> Any:
    """Mostly a well-formed value for ``key``, sometimes a malformed one or anything at all."""
    choices = _RULE_VALUES[key]
    roll = draw(st.integers(0, 9))
    if roll == 0:
        return draw(_ANY)
    return draw(st.sampled_from(choices[_GOOD[key]:] if roll == 1 else choices[:_GOOD[key]]))


@st.composite
def _rules(draw: st.DrawFn) -> dict[str, Any]:
    rule = {key: _value(draw, key) for key in ("id", "kind", "path", "rationale", "approved_by")}
    if rule["kind"] == "alias" or draw(st.integers(0, 9)) == 0:
        rule["to"] = _value(draw, "to")
    if rule["kind"] == "yaml_remove" or draw(st.integers(0, 9)) == 0:
        rule["pointers"] = _value(draw, "pointers")
        if draw(st.booleans()):
            rule["match_kind"] = _value(draw, "match_kind")
    if draw(st.integers(0, 9)) == 0:  # a missing required key, now and then
        del rule[draw(st.sampled_from(["id", "kind", "path", "rationale", "approved_by"]))]
    if draw(st.integers(0, 9)) == 0:
        rule["unknown"] = draw(_ANY)
    return rule


@st.composite
def _inventories(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 20)) == 0:
        return draw(_ANY)
    doc: dict[Any, Any] = {}
    if draw(st.integers(0, 9)):
        doc["version"] = draw(st.sampled_from(["1.0.0", "1.2.3-rc.1+b"]) if draw(st.integers(0, 4))
                              else st.one_of(st.sampled_from(["01.0.0", "1.0"]), _SCALARS))
    if draw(st.booleans()):
        doc["fixture"] = "relaypoint" if draw(st.integers(0, 4)) else draw(_SCALARS)
    if draw(st.booleans()):
        doc["path_only_budget"] = draw(st.integers(0, 5)) if draw(st.integers(0, 4)) else \
            draw(st.one_of(st.just(-1), st.just(2.0), _SCALARS))
    if draw(st.booleans()):
        doc["defaults"] = draw(st.lists(_rules(), max_size=3)) if draw(st.integers(0, 9)) else draw(_ANY)
    if draw(st.booleans()):
        names = st.sampled_from(["k8s-dev", "a"]) if draw(st.integers(0, 4)) else st.sampled_from(["Bad_Name", "-a"])
        doc["clusters"] = draw(st.dictionaries(names, st.lists(_rules(), max_size=2), max_size=2)) \
            if draw(st.integers(0, 9)) else draw(_ANY)
    if draw(st.integers(0, 9)) == 0:
        doc["extra"] = draw(_ANY)
    return doc


@settings(max_examples=400)
@given(_inventories())
def test_quick_check_agrees_with_jsonschema_on_inventories(doc: Any) -> None:
    assert QUICK is not None
    assert QUICK(doc) is ORACLE.is_valid(doc)


def test_the_shipped_inventory_is_cleared_without_importing_jsonschema() -> None:
    code = ("import sys; from pathlib import Path; from harness.inventory import load_inventory; "
            f"load_inventory(Path({str(INVENTORY)!r})); print('jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"


# ------------------------------------------------------------------------------- keyword semantics

@pytest.mark.parametrize(("schema", "instances"), [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": "number", "minimum": 0}, [0, -1, 0.5, False, "x"]),
    ({"type": ["string", "null"]}, ["a", None, 0]),
    ({"const": "a"}, ["a", "b", 1, ["a"]]),
    ({"enum": ["a", "b"]}, ["a", "c", None]),
    ({"pattern": "b"}, ["abc", "xyz", 3]),
    ({"minLength": 2}, ["ab", "a", 5]),
    ({"required": ["a"], "properties": {"a": {"type": "string"}}, "additionalProperties": False},
     [{"a": "x"}, {"a": 1}, {}, {"a": "x", "b": 1}, {1: "x", "a": "x"}, "not an object"]),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, [{"ab": 1}, {"A": 1}, {1: 2}, []]),
    ({"items": {"type": "integer"}, "minItems": 1}, [[1, 2], [], [1, "x"], "x"]),
    ({"if": {"required": ["k"]}, "then": {"required": ["t"]}, "else": {"not": {"required": ["t"]}}},
     [{"k": 1, "t": 1}, {"k": 1}, {"t": 1}, {}]),
    ({"allOf": [{"minLength": 1}, {"pattern": "^a"}]}, ["ab", "b", ""]),
    ({"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
      "$ref": "#/$defs/node"}, [{"next": {"next": {}}}, {"next": {"next": 1}}, 1]),
    (True, [1, None]),
    ({"not": True}, [1, None]),
])
def test_each_keyword_means_what_jsonschema_says(schema: Any, instances: list[Any]) -> None:
    quick = compile_schema(schema)
    assert quick is not None
    oracle = jsonschema.Draft202012Validator(schema)
    for instance in instances:
        assert quick(instance) is oracle.is_valid(instance), instance


@pytest.mark.parametrize("schema", [
    {"format": "email"},
    {"prefixItems": [{}], "items": False},
    {"patternProperties": {"^a": {}}, "additionalProperties": False},
    {"$ref": "https://example.invalid/other.json"},
    {"$ref": "#/$defs/missing"},
    {"enum": [1, 2]},
    {"type": "whatever"},
    {"properties": {"a": {"unevaluatedProperties": False}}},
])
def test_anything_outside_the_subset_compiles_to_none(schema: Any) -> None:
    assert compile_schema(schema) is None
