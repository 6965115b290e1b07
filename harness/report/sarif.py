"""SARIF 2.1.0 output for findings (code-scanning UIs: GitHub, GitLab, Azure DevOps).

One run, one tool. Every code that appears becomes a rule (``id`` = the code, description from
:data:`harness.codes.CODES`); every finding becomes a result with a relative ``artifactLocation`` uri
(against ``%SRCROOT%``), a ``region.startLine`` when the line is known, and ``partialFingerprints`` that
do not depend on the line, so a finding keeps its identity when code moves. Findings are already
redacted: only their message, key path, layer and value fingerprint are written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from harness import __version__
from harness.codes import CODES
from harness.findings import Finding, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_PROPERTY_KEYS = ("key_path", "layer", "fingerprint", "key_type", "document", "descriptors")


def _uri(path: str) -> str:
    """A relative, percent-encoded POSIX uri for a finding path ('' stays '')."""
    posix = PurePosixPath(path.replace("\\", "/")).as_posix()
    posix = posix.lstrip("/") if posix != "." else ""
    return quote(posix, safe="/")


def _rule_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("-"))


def _fingerprint(finding: Finding) -> str:
    parts = [finding.code, finding.path, finding.cluster, str(finding.extra.get("key_path", "")),
             str(finding.extra.get("fingerprint", "")), finding.message if not finding.extra.get("fingerprint")
             else ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def to_sarif(findings: Iterable[Finding], tool_name: str, rules: Mapping[str, str] = CODES,
             *, tool_version: str = __version__) -> dict[str, Any]:
    """A SARIF 2.1.0 log (a JSON-ready dict) with one run of ``tool_name``."""
    items = list(findings)
    codes = sorted({f.code for f in items})
    index = {code: number for number, code in enumerate(codes)}
    driver_rules = [
        {
            "id": code,
            "name": _rule_name(code),
            "shortDescription": {"text": rules.get(code, code)},
            "fullDescription": {"text": rules.get(code, code)},
            "defaultConfiguration": {"level": "error"},
        }
        for code in codes
    ]
    results = []
    for finding in items:
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.path) or ".", "uriBaseId": "%SRCROOT%"}}
        if finding.line > 0:
            location["region"] = {"startLine": finding.line}
        message = finding.message
        if finding.hint:
            message += f" (fix: {finding.hint})"
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": _LEVELS.get(finding.severity, "error"),
            "message": {"text": message},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"overlayParity/v1": _fingerprint(finding)},
        }
        properties = {key: finding.extra[key] for key in _PROPERTY_KEYS if finding.extra.get(key) not in (None, "")}
        for key in ("check", "cluster", "owner"):
            if getattr(finding, key):
                properties[key] = getattr(finding, key)
        if properties:
            result["properties"] = properties
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": tool_name, "version": tool_version, "rules": driver_rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The project root."}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def write_sarif(findings: Iterable[Finding], path: Path, tool_name: str) -> None:
    """Write the SARIF log of ``findings`` to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_sarif(findings, tool_name), indent=2) + "\n", encoding="utf-8")
