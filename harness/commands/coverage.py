"""``overlay-parity coverage``: every template file is owned by exactly one descriptor.

Roots default to ``[tool.overlay-parity] template_root`` / ``descriptor_root``. Returns the findings as a
one-check report; the CLI prints one line per finding (``file:line: CODE message``) and a summary.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.project_config import load_project_config
from harness.report import CheckResult


def coverage(*, template_root: Path | None = None, descriptor_root: Path | None = None) -> CheckResult:
    """Check descriptor coverage of the configured (or given) template and descriptor roots."""
    from harness.coverage import check_coverage

    config = load_project_config().with_overrides(template_root=template_root, descriptor_root=descriptor_root)
    started = time.perf_counter()
    findings = check_coverage(config.template_root, config.descriptor_root, relative_to=config.root)
    return CheckResult(name="coverage", check="coverage", findings=list(findings),
                       seconds=time.perf_counter() - started,
                       notes={"template_root": str(config.template_root),
                              "descriptor_root": str(config.descriptor_root)})
