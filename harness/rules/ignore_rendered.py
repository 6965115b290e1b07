"""``ignore_rendered``: rendered files matching ``path`` are dropped from the comparison."""

from __future__ import annotations

from harness.rules.base import Facts, Role, Rule, RuleKind


class IgnoreRendered(RuleKind):
    """Drop rendered files."""

    name = "ignore_rendered"
    role = Role.DROP_RENDERED
    summary = "rendered files matching `path` are dropped from the comparison"

    def explain(self, rule: Rule, facts: Facts) -> tuple[bool, str]:
        if facts.has_rendered:
            return True, "drops the rendered file"
        return False, "nothing rendered to drop"
