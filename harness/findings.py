"""Findings: what every check returns. Data only; reporting lives in :mod:`harness.report`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from harness.errors import InputError, InputErrors


class Severity(StrEnum):
    """How a finding affects the exit code: errors fail the gate, warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Location:
    """A place in the repository: ``file`` is a repository-relative POSIX path of an existing file,
    ``line`` 1-based (0 = unknown), ``role`` what the place is to a finding (see :data:`ROLES`)."""

    file: str
    line: int = 0
    role: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"file": self.file, "line": self.line, "role": self.role}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        """Inverse of :meth:`to_dict`."""
        return cls(file=str(data["file"]), line=int(data.get("line", 0)), role=str(data.get("role", "")))


# What a related location is to its finding.
ROLES = {
    "template": "the template that renders the file",
    "descriptor": "the descriptor that owns the template",
    "inventory-rule": "the canonicalization inventory rule that applied",
    "rendered": "the rendered file",
    "fixture": "the fixture file",
    "kustomization": "the kustomization or Flux Kustomization that includes the file",
}

_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Finding:
    """One problem found by a check.

    ``diff`` lines and ``message`` must already be redacted: no secret value ever enters a Finding.
    ``path`` is how the check names the file (for parity: overlay-relative); ``file`` is the
    repository-relative POSIX path of the existing file the finding anchors at (the fixture file for
    parity, the template or descriptor for coverage, the manifest for policy; "" when unknown) and
    ``line`` the 1-based line in it of the differing key or offending object (0 = unknown).
    ``related`` are further places (the template, the inventory rule, ...), each with a role.
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
    file: str = ""
    related: tuple[Location, ...] = ()

    @property
    def anchor(self) -> str:
        """The file to point a reader at: ``file`` when known, else ``path``."""
        return self.file or self.path

    def stable_fingerprint(self) -> str:
        """A hex digest that identifies this finding across runs: code, check, cluster, anchor file, key
        path, value fingerprint, rule ids and the message with its numbers blanked -- never the line, so a
        finding keeps its identity when the file around it moves."""
        message = "" if self.extra.get("fingerprint") else _DIGITS.sub("#", self.message)
        parts = [self.code, self.check, self.cluster, self.anchor, str(self.extra.get("key_path", "")),
                 str(self.extra.get("fingerprint", "")), ",".join(self.rules), message]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (stable key order)."""
        data = asdict(self)
        data["severity"] = self.severity.value
        data["rules"] = list(self.rules)
        data["diff"] = list(self.diff)
        data["related"] = [r.to_dict() for r in self.related]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict` (used when merging shard reports)."""
        values = dict(data)
        values["severity"] = Severity(values.get("severity", "error"))
        values["rules"] = tuple(values.get("rules", ()))
        values["diff"] = tuple(values.get("diff", ()))
        values["related"] = tuple(Location.from_dict(r) for r in values.get("related", ()))
        return cls(**values)


def failing(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail the gate."""
    return [f for f in findings if f.severity is Severity.ERROR]


def input_error_finding(error: InputError, *, check: str, cluster: str = "") -> Finding:
    """An input error met while running a check, as a finding for reports (its code is the error's code)."""
    location = error.location
    lines = error.lines() if isinstance(error, InputErrors) else [error.one_line()]
    return Finding(code=error.code, check=check, cluster=cluster, message=error.message,
                   path=location.file if location else "", line=location.line if location else 0,
                   hint=error.hint, diff=tuple(lines[1:]))
