"""``overlay-parity coverage``: every template file is owned by exactly one descriptor.

Roots: the settings' ``template_root`` / ``descriptor_root``, else the renderer's own trees
(:func:`harness.renderers.coverage_roots`). Returns the findings as a
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
    from harness.renderers import coverage_roots

    config = load_project_config().with_overrides(template_root=template_root, descriptor_root=descriptor_root)
    templates, descriptors = coverage_roots(config)
    started = time.perf_counter()
    findings = check_coverage(templates, descriptors, relative_to=config.root)
    return CheckResult(name="coverage", check="coverage", findings=list(findings),
                       seconds=time.perf_counter() - started,
                       notes={"template_root": str(templates), "descriptor_root": str(descriptors)})
