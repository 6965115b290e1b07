"""Anchor findings at files that exist in the repository, for code scanning and reviewers.

A check names a file the way it sees it (parity: relative to the cluster's overlay); reports need the
repository-relative path of a file that exists, plus the places a reviewer looks next. This module
fills :attr:`Finding.file` and :attr:`Finding.related` from what the run knows -- the project root, the
cluster's oracle overlay, the render plan's template per output, the inventory rules' lines -- and
never invents a path: a place that does not exist on disk is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.findings import Finding, Location

# Parity codes whose path names a file of the fixture overlay.
_FIXTURE_SIDE = frozenset({"PARITY-CONTENT", "PARITY-PARSE", "PARITY-MISSING"})


def repo_relative(path: Path, root: Path) -> str:
    """``path`` as a POSIX path relative to ``root`` when it is a regular file inside it, else ''."""
    try:
        relative = path.resolve().relative_to(root.resolve())
        return relative.as_posix() if path.is_file() else ""
    except (OSError, ValueError, RuntimeError):
        return ""


@dataclasses.dataclass(frozen=True)
class ParityPlaces:
    """What one cluster's parity run knows about where things live."""

    root: Path
    overlay: Path
    config: Path
    templates: Mapping[str, Path]  # rendered output path -> template file
    rule_places: Mapping[str, tuple[str, int]]  # inventory rule id -> (repository-relative file, line)

    @classmethod
    def of(cls, root: Path, overlay: Path, config: Path, template_root: Path | None,
           outputs: Iterable[tuple[str, str]], rules: Iterable[tuple[str, str, int]]) -> ParityPlaces:
        """From ``(output, template)`` pairs of a plan and ``(rule id, file, line)`` of the inventory; the
        rule files are relative to ``root`` (as the inventory shows them)."""
        templates = {output: template_root / template for output, template in outputs if template_root and template}
        return cls(root, overlay, config, templates, {rule_id: (file, line) for rule_id, file, line in rules})


def _related(finding: Finding, places: ParityPlaces, rendered_path: str) -> tuple[Location, ...]:
    found: list[Location] = list(finding.related)
    known = {(r.file, r.role) for r in found}
    template = places.templates.get(rendered_path)
    template_file = repo_relative(template, places.root) if template is not None else ""
    if template_file and (template_file, "template") not in known:
        found.append(Location(template_file, 0, "template"))
    for rule_id in finding.rules:
        file, line = places.rule_places.get(rule_id, ("", 0))
        if file and repo_relative(places.root / file, places.root) and (file, "inventory-rule") not in known:
            found.append(Location(file, line, "inventory-rule"))
            known.add((file, "inventory-rule"))
    return tuple(found)


def anchor_parity(findings: Iterable[Finding], places: ParityPlaces) -> list[Finding]:
    """Each parity finding with ``file`` (the fixture file; for a rendered-only file its template, else
    the cluster config; ``line`` is kept for the fixture file and 0 = the whole file otherwise) and
    ``related`` (template, inventory rules)."""
    anchored: list[Finding] = []
    config = repo_relative(places.config, places.root)
    for finding in findings:
        rendered_path = str(finding.extra.get("rendered_path") or finding.path)
        file = finding.file
        line = finding.line
        if not file and finding.code in _FIXTURE_SIDE and finding.path:
            file = repo_relative(places.overlay / finding.path, places.root)
        if not file and rendered_path in places.templates:
            file, line = repo_relative(places.templates[rendered_path], places.root), 0
        if not file:
            file, line = config, 0
        anchored.append(dataclasses.replace(finding, file=file, line=line if file else finding.line,
                                            related=_related(finding, places, rendered_path)))
    return anchored


def anchor_in_root(findings: Iterable[Finding], root: Path) -> list[Finding]:
    """Findings whose ``path`` already names a file relative to ``root`` (inventory, secrets) with ``file`` set
    to it; others unchanged."""
    anchored: list[Finding] = []
    for finding in findings:
        file = finding.file or (repo_relative(root / finding.path, root) if finding.path else "")
        if file and not finding.file:
            finding = dataclasses.replace(finding, file=file)
        anchored.append(finding)
    return anchored
