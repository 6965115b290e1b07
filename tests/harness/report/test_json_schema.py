"""The JSON report carries schema_version and validates against the JSON Schema shipped in the package."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness.errors import InputError
from harness.findings import ROLES
from harness.report import Report, read_report, write_json
from harness.report.json_report import report_json, report_schema
from harness.report.model import SCHEMA_VERSION
from tests.harness.report.samples import HOSTILE, fleet

README = Path(__file__).resolve().parents[3] / "README.md"


def validator() -> jsonschema.Draft202012Validator:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_written_reports_validate(tmp_path: Path) -> None:
    for report in (fleet(), fleet(hostile=True), Report()):
        path = tmp_path / "r.json"
        write_json(report, path)
        data = json.loads(path.read_text(encoding="utf-8"))
        validator().validate(data)
        assert data["schema_version"] == SCHEMA_VERSION


def test_the_schema_refuses_what_it_should() -> None:
    data = json.loads(report_json(fleet()))
    finding = data["results"][0]["findings"][0]
    for broken in ({**finding, "severity": "fatal"}, {**finding, "line": -1}, {**finding, "surprise": 1},
                   {**finding, "related": [{"file": "a", "line": 1, "role": "friend"}]}):
        data["results"][0]["findings"][0] = broken
        assert not validator().is_valid(data), broken
    assert not validator().is_valid({**json.loads(report_json(fleet())), "schema_version": "2.0.0"})


def test_location_roles_match_the_model() -> None:
    enum = report_schema()["$defs"]["location"]["properties"]["role"]["enum"]
    assert set(enum) == {"", *ROLES}


def test_hostile_names_are_valid_unicode_json(tmp_path: Path) -> None:
    text = report_json(fleet(hostile=True))
    text.encode("utf-8")  # strict: no lone surrogate
    assert "evil\\n|name\\\\x1b[31m\\\\xff<b>@bob`x`.yaml" in text
    path = tmp_path / "r.json"
    write_json(fleet(hostile=True), path)
    again = read_report(path)
    paths = [f.path for f in again.findings()]
    assert "evil\n|name\\x1b[31m\\xff<b>@bob`x`.yaml" in paths
    assert HOSTILE not in paths


def test_an_incompatible_schema_version_is_refused(tmp_path: Path) -> None:
    data = json.loads(report_json(fleet()))
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**data, "schema_version": "2.0.0"}), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_report(path)
    assert info.value.code == "REPORT-INVALID"
    assert "schema_version" in info.value.message
    del data["schema_version"]  # reports written before schema_version existed still merge
    path.write_text(json.dumps(data), encoding="utf-8")
    assert len(read_report(path).findings()) == len(fleet().findings())


def test_the_readme_documents_the_schema() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "harness/schema/report.schema.json" in readme
    assert f"`schema_version` ({SCHEMA_VERSION})" in readme
