"""Canonicalization rules applied to paths and documents: one small function per normalization.

Which path each rule kind is matched against:
- ``ignore_rendered``: rendered paths (before aliasing);
- ``alias``: the exact rendered path; the file is then compared with the fixture path ``to``;
- ``ignore_fixture``: fixture paths;
- ``path_only`` and ``yaml_remove``: the file pair, i.e. the fixture path or the rendered path.

A rule counts as *matched* (so it is not stale) when:
- ``ignore_rendered`` / ``ignore_fixture`` / ``alias``: it matched a renderer-owned file on its side;
- ``path_only``: it matched a file present on either side, unless both sides exist and compare equal
  anyway (then the rule is unnecessary, and so stale);
- ``yaml_remove``: it removed a value on at least one side *and* what it removed differs between the
  sides (a value on one side only, or two different values); removing equal values changes nothing,
  so such a rule is stale and the inventory shrinks honestly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.inventory import Rule, RuleSet
from harness.pointers import Pointer, remove_all
from harness.redact import fingerprint


@dataclass(frozen=True)
class RenderedPath:
    """Where a rendered file goes: ``key`` is the fixture-side path it is compared with (None: ignored)."""

    path: str
    key: str | None
    rules: tuple[Rule, ...] = ()


def map_rendered(ruleset: RuleSet, path: str) -> RenderedPath:
    """Apply ``ignore_rendered`` then ``alias`` to one rendered path."""
    ignored = ruleset.ignored_rendered_by(path)
    if ignored:
        return RenderedPath(path, None, tuple(ignored))
    alias = ruleset.alias_rule(path)
    if alias is not None and alias.to is not None:
        return RenderedPath(path, alias.to, (alias,))
    return RenderedPath(path, path)


def ignored_fixture(ruleset: RuleSet, path: str) -> tuple[Rule, ...]:
    """The ``ignore_fixture`` rules that drop this fixture path (empty: it is compared)."""
    return tuple(ruleset.ignored_fixture_by(path))


def _pair_rules(ruleset: RuleSet, found: Sequence[Rule], more: Sequence[Rule]) -> tuple[Rule, ...]:
    if not found and not more:  # the common case: no rule for this file pair
        return ()
    unique = {r.id: r for r in (*found, *more)}
    return tuple(sorted(unique.values(), key=lambda r: ruleset.position(r.id)))


def path_only_rules(ruleset: RuleSet, fixture_path: str, rendered_path: str | None = None) -> tuple[Rule, ...]:
    """``path_only`` rules for a file pair (matched on the fixture path or the rendered path)."""
    more = ruleset.path_only_rules(rendered_path) if rendered_path and rendered_path != fixture_path else []
    return _pair_rules(ruleset, ruleset.path_only_rules(fixture_path), more)


def yaml_remove_rules(ruleset: RuleSet, fixture_path: str, rendered_path: str | None = None) -> tuple[Rule, ...]:
    """``yaml_remove`` rules for a file pair (matched on the fixture path or the rendered path), in order."""
    more = ruleset.yaml_removals(rendered_path) if rendered_path and rendered_path != fixture_path else []
    return _pair_rules(ruleset, ruleset.yaml_removals(fixture_path), more)


@dataclass
class Removals:
    """What ``yaml_remove`` rules removed from one side: rule id -> Counter of (pointer, value fingerprint)."""

    by_rule: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)

    def add(self, rule_id: str, pointer: Pointer, value: Any) -> None:
        """Record one removed value."""
        self.by_rule.setdefault(rule_id, Counter())[(pointer.text, fingerprint(value))] += 1


def remove_pointers(docs: list[Any], rules: Sequence[Rule]) -> Removals:
    """Apply ``yaml_remove`` rules to parsed documents in place.

    For each document, the pointers of every rule whose ``match_kind`` accepts it are resolved against
    the unmodified document and then removed together, so rule order and list-index shifts never
    change what a pointer names.
    """
    removals = Removals()
    for doc in docs:
        owners: list[str] = []
        pointers: list[Pointer] = []
        for rule in rules:
            if rule.applies_to_doc(doc):
                owners.extend(rule.id for _ in rule.pointers)
                pointers.extend(rule.pointers)
        if not pointers:
            continue
        for position, value in remove_all(doc, pointers):
            removals.add(owners[position], pointers[position], value)
    return removals


def effective_removals(rendered: Removals, fixture: Removals) -> set[str]:
    """Ids of rules whose removals differ between the two sides (the rules that made a difference)."""
    ids = set(rendered.by_rule) | set(fixture.by_rule)
    return {i for i in ids if rendered.by_rule.get(i, Counter()) != fixture.by_rule.get(i, Counter())}


class YamlRemoveNormalizer:
    """A ``yamlcompare`` normalizer applying ``yaml_remove`` rules to both sides; afterwards
    :attr:`effective` holds the ids of the rules that made a difference."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self.effective: set[str] = set()

    def __call__(self, rendered_docs: list[Any], fixture_docs: list[Any]) -> None:
        rendered = remove_pointers(rendered_docs, self.rules)
        fixture = remove_pointers(fixture_docs, self.rules)
        self.effective = effective_removals(rendered, fixture)
