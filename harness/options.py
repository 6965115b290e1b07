"""What a user asked for, independent of the face that asked: project overrides and report files.

The CLI fills these from its flags (``harness/cli.py``), the pytest plugin from its ``--parity-*`` options;
commands and sessions take them as plain values. A new report format or project override is one field
here (named like the flag's ``dest``), the flag in :func:`harness.cli.add_report_options` /
:func:`harness.cli.add_project_options`, and, for a report, its writer in :meth:`ReportOutputs.write`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # writers load lazily: `--help` and clean runs do not pay for them
    from harness.project_config import ProjectConfig
    from harness.report import Report

_Options = TypeVar("_Options", "ProjectOptions", "ReportOutputs")


def from_values(cls: type[_Options], values: Any) -> _Options:
    """``cls`` from any object with attributes named like its fields (an argparse namespace); missing: None."""
    return cls(**{f.name: getattr(values, f.name, None) for f in fields(cls)})


@dataclass(frozen=True)
class ProjectOptions:
    """Overrides of ``[tool.overlay-parity]`` given on the command line (None: use the setting)."""

    fixture: Path | None = None
    inventory: Path | None = None
    renderer: str | None = None

    def load(self, start: Path | None = None) -> ProjectConfig:
        """The project settings (nearest pyproject.toml from ``start``, default cwd) with these overrides."""
        from harness.project_config import load_project_config

        overrides = {f.name: getattr(self, f.name) for f in fields(self)}
        return load_project_config(start or Path.cwd()).with_overrides(**overrides)


@dataclass(frozen=True)
class ReportOutputs:
    """Report files to write besides the terminal output (None: not asked for)."""

    json_path: Path | None = None
    junit_path: Path | None = None
    sarif_path: Path | None = None
    markdown_path: Path | None = None
    github_summary: bool | None = None
    html_path: Path | None = None

    def check(self, environ: Mapping[str, str]) -> None:
        """Refuse (USAGE) what cannot be written whatever the run finds: ``--github-summary`` outside a
        GitHub Actions job (no ``$GITHUB_STEP_SUMMARY``)."""
        if self.github_summary:
            from harness.report.markdown import require_summary_file

            require_summary_file(environ)

    def write(self, report: Report, *, tool: str) -> None:
        """Write every report file that was asked for (``tool`` names the producer, e.g. in SARIF and as the
        title of Markdown and HTML)."""
        if self.json_path is not None:
            from harness.report.json_report import write_json

            write_json(report, self.json_path)
        if self.junit_path is not None:
            from harness.report.junit import write_junit

            write_junit(report, self.junit_path)
        if self.sarif_path is not None:
            from harness.report.sarif import write_sarif

            write_sarif(report.findings(), self.sarif_path, tool)
        if self.markdown_path is not None:
            from harness.report.markdown import write_markdown

            write_markdown(report, self.markdown_path, title=tool)
        if self.github_summary:
            from harness.report.markdown import append_github_summary

            append_github_summary(report, title=tool)
        if self.html_path is not None:
            from harness.report.html_report import write_html

            write_html(report, self.html_path, title=tool)


NO_REPORTS = ReportOutputs()
"""No report file: the terminal output only."""
