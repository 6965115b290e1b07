"""The report model: the check results of one run (or of merged shards), which every writer renders.

Findings reach the report already redacted (see :mod:`harness.redact`); no writer reads input files,
so no writer can leak a value that a check did not put into a Finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness import __version__
from harness.errors import InputError
from harness.findings import Finding, Severity

REPORT_FORMAT = 1
# Version of harness/schema/report.schema.json that :meth:`Report.to_dict` follows (semver: a minor version
# adds optional keys). 1.1.0: ``schema_version``, and ``file``/``related`` on findings.
SCHEMA_VERSION = "1.1.0"


@dataclass
class CheckResult:
    """The outcome of one check item, e.g. ``parity[k8s-dev]``, ``inventory``, ``coverage``."""

    name: str
    check: str
    cluster: str = ""
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when any finding fails the gate."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "name": self.name,
            "check": self.check,
            "cluster": self.cluster,
            "seconds": round(self.seconds, 4),
            "notes": self.notes,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(data["name"]),
            check=str(data["check"]),
            cluster=str(data.get("cluster", "")),
            seconds=float(data.get("seconds", 0.0)),
            notes=dict(data.get("notes", {})),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
        )


@dataclass
class Report:
    """Everything one run (or the merge of several shards) found."""

    results: list[CheckResult] = field(default_factory=list)
    matched_rules: set[str] = field(default_factory=set)
    clusters_run: set[str] = field(default_factory=set)
    inventory: dict[str, Any] = field(default_factory=dict)
    shard: str = ""

    def findings(self) -> list[Finding]:
        """Every finding of every result, in result order."""
        return [f for r in self.results for f in r.findings]

    def failing(self) -> list[Finding]:
        """Findings that fail the gate."""
        return [f for f in self.findings() if f.severity is Severity.ERROR]

    def exit_code(self) -> int:
        """0 when nothing fails the gate, else 1."""
        return 1 if self.failing() else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the ``--json`` / ``--parity-report`` format)."""
        failing = self.failing()
        return {
            "tool": "overlay-parity",
            "version": __version__,
            "format": REPORT_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "shard": self.shard,
            "inventory": self.inventory,
            "clusters_run": sorted(self.clusters_run),
            "matched_rules": sorted(self.matched_rules),
            "summary": {
                "checks": len(self.results),
                "failed_checks": sum(1 for r in self.results if r.failed),
                "errors": len(failing),
                "warnings": sum(1 for f in self.findings() if f.severity is Severity.WARNING),
                "by_code": _count_codes(failing),
                "non_failing_by_code": _count_codes(f for f in self.findings() if f.severity is not Severity.ERROR),
            },
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<report>") -> Report:
        """Read a report written by :meth:`to_dict`; malformed input is REPORT-INVALID."""
        try:
            if data.get("tool") != "overlay-parity" or data.get("format") != REPORT_FORMAT:
                raise KeyError("tool/format")
            if str(data.get("schema_version", "1")).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
                raise ValueError(f"schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION} or "
                                 "compatible")
            return cls(
                results=[CheckResult.from_dict(r) for r in data["results"]],
                matched_rules=set(data.get("matched_rules", [])),
                clusters_run=set(data.get("clusters_run", [])),
                inventory=dict(data.get("inventory", {})),
                shard=str(data.get("shard", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError("REPORT-INVALID", f"not an overlay-parity report ({type(exc).__name__}: {exc})",
                             file=source, hint="pass files written by --json or --parity-report") from None


def _count_codes(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    return dict(sorted(counts.items()))
