"""Reports of a run: one model (:mod:`harness.report.model`) and one writer per format.

Writers: :mod:`~harness.report.text` (terminal), :mod:`~harness.report.json_report` (JSON, also read back
for shard merging), :mod:`~harness.report.junit` (JUnit XML), :mod:`~harness.report.sarif` (SARIF 2.1.0);
:mod:`~harness.report.shards` joins shard reports. The names below are the package's public API.
"""

from __future__ import annotations

from harness.report.json_report import read_report, write_json
from harness.report.junit import junit_xml, write_junit
from harness.report.model import REPORT_FORMAT, CheckResult, Report
from harness.report.shards import UNLABELLED, check_shards, merge_reports, parse_shard_label, split_shard
from harness.report.text import format_finding, format_text

__all__ = [
    "REPORT_FORMAT", "UNLABELLED", "CheckResult", "Report", "check_shards", "format_finding", "format_text",
    "junit_xml", "merge_reports", "parse_shard_label", "read_report", "split_shard", "write_json", "write_junit",
]
