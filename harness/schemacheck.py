"""A yes/no JSON Schema check compiled into plain Python closures, for documents that are valid.

jsonschema 4 takes ~60 ms to import and ~30 ms to validate a 200-rule inventory, a tenth of what a
200-cluster check spends outside rendering, although an inventory is nearly always valid. So
:func:`compile_schema` turns a schema into one function that answers "valid?" at the speed of a few
``isinstance`` calls, and callers trust only its *yes*: on *no* they run jsonschema, which finds and words
every error. The compiler knows the Draft 2020-12 keywords the inventory schema uses, with jsonschema's
semantics (its type checker, ``re.search`` for ``pattern``, bools that are not numbers); a schema with any
other keyword (or a ``$ref`` outside the document, or a non-string ``const``/``enum``) compiles to None, and
the caller validates with jsonschema alone. ``tests/harness/test_schemacheck.py`` holds it equal to
jsonschema on generated documents.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never make a document invalid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default",
                          "deprecated", "readOnly", "writeOnly"})
# Read together with another keyword: "then"/"else" by "if", mere presence elsewhere means nothing.
_COMPANIONS = frozenset({"then", "else"})


class Unsupported(Exception):
    """The schema uses something outside the compiled subset."""


def compile_schema(schema: Mapping[str, Any] | bool) -> Check | None:
    """A function telling whether a document is valid against ``schema``, or None when the schema uses a
    keyword (or a form of one) outside the subset described in the module docstring."""
    try:
        return _Compiler(schema).compile(schema)
    except Unsupported:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {  # jsonschema's Draft 2020-12 type checker
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and v.is_integer())),
}


class _Compiler:
    """Compiles one schema document; local ``$ref`` targets are compiled once, recursion allowed."""

    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        self.root = root
        self.targets: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        """The check of one (sub)schema."""
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        checks = [self.keyword(schema, key, argument) for key, argument in schema.items()
                  if key not in _ANNOTATIONS and key not in _COMPANIONS]
        if len(checks) == 1:
            return checks[0]

        return lambda value: all(check(value) for check in checks)

    def keyword(self, schema: Mapping[str, Any], key: str, argument: Any) -> Check:
        """The check of one keyword of ``schema``."""
        if key == "type":
            names = [argument] if isinstance(argument, str) else list(argument)
            if not all(isinstance(n, str) and n in _TYPES for n in names):
                raise Unsupported(f"type {argument!r}")
            kinds = [_TYPES[n] for n in names]
            return kinds[0] if len(kinds) == 1 else (lambda v: any(kind(v) for kind in kinds))
        if key in ("const", "enum"):
            allowed = [argument] if key == "const" else list(argument)
            if not all(isinstance(a, str) for a in allowed):
                raise Unsupported(f"{key} with values that are not strings")
            return lambda v: isinstance(v, str) and v in allowed
        if key == "required":
            names = list(argument)
            return lambda v: not isinstance(v, dict) or all(name in v for name in names)
        if key == "properties":
            subs = {name: self.compile(sub) for name, sub in argument.items()}
            return lambda v: not isinstance(v, dict) or all(sub(v[name]) for name, sub in subs.items() if name in v)
        if key == "additionalProperties":
            if "patternProperties" in schema:
                raise Unsupported("additionalProperties with patternProperties")
            known = frozenset(schema.get("properties", {}))
            extra = self.compile(argument)
            return lambda v: not isinstance(v, dict) or all(extra(item) for k, item in v.items() if k not in known)
        if key == "propertyNames":
            name_check = self.compile(argument)
            return lambda v: not isinstance(v, dict) or all(name_check(name) for name in v)
        if key == "items":
            if "prefixItems" in schema:
                raise Unsupported("items with prefixItems")
            item_check = self.compile(argument)
            return lambda v: not isinstance(v, list) or all(item_check(item) for item in v)
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= argument
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= argument
        if key == "minimum":
            return lambda v: not _is_number(v) or v >= argument
        if key == "pattern":
            search = re.compile(argument).search
            return lambda v: not isinstance(v, str) or search(v) is not None
        if key == "allOf":
            subs_all = [self.compile(sub) for sub in argument]
            return lambda v: all(sub(v) for sub in subs_all)
        if key == "not":
            negated = self.compile(argument)
            return lambda v: not negated(v)
        if key == "if":
            condition = self.compile(argument)
            then, otherwise = self.compile(schema.get("then", True)), self.compile(schema.get("else", True))
            return lambda v: then(v) if condition(v) else otherwise(v)
        if key == "$ref":
            return self.reference(argument)
        raise Unsupported(f"keyword {key!r}")

    def reference(self, pointer: Any) -> Check:
        """A check that looks its target up when called, so recursive references compile."""
        if not isinstance(pointer, str) or not (pointer == "#" or pointer.startswith("#/")):
            raise Unsupported(f"$ref {pointer!r}")
        if pointer not in self.targets:
            self.targets[pointer] = lambda value: False  # replaced below; only reached by a recursive ref
            node: Any = self.root
            for part in pointer[2:].split("/") if pointer != "#" else ():
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, Mapping) or part not in node:
                    raise Unsupported(f"$ref {pointer!r} points nowhere")
                node = node[part]
            self.targets[pointer] = self.compile(node)
        targets = self.targets
        return lambda value: targets[pointer](value)
