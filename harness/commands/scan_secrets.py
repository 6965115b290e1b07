"""``overlay-parity scan-secrets``: private-key material and non-placeholder Secret values in fixtures.

Without paths, every file matching ``[tool.overlay-parity] fixture_globs`` (default ``testdata/**``) is
scanned; directories given are walked. ``only_fixtures`` keeps only the given files that match the
fixture globs (what the pre-commit hook uses). The matched value itself never reaches a finding's text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from harness.project_config import load_project_config
from harness.report import CheckResult


def scan_secrets(paths: Sequence[Path] = (), *, only_fixtures: bool = False,
                 max_file_bytes: int | None = None) -> CheckResult:
    """Scan and return the findings as a one-check report."""
    from harness.secrets import fixture_files, is_fixture, scan_paths

    config = load_project_config()
    selected = list(paths)
    if only_fixtures:
        selected = [p for p in selected if is_fixture(p, config.root, config.fixture_globs)]
    elif not selected:
        selected = fixture_files(config.root, config.fixture_globs)
        if not selected:
            print(f"scan-secrets: no file matches fixture_globs {list(config.fixture_globs)} under {config.root}",
                  file=sys.stderr)
    started = time.perf_counter()
    findings = scan_paths(selected, root=config.root, max_file_bytes=max_file_bytes or config.max_file_bytes)
    return CheckResult(name="scan-secrets", check="scan-secrets", findings=list(findings),
                       seconds=time.perf_counter() - started,
                       notes={"paths": len(selected), "summary": f"{len(selected)} path(s) scanned"})
