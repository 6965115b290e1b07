"""Document normalization before a YAML comparison: the ``NORMALIZE``-role rules of a file pair, applied
to both sides' parsed documents by their kinds (:mod:`harness.rules`, e.g. ``yaml_remove``).

Which rules apply to which file pair is :mod:`harness.pairing`'s decision; this module only runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.rules import Rule, kind_of


class DocumentNormalizer:
    """A ``yamlcompare`` normalizer running each kind's ``normalize`` over its rules (grouped by kind, in rule
    order); afterwards :attr:`effective` holds the ids of the rules that made a difference."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self.effective: set[str] = set()

    def __call__(self, rendered_docs: list[Any], fixture_docs: list[Any]) -> None:
        by_kind: dict[str, list[Rule]] = {}
        for rule in self.rules:
            by_kind.setdefault(rule.kind, []).append(rule)
        effective: set[str] = set()
        for name, rules in by_kind.items():
            effective |= kind_of(name).normalize(tuple(rules), rendered_docs, fixture_docs)
        self.effective = effective
