"""``path_only``: the file must exist on both sides; its content is not compared (a budgeted rule)."""

from __future__ import annotations

from harness.rules.base import Facts, Role, Rule, RuleKind


class PathOnly(RuleKind):
    """Compare presence only."""

    name = "path_only"
    role = Role.PRESENCE_ONLY
    summary = "the file must exist on both sides; its content is not compared (counted against path_only_budget)"

    def explain(self, rule: Rule, facts: Facts) -> tuple[bool, str]:
        if not (facts.has_rendered or facts.has_fixture):
            return False, "no file on either side"
        if facts.has_rendered and facts.has_fixture and facts.differs is False:
            return False, "both sides are equal anyway: the rule is unnecessary for this file"
        return True, "only presence is compared"
