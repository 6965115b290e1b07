"""``yaml_remove``: the JSON ``pointers`` are removed from every document (of ``match_kind``, if given)
on both sides before comparing.

For each document, the pointers of every rule whose ``match_kind`` accepts it are resolved against the
unmodified document and then removed together, so rule order and list-index shifts never change what a
pointer names. A rule *made a difference* (so it is not stale) when what it removed differs between the
sides (a value on one side only, or two different values); removing equal values changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harness.pointers import Pointer, PointerError, parse_pointer, remove_all, resolve
from harness.redact import fingerprint
from harness.rules.base import Facts, Role, Rule, RuleError, RuleKind

# Pointers under these stay harmless on a security-relevant object: they do not change what it enforces.
HARMLESS_PREFIXES = (("metadata", "annotations"), ("metadata", "labels"))


@dataclass(frozen=True)
class KindFilter:
    """``match_kind``: a kind, optionally with its apiVersion."""

    kind: str
    api_version: str | None = None

    @classmethod
    def parse(cls, text: str) -> KindFilter:
        """``Kustomization`` or ``source.toolkit.fluxcd.io/v1/GitRepository`` or ``v1/Secret``."""
        api, _, kind = text.rpartition("/")
        return cls(kind=kind, api_version=api or None)

    def matches(self, doc: Any) -> bool:
        """Whether a parsed document is of this kind."""
        if not isinstance(doc, dict) or doc.get("kind") != self.kind:
            return False
        return self.api_version is None or doc.get("apiVersion") == self.api_version

    def text(self) -> str:
        """As written in the inventory."""
        return f"{self.api_version}/{self.kind}" if self.api_version else self.kind


@dataclass(frozen=True)
class YamlRemoveParams:
    """The pointers to remove and the optional document filter."""

    pointers: tuple[Pointer, ...]
    match_kind: KindFilter | None = None

    def accepts(self, doc: Any) -> bool:
        """Whether the rule applies to this document."""
        return self.match_kind is None or self.match_kind.matches(doc)

    def to_dict(self) -> dict[str, Any]:
        """As written in the inventory."""
        data: dict[str, Any] = {"pointers": [p.text for p in self.pointers]}
        if self.match_kind is not None:
            data["match_kind"] = self.match_kind.text()
        return data


@dataclass
class Removals:
    """What rules removed from one side: rule id -> Counter of (pointer, value fingerprint)."""

    by_rule: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)

    def add(self, rule_id: str, pointer: Pointer, value: Any) -> None:
        """Record one removed value."""
        self.by_rule.setdefault(rule_id, Counter())[(pointer.text, fingerprint(value))] += 1


def remove_pointers(docs: list[Any], rules: Sequence[Rule]) -> Removals:
    """Apply ``yaml_remove`` rules to parsed documents in place (see the module docstring)."""
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


def _harmless(tokens: tuple[str, ...]) -> bool:
    return any(tokens[:len(p)] == p for p in HARMLESS_PREFIXES)


class YamlRemove(RuleKind):
    """Remove JSON pointers from both sides."""

    name = "yaml_remove"
    role = Role.NORMALIZE
    summary = ("the JSON `pointers` are removed from every document (of `match_kind`, if given) on both sides "
               "before comparing")
    properties: ClassVar[Mapping[str, Any]] = {
        "pointers": {"description": "yaml_remove only: RFC 6901 JSON pointers removed on both sides before comparing.",
                     "type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^/"}},
        "match_kind": {"description": "yaml_remove only: only documents of this kind (`Kustomization`) or "
                                      "apiVersion/kind (`source.toolkit.fluxcd.io/v1/GitRepository`).",
                       "type": "string", "pattern": "^([A-Za-z0-9.-]+/){0,2}[A-Za-z][A-Za-z0-9]*$"},
    }
    required: ClassVar[tuple[str, ...]] = ("pointers",)
    guards_update = False  # the rest of the file is still compared, so the update may write it

    def parse(self, item: Mapping[str, Any]) -> YamlRemoveParams:
        pointers: list[Pointer] = []
        for index, text in enumerate(item.get("pointers") or []):
            try:
                pointers.append(parse_pointer(str(text)))
            except PointerError as exc:
                raise RuleError(f"bad JSON pointer {str(text)[:80]!r}: {exc}", key=("pointers", index),
                                hint="RFC 6901: /a/b~1c/0 (~0 is '~', ~1 is '/')") from None
        match_kind = KindFilter.parse(str(item["match_kind"])) if item.get("match_kind") else None
        return YamlRemoveParams(tuple(pointers), match_kind)

    def hides(self, rule: Rule, doc: Any, at: tuple[str, ...] = ()) -> bool:
        """Whether a pointer removes (part of) the object at ``at`` inside ``doc`` beyond its annotations and
        labels, or the object itself; ``doc`` None (a file such as ``.sops.yaml``): any pointer."""
        if doc is None:  # judged by the pointers alone
            return any(not _harmless(p.tokens) for p in rule.pointers)
        if not rule.applies_to_doc(doc):
            return False
        for pointer in rule.pointers:
            tokens = pointer.tokens
            if tokens[:len(at)] == at:
                if _harmless(tokens[len(at):]):
                    continue
            elif at[:len(tokens)] != tokens:
                continue  # elsewhere in the document
            if resolve(doc, pointer)[0]:
                return True
        return False

    def explain(self, rule: Rule, facts: Facts) -> tuple[bool, str]:
        if rule.id in facts.effective:
            return True, "removed values that differ between the sides"
        if facts.has_rendered and facts.has_fixture:
            return False, "removed nothing, or equal values on both sides"
        return False, "the file is not on both sides"

    def normalize(self, rules: tuple[Rule, ...], rendered: list[Any], fixture: list[Any]) -> set[str]:
        return effective_removals(remove_pointers(rendered, rules), remove_pointers(fixture, rules))
