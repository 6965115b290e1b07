"""The registry of canonicalization rule kinds: one module per kind, one line per kind below.

The inventory loader, the inventory JSON Schema (:mod:`harness.rules.schema`), the pairing
(:mod:`harness.pairing`), ``--update`` and ``explain`` read this registry; none of them names a kind.
See docs/contracts.md, "Adding a rule kind".
"""

from __future__ import annotations

from harness.rules.alias import Alias
from harness.rules.base import Facts, Role, Rule, RuleError, RuleKind, Waiver
from harness.rules.ignore_fixture import IgnoreFixture
from harness.rules.ignore_rendered import IgnoreRendered
from harness.rules.path_only import PathOnly
from harness.rules.yaml_remove import YamlRemove

REGISTRY: dict[str, RuleKind] = {kind.name: kind for kind in (
    Alias(),
    IgnoreRendered(),
    IgnoreFixture(),
    PathOnly(),
    YamlRemove(),
)}
RULE_KINDS = tuple(REGISTRY)

__all__ = ["REGISTRY", "RULE_KINDS", "Facts", "Role", "Rule", "RuleError", "RuleKind", "Waiver", "kind_of",
           "kinds_with_role"]


def kind_of(name: str) -> RuleKind:
    """The registered kind called ``name`` (KeyError if none; the schema refuses unknown kinds first)."""
    return REGISTRY[name]


def kinds_with_role(role: Role) -> tuple[str, ...]:
    """Names of the kinds with this role, in registry order."""
    return tuple(name for name, kind in REGISTRY.items() if kind.role is role)
