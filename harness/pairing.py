"""Rendered path <-> fixture path under the rules, and the verdict for a pair: the one place that decides.

``check`` (:func:`harness.parity.compare_cluster`), ``--update`` (:mod:`harness.update`), ``diff`` and
``explain`` all ask this module; none re-derives a pairing or words a verdict itself. Rules are read by
role (:class:`harness.rules.Role`), never by kind name:

1. a rendered path is dropped by a ``DROP_RENDERED`` rule, else mapped by a ``MAP_RENDERED`` rule (alias)
   onto a fixture path; its *key* is the fixture-side path it is compared with. An explicit alias wins
   a key over a same-named rendered file, which is then *shadowed* (reported, not compared);
2. a fixture path is dropped by a ``DROP_FIXTURE`` rule, else it is a key;
3. every key is a :class:`Pair`: the rendered file (if any), whether the fixture has it, and the
   ``PRESENCE_ONLY`` and ``NORMALIZE`` rules matched on the fixture path or the rendered path;
4. :func:`verdict` turns a pair and its content comparison into the finding code, message and hint
   that ``check`` reports and ``explain``/``diff`` print, and the ids of the rules that made a
   difference (a rule that never does is stale).

With ``keep_dropped`` (``--update``) nothing is dropped: each pair carries the drop rules that would have
removed one of its sides, so the update can refuse to touch it unless forced.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from harness.findings import Severity
from harness.inventory import RuleSet
from harness.rules import Role, Rule, kind_of
from harness.yamlcompare import FileComparison

HINT_MISSING = ("the renderer no longer produces this file: fix or enable its descriptor, or add an approved "
                "ignore_fixture rule")
HINT_UNEXPECTED = ("the fixture has no such file: add it to the fixture (--update), fix the descriptor "
                   "condition, or add an approved ignore_rendered/alias rule")
HINT_CONTENT = ("fix the template or descriptor, update the fixture (--update), or add an approved "
                "yaml_remove rule; diff lines read fixture → rendered")
HINT_PARSE = "fix the YAML; parity never falls back to comparing bytes of a file that does not parse"
HINT_REORDERED = ("documents are matched by identity (apiVersion, kind, namespace, name), so their order is not a "
                  "difference; Flux applies them in dependency order. Reorder the fixture to silence this note")

MISSING, UNEXPECTED, CONTENT, PARSE, REORDERED = (
    "PARITY-MISSING", "PARITY-UNEXPECTED", "PARITY-CONTENT", "PARITY-PARSE", "PARITY-REORDERED")


def _ids(rules: Iterable[Rule]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.id for r in rules))


@dataclass(frozen=True)
class Pair:
    """One fixture-side key and what is compared there. ``rendered_path`` is '' when the renderer produces no
    file for the key; ``dropped`` (only with ``keep_dropped``) holds the drop rules that would have removed a
    side."""

    key: str
    rendered_path: str
    in_fixture: bool
    mapping: tuple[Rule, ...] = ()
    presence_only: tuple[Rule, ...] = ()
    normalize: tuple[Rule, ...] = ()
    dropped: tuple[Rule, ...] = ()

    @property
    def fixture_path(self) -> str:
        """The fixture-side path (the key)."""
        return self.key

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule applied to the pair (mapping, presence-only, normalizing, dropping), without duplicates."""
        seen: dict[str, Rule] = {}
        for rule in (*self.mapping, *self.presence_only, *self.normalize, *self.dropped):
            seen.setdefault(rule.id, rule)
        return tuple(seen.values())

    @property
    def content_rules(self) -> tuple[Rule, ...]:
        """The normalizing rules that apply to the content (none when only presence is compared)."""
        return () if self.presence_only else self.normalize


@dataclass(frozen=True)
class Dropped:
    """A path a drop rule removed from one side (``side``: ``rendered`` or ``fixture``)."""

    path: str
    side: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Shadowed:
    """A rendered file whose key an alias onto the same fixture path took: it is reported, not compared."""

    rendered_path: str
    key: str
    winner: Pair

    @property
    def message(self) -> str:
        """The finding's message."""
        alias = self.winner.mapping[0].id if self.winner.mapping else "?"
        return (f"rendered file is also the target of alias rule {alias} (from {self.winner.rendered_path}), so it "
                "is not compared")


@dataclass
class Pairing:
    """The pairing of one rendered tree with one fixture tree (see the module docstring)."""

    pairs: list[Pair] = field(default_factory=list)  # sorted by key
    dropped: list[Dropped] = field(default_factory=list)
    shadowed: list[Shadowed] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)  # mapping and drop rules that matched a file

    def pair_for(self, key: str) -> Pair | None:
        """The pair at a fixture-side key."""
        return next((p for p in self.pairs if p.key == key), None)

    def concerning(self, path: str) -> PathView:
        """Everything the pairing says about ``path``, given on either side."""
        return PathView(path=path,
                        pairs=tuple(p for p in self.pairs if path in (p.key, p.rendered_path)),
                        dropped=tuple(d for d in self.dropped if d.path == path),
                        shadowed=tuple(s for s in self.shadowed if path in (s.key, s.rendered_path)))


@dataclass(frozen=True)
class PathView:
    """The pairs, drops and shadowings one path takes part in."""

    path: str
    pairs: tuple[Pair, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    shadowed: tuple[Shadowed, ...] = ()

    @property
    def pair(self) -> Pair | None:
        """The pair the path is compared in: the one keyed by it, else the one it is the rendered side of."""
        return next((p for p in self.pairs if p.key == self.path), None) or next(iter(self.pairs), None)


RulesAt = Callable[[str], dict[Role, list[Rule]]]


def _rules_at(ruleset: RuleSet) -> RulesAt:
    """A memoized lookup of the glob rules matching a path, by role, each in resolution order (one regex
    search of every glob rule per path, however many roles are asked for)."""
    found: dict[str, dict[Role, list[Rule]]] = {}

    def rules_at(path: str) -> dict[Role, list[Rule]]:
        roles = found.get(path)
        if roles is None:
            roles = {}
            for rule in ruleset.matching_any(path):
                roles.setdefault(kind_of(rule.kind).role, []).append(rule)
            found[path] = roles
        return roles

    return rules_at


def _content_rules(ruleset: RuleSet, rules_at: RulesAt, key: str,
                   rendered_path: str) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    """The ``PRESENCE_ONLY`` and ``NORMALIZE`` rules matched on the key or the rendered path, each in resolution
    order."""
    sides = [rules_at(key)]
    if rendered_path and rendered_path != key:
        sides.append(rules_at(rendered_path))

    def merged(role: Role) -> tuple[Rule, ...]:
        rules = [r for side in sides for r in side.get(role, ())]
        if len(sides) == 1 or not rules:
            return tuple(rules)
        return tuple(sorted({r.id: r for r in rules}.values(), key=lambda r: ruleset.position(r.id)))

    return merged(Role.PRESENCE_ONLY), merged(Role.NORMALIZE)


def pair_trees(ruleset: RuleSet, rendered: Collection[str], fixture: Collection[str], *,
               keep_dropped: bool = False) -> Pairing:
    """Pair the renderer-owned paths of a rendered tree with those of its fixture tree under ``ruleset``.

    Paths no rule concerns (nearly all of them) skip every rule lookup: one set of regex searches per tree.
    """
    pairing = Pairing()
    concerned = ruleset.concerned({*rendered, *fixture})
    rules_at = _rules_at(ruleset)
    by_key: dict[str, tuple[str, tuple[Rule, ...], tuple[Rule, ...]]] = {}
    shadowed: list[tuple[str, str]] = []  # (rendered path, key)
    for path in rendered:
        if path not in concerned:
            by_key[path] = (path, (), ())
            continue
        drop = tuple(rules_at(path).get(Role.DROP_RENDERED, ()))
        pairing.matched.update(r.id for r in drop)
        if drop and not keep_dropped:
            pairing.dropped.append(Dropped(path, "rendered", drop))
            continue
        alias = None if drop else ruleset.alias_rule(path)
        mapping: tuple[Rule, ...] = (alias,) if alias is not None else ()
        pairing.matched.update(r.id for r in mapping)
        key = alias.to if alias is not None and alias.to is not None else path
        previous = by_key.get(key)
        if previous is None:
            by_key[key] = (path, mapping, drop)
            continue
        # Two aliases onto one path are a load-time conflict, so exactly one of the two is aliased.
        winner, loser = ((path, mapping, drop), previous) if mapping else (previous, (path, mapping, drop))
        by_key[key] = winner
        shadowed.append((loser[0], key))
    fixture_keys: dict[str, tuple[Rule, ...]] = {}
    for path in fixture:
        if path not in concerned:  # the common case
            fixture_keys[path] = ()
            continue
        drop = tuple(rules_at(path).get(Role.DROP_FIXTURE, ()))
        if drop:
            pairing.matched.update(r.id for r in drop)
            if not keep_dropped:
                pairing.dropped.append(Dropped(path, "fixture", drop))
                continue
        fixture_keys[path] = drop
    missing = ("", (), ())
    pairs = pairing.pairs
    for key in sorted(fixture_keys.keys() | by_key.keys()):
        rendered_path, mapping, drop = by_key.get(key, missing)
        fixture_drop = fixture_keys.get(key)
        if not (mapping or drop or fixture_drop or key in concerned or rendered_path in concerned):
            pairs.append(Pair(key, rendered_path, fixture_drop is not None))  # no rule concerns the pair
            continue
        only, normalize = _content_rules(ruleset, rules_at, key, rendered_path)
        pairs.append(Pair(key, rendered_path, fixture_drop is not None, mapping, only, normalize,
                          (*drop, *(fixture_drop or ()))))
    if shadowed:
        keyed = {p.key: p for p in pairing.pairs}
        pairing.shadowed = [Shadowed(path, key, keyed[key]) for path, key in shadowed]
    return pairing


@dataclass(frozen=True)
class Verdict:
    """What the check concludes for one pair: ``code`` None when it is accepted (``accepted`` says why)."""

    code: str | None
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR
    rules: tuple[Rule, ...] = ()  # the rules applied to the pair (reported with a finding)
    matched: frozenset[str] = frozenset()  # the rules that made a difference here
    accepted: str = ""

    @property
    def summary(self) -> str:
        """One line for ``explain``/``diff``: ``PARITY-CONTENT: ...`` or ``accepted: ...``."""
        if self.code is None:
            return self.accepted
        return f"{self.code}: {self.message}"


def verdict(pair: Pair, comparison: FileComparison | None = None, effective: Iterable[str] = ()) -> Verdict:
    """The verdict for a pair; ``comparison`` (with the ids of the normalizing rules that made a difference,
    ``effective``) is needed when both sides exist."""
    applied = (*pair.mapping, *pair.presence_only, *pair.normalize)
    only = frozenset(r.id for r in pair.presence_only)
    if not pair.rendered_path:
        return Verdict(MISSING, "renderer-owned fixture file is not rendered", HINT_MISSING, rules=applied,
                       matched=only)
    if not pair.in_fixture:
        via = f" (rendered as {pair.rendered_path}, aliased)" if pair.mapping else ""
        return Verdict(UNEXPECTED, f"rendered file is not in the fixture{via}", HINT_UNEXPECTED, rules=applied,
                       matched=only)
    if comparison is None:
        raise ValueError("a pair with both sides needs its comparison")
    if pair.presence_only:
        return Verdict(None, "", rules=applied, matched=frozenset() if comparison.equal else only,
                       accepted=f"accepted: path_only {', '.join(_ids(pair.presence_only))} "
                                "(only presence is compared)")
    matched = frozenset(effective)
    if comparison.parse_failures:
        sides = " and ".join(p.side for p in comparison.parse_failures)
        return Verdict(PARSE, f"does not parse as YAML on the {sides} side", HINT_PARSE, rules=applied,
                       matched=matched)
    if not comparison.equal:
        count = len(comparison.changes)
        what = f"{count} change{'s' if count != 1 else ''}" if comparison.parsed else "bytes differ"
        return Verdict(CONTENT, f"rendered file differs from the fixture ({what})", HINT_CONTENT, rules=applied,
                       matched=matched)
    after = f" after {', '.join(dict.fromkeys(r.kind for r in pair.normalize))} rules" if pair.normalize else ""
    if comparison.reordered:
        return Verdict(REORDERED, f"documents are in another order than in the fixture (equal as data{after})",
                       HINT_REORDERED, Severity.NOTE, rules=applied, matched=matched, accepted=f"equal{after}")
    return Verdict(None, "", rules=applied, matched=matched, accepted=f"equal{after}")


def dropped_verdict(dropped: Dropped) -> Verdict:
    """The verdict for a file a drop rule removed: not compared."""
    return Verdict(None, "", rules=dropped.rules, matched=frozenset(r.id for r in dropped.rules),
                   accepted=f"not compared: ignored by {', '.join(_ids(dropped.rules))}")
