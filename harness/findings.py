"""Findings: what every check returns. Data only; reporting lives in :mod:`harness.report`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How a finding affects the exit code: errors fail the gate, warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One problem found by a check.

    ``diff`` lines and ``message`` must already be redacted: no secret value ever enters a Finding.
    """

    code: str
    message: str
    check: str = ""
    cluster: str = ""
    path: str = ""
    line: int = 0
    hint: str = ""
    owner: str = ""
    rules: tuple[str, ...] = ()
    diff: tuple[str, ...] = ()
    severity: Severity = Severity.ERROR
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (stable key order)."""
        data = asdict(self)
        data["severity"] = self.severity.value
        data["rules"] = list(self.rules)
        data["diff"] = list(self.diff)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict` (used when merging shard reports)."""
        values = dict(data)
        values["severity"] = Severity(values.get("severity", "error"))
        values["rules"] = tuple(values.get("rules", ()))
        values["diff"] = tuple(values.get("diff", ()))
        return cls(**values)


def failing(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail the gate."""
    return [f for f in findings if f.severity is Severity.ERROR]
