"""Flags as each face spells them. Library text (hints, update reasons, usage errors) names flags the way
the command line spells them (``--update``); the pytest face words that text its own way
(``--parity-update``) with :func:`in_pytest_flags` before it prints or reports it, so every hint names a
flag of the face that shows it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.findings import Finding
    from harness.report import CheckResult

# CLI flag -> the pytest plugin's flag for the same request.
CLI_TO_PYTEST = {
    "--update": "--parity-update", "--update-force": "--parity-update-force", "--cluster": "--parity-cluster",
    "--fixture": "--parity-fixture", "--inventory": "--parity-inventory", "--renderer": "--parity-renderer",
    "--shard": "--parity-shard",
}
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w-])")


def in_pytest_flags(text: str) -> str:
    """``text`` with every CLI flag that has a pytest counterpart replaced by it."""
    return _FLAG.sub(lambda m: CLI_TO_PYTEST.get(m.group(), m.group()), text) if "--" in text else text


def finding_for_pytest(finding: Finding) -> Finding:
    """The finding with its message and hint in the pytest face's flags."""
    return replace(finding, message=in_pytest_flags(finding.message), hint=in_pytest_flags(finding.hint))


def result_for_pytest(result: CheckResult) -> CheckResult:
    """The result with its findings and update reasons in the pytest face's flags."""
    notes: dict[str, Any] = result.notes
    if notes.get("updates"):
        notes = dict(notes, updates=[dict(change, reason=in_pytest_flags(str(change.get("reason", ""))))
                                     for change in notes["updates"]])
    return replace(result, findings=[finding_for_pytest(f) for f in result.findings], notes=notes)
