"""The inventory JSON Schema, assembled from the common rule keys and each registered kind's fragment.

``canonicalization/schema/inventory.schema.json`` (for readers of the repository) and its packaged copy
``harness/schema/inventory.schema.json`` are this schema written out; a test keeps both equal to
:func:`assemble_schema`. After adding or changing a kind, rewrite them with
``python -m harness.rules.schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness.rules import REGISTRY
from harness.semver import SEMVER_PATTERN

PACKAGED = Path(__file__).resolve().parents[1] / "schema" / "inventory.schema.json"
REPOSITORY = Path("canonicalization") / "schema" / "inventory.schema.json"

_TEXT = {"$ref": "#/$defs/text"}


def owners(key: str) -> tuple[str, ...]:
    """The kinds that may carry a kind-specific key (empty for a common key)."""
    return tuple(name for name, kind in REGISTRY.items() if key in kind.properties)


def _kind_is(*names: str) -> dict[str, Any]:
    test: dict[str, Any] = {"const": names[0]} if len(names) == 1 else {"enum": list(names)}
    return {"required": ["kind"], "properties": {"kind": test}}


def _rule_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"description": "Unique across the whole file.", "type": "string",
               "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"},
        "kind": {"enum": list(REGISTRY)},
        "path": {"description": "Gitignore-style glob relative to the overlay root; for a kind with a literal "
                                "path (alias), the literal rendered path.", "type": "string", "minLength": 1},
    }
    constraints: list[dict[str, Any]] = []
    for name, kind in REGISTRY.items():
        for key, fragment in kind.properties.items():
            properties.setdefault(key, fragment)
        if kind.required:
            constraints.append({"if": _kind_is(name), "then": {"required": list(kind.required)}})
    for key in [k for kind in REGISTRY.values() for k in kind.properties]:
        constraints.append({"if": _kind_is(*owners(key)), "else": {"not": {"required": [key]}}})
    properties.update({
        "rationale": {"description": "Why the fixture is not authoritative for this case.", **_TEXT},
        "approved_by": {"description": "Who approved the rule (the parity oracle owner).", **_TEXT},
        "security_waiver": {
            "description": "Required when the rule would hide a security-relevant object (a security kind, "
                           "`.sops.yaml`) from parity: why that is acceptable, and who accepted it.",
            "type": "object", "additionalProperties": False, "required": ["rationale", "approved_by"],
            "properties": {"rationale": _TEXT, "approved_by": _TEXT}},
    })
    return {"type": "object", "additionalProperties": False,
            "required": ["id", "kind", "path", "rationale", "approved_by"],
            "properties": properties, "allOf": constraints}


def assemble_schema() -> dict[str, Any]:
    """The whole inventory schema (JSON Schema 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://overlay-parity.invalid/schema/inventory.schema.json",
        "title": "overlay-parity canonicalization inventory",
        "description": "The finite, versioned, reviewed list of differences the parity check accepts between "
                       "rendered overlay trees and their fixture. Rules of `defaults` apply to every cluster, "
                       "then the rules listed under the cluster's name. Generated from harness/rules/ "
                       "(python -m harness.rules.schema); do not edit by hand.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"description": "Semantic version of the inventory; bump it whenever a rule is added, "
                                       "changed or removed.", "type": "string", "pattern": SEMVER_PATTERN},
            "fixture": {"description": "Name of the fixture this inventory canonicalizes "
                                       "(e.g. relaypoint-logistics-shared).", "type": "string", "minLength": 1},
            "path_only_budget": {"description": "Maximum number of path_only rules in the whole file "
                                                "(absent means 0).", "type": "integer", "minimum": 0},
            "defaults": {"description": "Rules applied to every cluster, before the cluster's own rules.",
                         "$ref": "#/$defs/rules"},
            "clusters": {"description": "Per-cluster rules, keyed by cluster name (e.g. k8s-dev).",
                         "type": "object", "propertyNames": {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                         "additionalProperties": {"$ref": "#/$defs/rules"}},
        },
        "$defs": {
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            "text": {"type": "string", "minLength": 1, "pattern": "\\S"},
            "rule": _rule_schema(),
        },
    }


def schema_text() -> str:
    """The schema as written to the checked-in files."""
    return json.dumps(assemble_schema(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Write the schema files (run from the repository root)."""
    text = schema_text()
    for path in (PACKAGED, Path(argv[0]) if argv else REPOSITORY):
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
