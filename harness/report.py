"""Reports of a run: plain text for terminals, JSON for machines and shard merging, JUnit XML for CI.

Findings reach this module already redacted (see :mod:`harness.redact`); nothing here reads input
files, so nothing here can leak a value that a check did not put into a Finding.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import InputError
from harness.findings import Finding, Severity

REPORT_FORMAT = 1


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


def read_report(path: Path) -> Report:
    """Load a JSON report file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("FILE-MISSING", "report file does not exist", file=str(path),
                         hint="check the path of the shard report") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("REPORT-INVALID", f"not JSON ({type(exc).__name__})", file=str(path),
                         hint="pass files written by --json or --parity-report") from None
    if not isinstance(data, dict):
        raise InputError("REPORT-INVALID", "top level is not an object", file=str(path),
                         hint="pass files written by --json or --parity-report")
    return Report.from_dict(data, source=str(path))


def write_json(report: Report, path: Path) -> None:
    """Write the JSON report (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")


def junit_xml(report: Report) -> str:
    """JUnit XML: one testsuite per check kind, one testcase per result, one failure per failing result."""
    suites = ET.Element("testsuites", name="overlay-parity")
    by_check: dict[str, list[CheckResult]] = {}
    for result in report.results:
        by_check.setdefault(result.check, []).append(result)
    for check, results in by_check.items():
        suite = ET.SubElement(
            suites, "testsuite", name=check, tests=str(len(results)),
            failures=str(sum(1 for r in results if r.failed)),
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"overlay-parity.{check}", name=result.name,
                                 time=f"{result.seconds:.3f}")
            failing = [f for f in result.findings if f.severity is Severity.ERROR]
            if failing:
                failure = ET.SubElement(case, "failure", message=f"{len(failing)} finding(s)",
                                        type=failing[0].code)
                failure.text = "\n".join(format_finding(f) for f in failing)
            others = [f for f in result.findings if f.severity is not Severity.ERROR]
            if others:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(format_finding(f) for f in others)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: Path) -> None:
    """Write JUnit XML (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(report), encoding="utf-8")


def format_finding(finding: Finding) -> str:
    """A finding as a short block: headline, context, indented diff lines, hint."""
    where = finding.path + (f":{finding.line}" if finding.line else "")
    head = f"{finding.code} {where}: {finding.message}" if where else f"{finding.code}: {finding.message}"
    if finding.cluster:
        head = f"[{finding.cluster}] {head}"
    context = []
    if finding.owner:
        context.append(f"owner: {finding.owner}")
    if finding.rules:
        context.append("rules: " + ", ".join(finding.rules))
    lines = [head]
    if context:
        lines.append("    (" + "; ".join(context) + ")")
    lines.extend(f"    {line}" for line in finding.diff)
    if finding.hint:
        lines.append(f"    fix: {finding.hint}")
    return "\n".join(lines)


def format_text(report: Report, *, verbose: bool = False) -> str:
    """Terminal report: one status line per check result, findings below failing ones, then a summary."""
    lines: list[str] = []
    for result in report.results:
        errors = [f for f in result.findings if f.severity is Severity.ERROR]
        status = "FAIL" if errors else "ok"
        detail = f"{len(errors)} finding(s)" if errors else _notes_summary(result.notes)
        lines.append(f"{status:<4} {result.name:<40} {detail}".rstrip())
        shown = result.findings if verbose else errors
        for finding in shown:
            lines.extend("     " + line for line in format_finding(finding).splitlines())
    summary = report.to_dict()["summary"]
    verdict = "FAILED" if report.failing() else "PASSED"
    lines.append(
        f"{verdict}: {summary['checks'] - summary['failed_checks']} of {summary['checks']} checks clean, "
        f"{summary['errors']} finding(s)"
        + (f" ({', '.join(f'{k}: {v}' for k, v in summary['by_code'].items())})" if summary["by_code"] else "")
    )
    return "\n".join(lines) + "\n"


def _notes_summary(notes: dict[str, Any]) -> str:
    keys = ("files", "identical", "parsed", "rules_applied", "lifecycle_claim", "scanned")
    parts = [f"{key}={notes[key]}" for key in keys if key in notes]
    return " ".join(parts)


def merge_reports(reports: Iterable[Report]) -> Report:
    """Union of shard reports. Stale-rule findings are dropped here; the caller recomputes them on the union."""
    merged = Report(shard="merged")
    seen: set[str] = set()
    for report in reports:
        for result in report.results:
            if result.name in seen and result.check != "inventory":
                raise InputError("REPORT-INVALID", f"check {result.name!r} appears in two shard reports",
                                 hint="shards must split clusters disjointly (--shard I/N)")
            seen.add(result.name)
            if result.check == "inventory":
                continue
            merged.results.append(result)
        merged.matched_rules |= report.matched_rules
        merged.clusters_run |= report.clusters_run
        if report.inventory and not merged.inventory:
            merged.inventory = dict(report.inventory)
        elif report.inventory and report.inventory.get("version") != merged.inventory.get("version"):
            raise InputError("REPORT-INVALID", "shard reports were made with different inventory versions",
                             hint="rerun every shard on the same commit")
    return merged


UNLABELLED = ("", "merged")  # ``shard`` of an unsharded run, and of a report written by ``merge-reports``
_MATRIX_HINT = "merge the reports of one shard matrix: every --shard I/N of a single N, each once"


def parse_shard_label(label: str, *, source: str) -> tuple[int, int] | None:
    """A report's ``shard`` as (I, N); None when unlabelled (:data:`UNLABELLED`); else REPORT-INVALID."""
    if label in UNLABELLED:
        return None
    shard = split_shard(label)
    if shard is None:
        raise InputError("REPORT-INVALID", f"shard label {label!r} is not I/N", file=source,
                         hint="pass reports written by `check --shard I/N` or `pytest --parity-shard I/N`")
    return shard


def split_shard(spec: str) -> tuple[int, int] | None:
    """``"2/4"`` -> (2, 4): shard I of N, 1-based (1 <= I <= N); None for anything else."""
    index, sep, total = spec.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        return None
    return (i, n) if sep and 1 <= i <= n else None


def check_shards(reports: Sequence[tuple[str, Report]], *, expect: int | None = None,
                 allow_partial: bool = False) -> None:
    """Refuse (REPORT-INVALID) a set of ``(source, report)`` that is not one whole shard matrix.

    Always: every label is I/N or absent, labelled and unlabelled reports are not mixed, all labels share
    one N (``expect`` when given) and none appears twice; more than ``expect`` unlabelled reports is
    refused. Unless ``allow_partial``: every shard 1..N is present, and ``expect`` unlabelled reports
    means exactly that many.
    """
    labelled: dict[tuple[int, int], str] = {}
    unlabelled: list[str] = []
    for source, report in reports:
        shard = parse_shard_label(report.shard, source=source)
        if shard is None:
            unlabelled.append(source)
            continue
        index, total = shard
        if shard in labelled:
            raise InputError("REPORT-INVALID", f"shard {index}/{total} is given twice (also {labelled[shard]})",
                             file=source, hint="pass each shard's report once")
        if expect is not None and total != expect:
            raise InputError("REPORT-INVALID", f"shard {index}/{total} is not a shard of --expect-shards {expect}",
                             file=source, hint=f"run every shard as --shard I/{expect}, or fix --expect-shards")
        first = next(iter(labelled), None)
        if first is not None and first[1] != total:
            raise InputError("REPORT-INVALID", f"shard {index}/{total} does not belong with shard "
                             f"{first[0]}/{first[1]} ({labelled[first]})", file=source, hint=_MATRIX_HINT)
        labelled[shard] = source
    if labelled and unlabelled:
        first = next(iter(labelled))
        raise InputError("REPORT-INVALID", f"report has no shard label but {labelled[first]} is shard "
                         f"{first[0]}/{first[1]}", file=unlabelled[0], hint=_MATRIX_HINT)
    if expect is not None and len(unlabelled) > expect:
        raise InputError("REPORT-INVALID", f"{len(unlabelled)} reports given for --expect-shards {expect}",
                         hint="pass one report per shard, or fix --expect-shards")
    if allow_partial:
        return
    if labelled:
        total = next(iter(labelled))[1]
        missing = [f"{i}/{total}" for i in range(1, total + 1) if (i, total) not in labelled]
        if missing:
            what = f"shard {missing[0]} is" if len(missing) == 1 else f"shards {', '.join(missing)} are"
            raise InputError("REPORT-INVALID", f"{what} missing ({len(labelled)} of {total} shard reports given)",
                             hint="pass every shard's report, or --allow-partial to merge an incomplete set")
    elif expect is not None and len(unlabelled) < expect:
        raise InputError("REPORT-INVALID", f"{len(unlabelled)} of --expect-shards {expect} reports given",
                         hint="pass every shard's report, or --allow-partial to merge an incomplete set")
