"""Reports of a run: one model (:mod:`harness.report.model`) and one writer per format.

Writers: :mod:`~harness.report.text` (terminal), :mod:`~harness.report.json_report` (JSON, also read back
for shard merging), :mod:`~harness.report.junit` (JUnit XML), :mod:`~harness.report.sarif` (SARIF 2.1.0);
:mod:`~harness.report.shards` joins shard reports. The names below are the package's public API.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from harness.report.model import REPORT_FORMAT, CheckResult, Report

if TYPE_CHECKING:
    from harness.report.json_report import read_report, write_json
    from harness.report.junit import junit_xml, write_junit
    from harness.report.shards import UNLABELLED, check_shards, merge_reports, parse_shard_label, split_shard
    from harness.report.text import format_finding, format_text

_LAZY = {"read_report": "json_report", "write_json": "json_report", "junit_xml": "junit", "write_junit": "junit",
         "UNLABELLED": "shards", "check_shards": "shards", "merge_reports": "shards",
         "parse_shard_label": "shards", "split_shard": "shards", "format_finding": "text", "format_text": "text"}


def __getattr__(name: str) -> Any:
    """The writers are imported on first use: a run that writes no JSON or JUnit file does not import them
    (nor ``xml.etree`` and ``importlib.resources``)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"harness.report.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "REPORT_FORMAT", "UNLABELLED", "CheckResult", "Report", "check_shards", "format_finding", "format_text",
    "junit_xml", "merge_reports", "parse_shard_label", "read_report", "split_shard", "write_json", "write_junit",
]
