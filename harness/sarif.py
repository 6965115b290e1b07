"""Moved to :mod:`harness.report.sarif`; this name stays importable while callers move."""

from __future__ import annotations

from harness.report.sarif import SARIF_SCHEMA, SARIF_VERSION, to_sarif, write_sarif

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "to_sarif", "write_sarif"]
