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


def _place(kind: str, finding: Finding, places: ParityPlaces, rendered_path: str) -> tuple[str, int]:
    """``(file, line)`` of one kind of anchor, ``("", 0)`` when it does not exist."""
    whole = finding.path in ("", ".")
    if kind == "overlay" and not whole:
        return repo_relative(places.overlay / finding.path, places.root), finding.line
    if kind == "template" and rendered_path in places.templates:
        return repo_relative(places.templates[rendered_path], places.root), 0
    if kind == "kustomization" and whole:
        return repo_relative(places.overlay / "kustomization.yaml", places.root), 0
    if kind == "config":
        return repo_relative(places.config, places.root), 0
    return "", 0


def _anchor(finding: Finding, places: ParityPlaces, order: tuple[str, ...]) -> Finding:
    rendered_path = str(finding.extra.get("rendered_path") or finding.path)
    related = _related(finding, places, rendered_path)
    if finding.file:
        return dataclasses.replace(finding, related=related)
    for kind in order:
        file, line = _place(kind, finding, places, rendered_path)
        if file:
            others = tuple(place for place in related if place.file != file)  # the anchor is not related to itself
            return dataclasses.replace(finding, file=file, line=line, related=others)
    return dataclasses.replace(finding, related=related)


def anchor_parity(findings: Iterable[Finding], places: ParityPlaces) -> list[Finding]:
    """Findings about a cluster's oracle overlay (parity, or policy run on the overlay directory) with
    ``file``: the overlay's file at ``path`` when it exists (its line kept), else the template that renders
    it, else the overlay's ``kustomization.yaml`` for a finding about the whole overlay, else the cluster
    config (line 0 = the whole file); and ``related``: the template and the inventory rules."""
    return [_anchor(f, places, ("overlay", "template", "kustomization", "config")) for f in findings]


def anchor_rendered(findings: Iterable[Finding], places: ParityPlaces) -> list[Finding]:
    """Findings about a rendered tree (policy on a render, which lives in a temporary directory): anchored
    at the template that renders the file (line 0: the rendered line is not the template's), else at the
    cluster config; ``related`` as :func:`anchor_parity`."""
    return [_anchor(f, places, ("template", "config")) for f in findings]


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
