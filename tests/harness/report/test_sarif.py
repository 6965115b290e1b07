"""SARIF 2.1.0 output: structure (validated against a schema of the parts we emit), rules, locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.codes import CODES
from harness.findings import Finding, Severity
from harness.report.sarif import SARIF_SCHEMA, to_sarif, write_sarif

# The subset of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that our logs use, with its required
# properties and value constraints; additionalProperties stay open as in the official schema.
MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "version": {"type": "string"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id"],
                            "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                           "shortDescription": MESSAGE, "fullDescription": MESSAGE,
                                           "defaultConfiguration": {"type": "object", "properties": {
                                               "level": {"enum": ["none", "note", "warning", "error"]}}}}}},
                    }}}},
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": MESSAGE,
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {
                                "type": "object", "required": ["artifactLocation"],
                                "properties": {
                                    "artifactLocation": {"type": "object", "required": ["uri"], "properties": {
                                        "uri": {"type": "string", "format": "uri-reference"},
                                        "uriBaseId": {"type": "string"}}},
                                    "region": {"type": "object", "properties": {
                                        "startLine": {"type": "integer", "minimum": 1}}},
                                }}}}},
                        "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
                        "properties": {"type": "object"},
                    },
                }},
            },
        }},
    },
}

FINDINGS = [
    Finding(code="SECRET-REAL-KEY", message="real OPENSSH PRIVATE KEY in data.identity, layer base64",
            check="secrets", path="testdata/fx/customer-managed/sources/secret file.yaml", line=7,
            hint="rotate it", extra={"key_path": "data.identity", "layer": "base64", "fingerprint": "sha256:0123abcd",
                                     "key_type": "OPENSSH PRIVATE KEY", "document": 1}),
    Finding(code="SECRET-NOT-PLACEHOLDER", message="Secret x: data.identity decodes to neither ...", check="secrets",
            path="testdata/fx/secret.yaml", line=7, extra={"key_path": "data.identity", "fingerprint": "sha256:99"}),
    Finding(code="COVERAGE-UNDECLARED", message="template file has no descriptor owner", check="coverage",
            path="renderer/templates/services/x/extra.yaml"),
    Finding(code="COVERAGE-OUTPUT-COLLISION", message="a and b can render to one path", check="coverage",
            path="renderer/descriptors/a.yaml", line=3, severity=Severity.WARNING, owner="a, b"),
    Finding(code="NOT-REGISTERED", message="an unregistered code still gets a rule", path="x"),
]


def test_structure_is_valid_sarif_2_1_0() -> None:
    log = to_sarif(FINDINGS, "overlay-parity scan-secrets")
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    assert log["version"] == "2.1.0"
    assert log["$schema"] == SARIF_SCHEMA
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "overlay-parity scan-secrets"
    json.dumps(log)  # JSON-serialisable


def test_rules_and_results_line_up() -> None:
    run = to_sarif(FINDINGS, "t")["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({f.code for f in FINDINGS})
    for rule in rules:
        assert rule["shortDescription"]["text"] == CODES.get(rule["id"], rule["id"])
    for finding, result in zip(FINDINGS, run["results"], strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.code
        assert result["message"]["text"].startswith(finding.message)
    levels = [r["level"] for r in run["results"]]
    assert levels == ["error", "error", "error", "warning", "error"]


def test_locations_are_relative_uris_with_start_lines() -> None:
    results = to_sarif(FINDINGS, "t")["runs"][0]["results"]
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {"uri": "testdata/fx/customer-managed/sources/secret%20file.yaml",
                                         "uriBaseId": "%SRCROOT%"}
    assert first["region"] == {"startLine": 7}
    undeclared = results[2]["locations"][0]["physicalLocation"]
    # Line unknown: a whole-file finding anchored at line 1, never line 0 (issue 15 item 2: code scanning
    # places a result only by its region; this used to be "no region").
    assert undeclared["region"] == {"startLine": 1}
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/")
        assert "://" not in uri


def test_partial_fingerprints_are_stable_and_distinct() -> None:
    results = to_sarif(FINDINGS, "t")["runs"][0]["results"]
    prints = [r["partialFingerprints"]["overlayParity/v1"] for r in results]
    assert len(set(prints)) == len(prints)
    moved = [Finding(**{**FINDINGS[0].__dict__, "line": 99})]
    assert to_sarif(moved, "t")["runs"][0]["results"][0]["partialFingerprints"] == results[0]["partialFingerprints"]
    assert results[0]["properties"]["fingerprint"] == "sha256:0123abcd"
    assert results[0]["properties"]["key_path"] == "data.identity"


def test_empty_log_and_write(tmp_path: Path) -> None:
    log = to_sarif([], "t")
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []
    target = tmp_path / "deep" / "out.sarif"
    write_sarif(FINDINGS, target, "t")
    assert json.loads(target.read_text())["runs"][0]["results"][1]["ruleId"] == "SECRET-NOT-PLACEHOLDER"


@pytest.mark.parametrize("path", ["a/b.yaml", "./a/b.yaml", "/abs/a.yaml", "dir\\win.yaml", "ünï côde.yaml"])
def test_uris_are_relative_and_percent_encoded(path: str) -> None:
    log = to_sarif([Finding(code="USAGE", message="m", path=path)], "t")
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert not uri.startswith(("/", "./"))
    assert " " not in uri


# ------------------------------------------------------------------------------------ anchoring and rules

def test_results_anchor_at_the_repository_file_with_related_locations() -> None:
    from tests.harness.report.samples import content

    finding = content("k8s-dev")
    result = to_sarif([finding], "t")["runs"][0]["results"][0]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == \
        "testdata/fx/applications/overlays/k8s-dev/services/fluxcd/harbor.yaml"
    assert physical["region"] == {"startLine": 12}
    related = result["relatedLocations"]
    assert [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"],
             r["message"]["text"]) for r in related] == [
        (1, "renderer/templates/services/fluxcd/harbor.yaml", 7, "the template that renders the file"),
        (2, "canonicalization/fx.yaml", 21, "the canonicalization inventory rule that applied")]
    assert result["properties"]["path"] == "services/fluxcd/harbor.yaml"
    assert result["properties"]["inventory_rules"] == ["flux-annotation"]
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(to_sarif([finding], "t"))


def test_the_same_finding_in_two_clusters_has_two_places_and_two_fingerprints() -> None:
    from tests.harness.report.samples import content

    results = to_sarif([content("k8s-dev"), content("k8s-qa")], "t")["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris[0] != uris[1]
    assert results[0]["partialFingerprints"] != results[1]["partialFingerprints"]
    again = to_sarif([content("k8s-dev", line=40)], "t")["runs"][0]["results"][0]
    assert again["partialFingerprints"] == results[0]["partialFingerprints"]  # stable when lines move


def test_rules_carry_full_description_help_and_information_uri() -> None:
    run = to_sarif(FINDINGS, "t")["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    for rule in driver["rules"]:
        assert rule["fullDescription"]["text"].startswith(rule["shortDescription"]["text"])
        assert len(rule["fullDescription"]["text"]) > len(rule["shortDescription"]["text"])
        assert rule["help"]["text"]
        assert rule["help"]["markdown"]
        assert rule["helpUri"] == driver["informationUri"]
    by_id = {r["id"]: r for r in driver["rules"]}
    assert "rotate it" in by_id["SECRET-REAL-KEY"]["help"]["text"]  # the findings' own hints
    assert "rotate the key" in by_id["SECRET-REAL-KEY"]["help"]["text"]  # and the family's advice
    assert by_id["SECRET-REAL-KEY"]["properties"]["security-severity"] == "9.0"
    assert "coverage" in by_id["COVERAGE-UNDECLARED"]["properties"]["tags"]
