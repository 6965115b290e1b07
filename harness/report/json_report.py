"""The JSON report: written by ``--json`` / ``--parity-report``, read back by ``merge-reports``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.json_input import load_json
from harness.report.escape import json_tree
from harness.report.model import Report
from harness.report.output import write_report_file

SCHEMA_RESOURCE = "schema/report.schema.json"


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report (shipped in the package as ``harness/schema/report.schema.json``)."""
    from importlib import resources

    schema: dict[str, Any] = json.loads(resources.files("harness").joinpath(SCHEMA_RESOURCE).read_text("utf-8"))
    return schema


def report_json(report: Report) -> str:
    """The report as UTF-8-safe JSON text (undecodable bytes of file names escaped, see :mod:`.escape`)."""
    return json.dumps(json_tree(report.to_dict()), indent=2, default=str, ensure_ascii=False) + "\n"


def read_report(path: Path) -> Report:
    """Load a JSON report file (a regular file, bounded in size and depth; see :mod:`harness.json_input`)."""
    hint = "pass files written by --json or --parity-report"
    data = load_json(path, code="REPORT-INVALID", hint=hint)
    if not isinstance(data, dict):
        raise InputError("REPORT-INVALID", "top level is not an object", file=str(path), hint=hint)
    return Report.from_dict(data, source=str(path))


def write_json(report: Report, path: Path) -> None:
    """Write the JSON report (parents created)."""
    write_report_file(path, report_json(report))
