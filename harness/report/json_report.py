"""The JSON report: written by ``--json`` / ``--parity-report``, read back by ``merge-reports``."""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import InputError
from harness.json_input import load_json
from harness.report.model import Report


def read_report(path: Path) -> Report:
    """Load a JSON report file (a regular file, bounded in size and depth; see :mod:`harness.json_input`)."""
    hint = "pass files written by --json or --parity-report"
    data = load_json(path, code="REPORT-INVALID", hint=hint)
    if not isinstance(data, dict):
        raise InputError("REPORT-INVALID", "top level is not an object", file=str(path), hint=hint)
    return Report.from_dict(data, source=str(path))


def write_json(report: Report, path: Path) -> None:
    """Write the JSON report (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
