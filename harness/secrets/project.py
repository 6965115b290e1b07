"""A project's secret scan, as ``scan-secrets`` and the ``fixture-secret-scan`` hook run it: the files given
(or the whole repository), the fixture globs and the allowlist from the settings, an optional baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.findings import Finding
from harness.secrets.allowlist import apply_allowlist, baseline, load_allowlist
from harness.secrets.repository import scan_repository
from harness.secrets.walk import display_name, scan_paths, walk

if TYPE_CHECKING:
    from harness.project_config import ProjectConfig


@dataclass(frozen=True)
class ProjectScan:
    """What a scan found (allowlist applied), how many paths it read, and whether no file was a fixture."""

    findings: list[Finding]
    scanned: int
    fixture_globs: tuple[str, ...]
    no_fixtures: bool


def scan_project(config: ProjectConfig, paths: Sequence[Path] = (), *, max_file_bytes: int | None = None,
                 baseline_out: Path | None = None) -> ProjectScan:
    """Scan ``paths`` (files or directories; none: the whole repository) for key material, fixture files
    for the Secret-value policy, then apply the ``secret_allowlist``; write a draft allowlist of the
    findings to ``baseline_out`` when given."""
    root, globs = config.root, tuple(config.fixture_globs)
    max_bytes = max_file_bytes or config.max_file_bytes
    allowlist = load_allowlist(config.secret_allowlist, display=display_name(config.secret_allowlist, root))
    if paths:
        findings = scan_paths(paths, root=root, max_file_bytes=max_bytes, fixture_globs=globs)
        names = [display_name(Path(name), root) for path in paths
                 for name in (walk(str(path)) if Path(path).is_dir() else [str(path)])]
        scanned = len(paths)
    else:
        findings, scanned = scan_repository(root, fixture_globs=globs, max_file_bytes=max_bytes)
        names = []
    if baseline_out is not None:
        from harness.report.output import write_report_file  # atomic; REPORT-UNWRITABLE when it cannot

        write_report_file(baseline_out, baseline(findings))
    kept = apply_allowlist(findings, allowlist, scanned=names, whole_repository=not paths)
    return ProjectScan(findings=kept, scanned=scanned, fixture_globs=globs,
                       no_fixtures=any(f.code == "SECRET-NO-FIXTURES" for f in kept))
