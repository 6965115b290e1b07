"""Bounded descriptor conditions: one config field, one operator, no nesting, no combinators.

A condition is ``{field: <dotted path>, op: equals|exists|true|false, value: <scalar>}``:

- ``equals``  the field exists and holds ``value`` (same type: ``1`` never equals ``true`` or ``"1"``);
- ``exists``  the field is present and not null;
- ``true``    the field is present and is the boolean ``true``;
- ``false``   the field is present and is the boolean ``false`` (an absent field is *not* false).

Field paths are validated against the config schema when a descriptor is loaded (fail-closed).
Evaluation returns ``(result, reason)``; the reason names the field and the value it found, except
for fields under ``secrets`` whose values are always shown as ``<redacted sha256:...>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import InputError
from harness.redact import masked as redacted
from renderer.config import get_field

OPERATORS = ("equals", "exists", "true", "false")
KEYS = ("field", "op", "value")
FIELD_PATTERN = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
MASKED_SECTION = "secrets"  # every field below it is masked

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    """One parsed, validated condition (``value`` only for ``equals``)."""

    field: str
    op: str
    value: Scalar | None = None
    line: int = 0

    def describe(self) -> str:
        """The condition as text, e.g. ``opencenter.meta.region equals 'ord1'`` (secret values masked)."""
        if self.op == "equals":
            return f"{self.field} equals {show_value(self.field, self.value)}"
        if self.op == "exists":
            return f"{self.field} exists"
        return f"{self.field} is {self.op}"


def is_secret_field(dotted: str) -> bool:
    """True for ``secrets`` and every field below it: their values never appear in any output."""
    return dotted == MASKED_SECTION or dotted.startswith(MASKED_SECTION + ".")


def masked(dotted: str, value: Any) -> Any:
    """``value`` as it may appear in diagnostics: ``<redacted sha256:...>`` for secret fields."""
    if is_secret_field(dotted) and value is not None:
        return redacted(value)
    return value


def show_value(dotted: str, value: Any) -> str:
    """A short, log-safe rendering of a config value (secrets masked, containers summarised)."""
    if is_secret_field(dotted) and value is not None:
        return str(redacted(value))
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        text = value if len(value) <= 80 else value[:77] + "..."
        return "'" + text.replace("\n", "\\n") + "'"
    if isinstance(value, Mapping):
        return f"<mapping of {len(value)} keys>"
    if isinstance(value, list | tuple):
        return f"<list of {len(value)} items>"
    return f"<{type(value).__name__}>"


def parse_condition(raw: Any, *, file: str, line: int, has_field: Callable[[str], bool],
                    where: str = "condition") -> Condition:
    """Validate one raw condition mapping; any problem is a DESCRIPTOR-INVALID error at ``file:line``."""

    def bad(message: str, hint: str, at: int = line) -> InputError:
        return InputError("DESCRIPTOR-INVALID", f"{where}: {message}", file=file, line=at, hint=hint)

    if not isinstance(raw, Mapping):
        raise bad("must be a mapping {field, op, value?}", "write e.g. {field: opencenter.x.enabled, op: \"true\"}")
    lines = getattr(raw, "lc", None)

    def line_of(key: str) -> int:
        try:
            return int(lines.key(key)[0]) + 1 if lines is not None else line
        except (KeyError, AttributeError, TypeError):
            return line

    for key in raw:
        if key not in KEYS:
            raise bad(f"unknown key '{key}'", "a condition has exactly field, op and (for equals) value",
                      line_of(str(key)))
    field = raw.get("field")
    op = raw.get("op")
    if not isinstance(field, str) or not field:
        raise bad("needs a 'field' (a dotted config path)", "e.g. field: opencenter.services.harbor.enabled")
    if not FIELD_PATTERN.fullmatch(field):
        raise bad(f"ill-formed field path '{field[:80]}'", "dotted segments of [a-z0-9_-], e.g. opencenter.meta.region",
                  line_of("field"))
    if not has_field(field):
        raise bad(f"unknown field '{field}' (not in the cluster config schema)",
                  "use a field defined in renderer/schema/cluster-config.schema.json", line_of("field"))
    if isinstance(op, bool):  # a YAML 1.1 reader turns unquoted true/false into booleans
        op = "true" if op else "false"
    if op not in OPERATORS:
        shown = op if isinstance(op, str) else type(op).__name__
        raise bad(f"unknown operator '{str(shown)[:40]}'", "op is one of equals, exists, true, false",
                  line_of("op") if "op" in raw else line)
    if op == "equals":
        if "value" not in raw:
            raise bad("operator 'equals' needs a 'value'", "add value: <scalar>")
        value = raw["value"]
        if value is None or not isinstance(value, str | int | float | bool):
            raise bad("'value' must be a string, number or boolean", "use exists to test presence",
                      line_of("value"))
        return Condition(field, op, value, line)
    if "value" in raw:
        raise bad(f"operator '{op}' takes no 'value'", "remove value, or use op: equals", line_of("value"))
    return Condition(field, str(op), None, line)


def _same(actual: Any, expected: Scalar | None) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return actual == expected
    return type(actual) is type(expected) and actual == expected


def evaluate(condition: Condition, data: Mapping[str, Any]) -> tuple[bool, str]:
    """Evaluate against the validated config mapping: ``(result, reason naming field and value)``."""
    exists, value = get_field(data, condition.field)
    name = condition.field
    if not exists:
        return False, f"{name} is absent"
    shown = show_value(name, value)
    if condition.op == "exists":
        if value is None:
            return False, f"{name} is null"
        return True, f"{name} exists"
    if condition.op in ("true", "false"):
        wanted = condition.op == "true"
        if not isinstance(value, bool):
            return False, f"{name} is {shown}, not a boolean"
        return value is wanted, f"{name} is {shown}"
    expected = show_value(name, condition.value)
    if _same(value, condition.value):
        return True, f"{name} is {shown}"
    return False, f"{name} is {shown}, not {expected}"
