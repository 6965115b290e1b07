"""``alias``: the rendered file ``path`` is compared with the fixture file ``to`` (both literal paths)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.globs import has_magic
from harness.rules.base import Facts, Role, Rule, RuleError, RuleKind


@dataclass(frozen=True)
class AliasParams:
    """The fixture path the rendered path is compared with."""

    to: str

    def to_dict(self) -> dict[str, Any]:
        """As written in the inventory."""
        return {"to": self.to}


def clean_literal(text: str, what: str) -> str:
    """A literal relative file path (a leading ``/`` is dropped); raises ValueError with a reason."""
    value = text[1:] if text.startswith("/") else text
    if has_magic(value):
        raise ValueError(f"{what} must be a literal file path, not a glob")
    if value.endswith("/") or not value:
        raise ValueError(f"{what} must name a file, not a directory")
    if any(seg in ("", ".", "..") for seg in value.split("/")):
        raise ValueError(f"{what} must be a clean relative path (no '//', '.', '..')")
    return value


class Alias(RuleKind):
    """Rendered ``path`` -> fixture ``to``."""

    name = "alias"
    role = Role.MAP_RENDERED
    summary = "the rendered file `path` is compared with the fixture file `to` (both literal paths)"
    literal_path = True
    properties: ClassVar[Mapping[str, Any]] = {
        "to": {"description": "alias only: the literal fixture path the rendered path is compared with.",
               "type": "string", "minLength": 1}}
    required: ClassVar[tuple[str, ...]] = ("to",)
    guards_update = False  # an alias says where to write, it hides nothing

    def parse(self, item: Mapping[str, Any]) -> AliasParams:
        try:
            path = clean_literal(str(item["path"]), "alias path")
        except ValueError as exc:
            raise RuleError(str(exc), key=("path",)) from None
        try:
            to = clean_literal(str(item["to"]), "alias to")
        except ValueError as exc:
            raise RuleError(str(exc), key=("to",)) from None
        if path == to:
            raise RuleError("alias maps a path onto itself", key=("to",))
        return AliasParams(to)

    def hides(self, rule: Rule, doc: Any, at: tuple[str, ...] = ()) -> bool:
        return False  # the file is still compared in full, under another name

    def explain(self, rule: Rule, facts: Facts) -> tuple[bool, str]:
        if facts.has_rendered:
            return True, "the rendered file exists"
        return False, "the renderer does not produce it"
