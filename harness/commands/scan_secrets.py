"""``overlay-parity scan-secrets``: private-key material in any file, non-placeholder Secret values in fixtures.

Without paths, the whole repository is scanned (``git ls-files`` plus untracked files that are not
ignored; outside git, the tree minus ``.git``); directories given are walked. Key material is looked for
in every file; the Secret-value policy applies to the files matching ``fixture_globs`` (default: the
fixture directory). ``only_fixtures`` is kept for old hook configurations and changes nothing. Accepted
findings come from the ``secret_allowlist`` file; ``baseline_out`` writes a draft of the current findings
with empty rationales. The matched value itself never reaches a finding's text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from harness.project_config import load_project_config
from harness.report import CheckResult


def scan_secrets(paths: Sequence[Path] = (), *, only_fixtures: bool = False, max_file_bytes: int | None = None,
                 baseline_out: Path | None = None) -> CheckResult:
    """Scan and return the findings as a one-check report."""
    from harness.secrets import scan_project

    config = load_project_config()
    started = time.perf_counter()
    scan = scan_project(config, paths, max_file_bytes=max_file_bytes, baseline_out=baseline_out)
    if scan.no_fixtures:
        print(f"scan-secrets: WARNING: no file matches the fixture globs {list(scan.fixture_globs)}: the "
              "Secret-value policy checked nothing", file=sys.stderr)
    return CheckResult(name="scan-secrets", check="scan-secrets", findings=list(scan.findings),
                       seconds=time.perf_counter() - started,
                       notes={"paths": scan.scanned, "summary": f"{scan.scanned} path(s) scanned"})
