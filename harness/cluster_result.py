"""The outcome of comparing one cluster's render with its oracle tree (:func:`harness.parity.compare_cluster`):
its findings, counts and matched rules; picklable, and JSON-ready for reports and other processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.findings import Finding, Severity


@dataclass
class ClusterResult:
    """The outcome of :func:`compare_cluster` for one cluster (picklable; :meth:`to_dict` is JSON-ready)."""

    cluster: str
    findings: list[Finding] = field(default_factory=list)
    matched_rules: set[str] = field(default_factory=set)
    files_compared: int = 0
    byte_identical: int = 0
    parsed: int = 0
    path_only: int = 0
    ignored_rendered: int = 0
    ignored_fixture: int = 0
    excluded_rendered: tuple[str, ...] = ()
    excluded_fixture: tuple[str, ...] = ()
    bootstrap_fixture: int = 0
    bootstrap_rendered: int = 0  # flux-system/ files in the rendered tree: a renderer must never write them

    @property
    def ok(self) -> bool:
        """No failing finding."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def notes(self) -> dict[str, Any]:
        """Counts and exclusions for reports (JSON-ready)."""
        return {
            "files_compared": self.files_compared,
            "byte_identical": self.byte_identical,
            "parsed": self.parsed,
            "path_only": self.path_only,
            "ignored_rendered": self.ignored_rendered,
            "ignored_fixture": self.ignored_fixture,
            "bootstrap_fixture": self.bootstrap_fixture,
            "bootstrap_rendered": self.bootstrap_rendered,
            "excluded_rendered": list(self.excluded_rendered),
            "excluded_fixture": list(self.excluded_fixture),
            "matched_rules": sorted(self.matched_rules),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (inverse: :meth:`from_dict`)."""
        return {"cluster": self.cluster, "findings": [f.to_dict() for f in self.findings], **self.notes()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterResult:
        """Rebuild a result sent by another process."""
        return cls(
            cluster=str(data["cluster"]),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            matched_rules=set(data.get("matched_rules", [])),
            files_compared=int(data.get("files_compared", 0)),
            byte_identical=int(data.get("byte_identical", 0)),
            parsed=int(data.get("parsed", 0)),
            path_only=int(data.get("path_only", 0)),
            ignored_rendered=int(data.get("ignored_rendered", 0)),
            ignored_fixture=int(data.get("ignored_fixture", 0)),
            bootstrap_fixture=int(data.get("bootstrap_fixture", 0)),
            bootstrap_rendered=int(data.get("bootstrap_rendered", 0)),
            excluded_rendered=tuple(data.get("excluded_rendered", ())),
            excluded_fixture=tuple(data.get("excluded_fixture", ())),
        )
