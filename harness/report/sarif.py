"""SARIF 2.1.0 output for findings (code-scanning UIs: GitHub, GitLab, Azure DevOps).

One run, one tool. Every code that appears becomes a rule (``id`` = the code; short and full
description from :data:`harness.codes.CODES`; help with the way to fix or approve it from
:mod:`harness.report.guidance`). Every finding becomes a result anchored at ``Finding.anchor`` -- the
repository-relative path of the file the finding is about (the fixture file for parity, the template
or descriptor for coverage, the manifest for policy) -- as a percent-encoded uri against
``%SRCROOT%``, with ``region.startLine`` (1 for a finding about a whole file). ``Finding.related``
(the template, the inventory rule) become ``relatedLocations``. ``partialFingerprints`` come from
:meth:`Finding.stable_fingerprint`, which does not depend on the line, so a finding keeps its
identity when code moves. Findings are already redacted; messages are escaped to one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from harness import __version__
from harness.codes import CODES
from harness.findings import ROLES, Finding, Location, Severity
from harness.report.escape import json_tree, terminal, uri_path
from harness.report.guidance import advice, describe, family
from harness.report.output import write_report_file

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "overlayParity/v1"
DISTRIBUTION = "overlay-parity"
PYPI_URI = f"https://pypi.org/project/{DISTRIBUTION}/"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_PROPERTY_KEYS = ("key_path", "layer", "fingerprint", "key_type", "document", "descriptors")
_SECURITY_SEVERITY = {"secrets": "9.0", "policy": "5.0"}


def _uri(path: str) -> str:
    """A relative, percent-encoded POSIX uri for a finding path ('' stays '')."""
    posix = PurePosixPath(path.replace("\\", "/")).as_posix()
    posix = posix.lstrip("/") if posix != "." else ""
    return uri_path(posix)


def _rule_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("-"))


@cache
def information_uri() -> str:
    """The project's home page from the installed distribution's metadata, else its PyPI page."""
    try:
        meta = metadata.metadata(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return PYPI_URI
    urls = [entry.split(",", 1)[-1].strip() for entry in meta.get_all("Project-URL") or []]
    urls += meta.get_all("Home-page") or []
    return next((u for u in urls if u.startswith("https://")), PYPI_URI)


def _rule(code: str, rules: Mapping[str, str], hints: list[str]) -> dict[str, Any]:
    meaning = describe(code, rules)
    kind = family(code)
    help_text = advice(code)
    if hints:
        help_text += " For this run: " + " / ".join(hints)
    properties: dict[str, Any] = {"tags": ["overlay-parity", kind]}
    if kind in _SECURITY_SEVERITY:
        properties["tags"].append("security")
        properties["security-severity"] = _SECURITY_SEVERITY[kind]
    return {
        "id": code,
        "name": _rule_name(code),
        "shortDescription": {"text": meaning},
        "fullDescription": {"text": f"{meaning} Reported by the {kind} check of overlay-parity."},
        "help": {"text": terminal(help_text), "markdown": terminal(help_text)},
        "helpUri": information_uri(),
        "defaultConfiguration": {"level": "error"},
        "properties": properties,
    }


def _physical(path: str, line: int) -> dict[str, Any]:
    """An artifact location; a finding about a whole file (line 0) is anchored at its first line, since code
    scanning places a result only by its region."""
    uri = _uri(path)
    location: dict[str, Any] = {"artifactLocation": {"uri": uri or ".", "uriBaseId": "%SRCROOT%"}}
    if uri:
        location["region"] = {"startLine": max(line, 1)}
    return location


def _related(places: Iterable[Location]) -> list[dict[str, Any]]:
    return [{"id": number, "physicalLocation": _physical(place.file, place.line),
             "message": {"text": ROLES.get(place.role, place.role or "related file")}}
            for number, place in enumerate(places, start=1)]


def _result(finding: Finding, index: int) -> dict[str, Any]:
    message = finding.message
    if finding.hint:
        message += f" (fix: {finding.hint})"
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVELS.get(finding.severity, "error"),
        "message": {"text": terminal(message)},
        "locations": [{"physicalLocation": _physical(finding.anchor, finding.line)}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.stable_fingerprint()},
    }
    if finding.related:
        result["relatedLocations"] = _related(finding.related)
    properties = {key: finding.extra[key] for key in _PROPERTY_KEYS if finding.extra.get(key) not in (None, "")}
    for key in ("check", "cluster", "owner", "path"):
        if getattr(finding, key):
            properties[key] = getattr(finding, key)
    if finding.rules:
        properties["inventory_rules"] = list(finding.rules)
    if properties:
        result["properties"] = properties
    return result


def to_sarif(findings: Iterable[Finding], tool_name: str, rules: Mapping[str, str] = CODES,
             *, tool_version: str = __version__) -> dict[str, Any]:
    """A SARIF 2.1.0 log (a JSON-ready dict) with one run of ``tool_name``."""
    items = list(findings)
    codes = sorted({f.code for f in items})
    index = {code: number for number, code in enumerate(codes)}
    hints: dict[str, list[str]] = {code: [] for code in codes}
    for finding in items:
        if finding.hint and finding.hint not in hints[finding.code]:
            hints[finding.code].append(finding.hint)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": tool_name, "version": tool_version, "informationUri": information_uri(),
                                "rules": [_rule(code, rules, hints[code][:3]) for code in codes]}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The project root."}}},
            "columnKind": "unicodeCodePoints",
            "results": [_result(finding, index[finding.code]) for finding in items],
        }],
    }
    tree: dict[str, Any] = json_tree(log)
    return tree


def sarif_json(findings: Iterable[Finding], tool_name: str) -> str:
    """The SARIF log as JSON text."""
    return json.dumps(to_sarif(findings, tool_name), indent=2, ensure_ascii=False) + "\n"


def write_sarif(findings: Iterable[Finding], path: Path, tool_name: str) -> None:
    """Write the SARIF log of ``findings`` to ``path`` (parents created)."""
    write_report_file(path, sarif_json(findings, tool_name))
