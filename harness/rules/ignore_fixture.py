"""``ignore_fixture``: fixture files matching ``path`` are dropped from the comparison."""

from __future__ import annotations

from harness.rules.base import Facts, Role, Rule, RuleKind


class IgnoreFixture(RuleKind):
    """Drop fixture files."""

    name = "ignore_fixture"
    role = Role.DROP_FIXTURE
    summary = "fixture files matching `path` are dropped from the comparison"

    def explain(self, rule: Rule, facts: Facts) -> tuple[bool, str]:
        if facts.has_fixture:
            return True, "drops the fixture file"
        return False, "no fixture file to drop"
