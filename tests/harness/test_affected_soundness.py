"""Soundness of ``check --changed``: for random single-file edits, every cluster whose result changes is selected.

Each example edits one file of a project (modify, delete or add a sibling), recomputes every cluster's parity
result from scratch and compares it with the result before the edit, then restores the file. The projects are
a copy of the bundled fixture (with a copy of the reference templates and descriptors, rendered by a
reference renderer pointed at those copies) and a small generated fleet (benchmarks/generator.py).
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.generator import generate
from harness.affected import ChangedFile, renderer_plans, select_affected
from harness.errors import InputError
from harness.inventory import parse_inventory
from harness.parity import compare_cluster
from harness.project_config import ProjectConfig
from renderer.api import ReferenceRenderer
from renderer.descriptors import DESCRIPTOR_ROOT, TEMPLATE_ROOT

ROOT = Path(__file__).resolve().parents[2]
_CLOCK = itertools.count(1_900_000_000_000_000_000, 1_000_000_000)  # strictly increasing mtimes (ns)


def touch(path: Path) -> None:
    """A new, later mtime, so every cache keyed by mtime (Jinja, descriptors, coverage) sees the edit."""
    stamp = next(_CLOCK)
    os.utime(path, ns=(stamp, stamp))


@dataclass
class Workspace:
    """A project on disk whose files the test edits, with every cluster's result before any edit."""

    project: ProjectConfig
    renderer: ReferenceRenderer
    files: list[Path]
    baseline: dict[str, Any] = field(default_factory=dict)
    narrow_hits: int = 0

    def results(self) -> dict[str, Any]:
        """Every cluster's parity result, computed from scratch (an input error is a result too)."""
        try:
            inventory: Any = parse_inventory(self.project.inventory.read_text(encoding="utf-8"), "inventory")
        except (InputError, OSError, UnicodeDecodeError) as error:
            inventory = f"inventory error {type(error).__name__}"
        out: dict[str, Any] = {}
        for cluster in self.project.clusters():
            out[cluster] = self.result(cluster, inventory)
        return out

    def result(self, cluster: str, inventory: Any) -> Any:
        if isinstance(inventory, str):
            return inventory
        try:
            rendered = self.renderer.render_files(self.project.config_for(cluster))
            outcome = compare_cluster(cluster, rendered.files, self.project.overlays / cluster,
                                      inventory.rules_for(cluster), rendered.plan,
                                      max_file_bytes=self.project.max_file_bytes)
        except InputError as error:
            return f"error {error.code} {error.message}"
        return (sorted((f.code, f.path, f.message, f.diff, f.severity.value, f.rules) for f in outcome.findings),
                sorted(outcome.matched_rules))


def copy_templates(root: Path) -> tuple[Path, Path]:
    templates, descriptors = root / "templates", root / "descriptors"
    shutil.copytree(TEMPLATE_ROOT, templates)
    shutil.copytree(DESCRIPTOR_ROOT, descriptors)
    return templates, descriptors


def editable_files(project: ProjectConfig, *, oracle_every: int = 1) -> list[Path]:
    files = [project.inventory, *sorted(project.fixture.glob(".*-config.yaml"))]
    oracle = sorted(p for p in project.overlays.rglob("*") if p.is_file())
    files += oracle[::oracle_every]
    files += sorted(p for p in project.template_root.rglob("*") if p.is_file())
    files += sorted(project.descriptor_root.glob("*.yaml"))
    return files


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    root = tmp_path_factory.mktemp("affected-bundled")
    shutil.copytree(ROOT / "testdata" / "relaypoint-logistics-shared", root / "fixture")
    shutil.copy(ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml", root / "inventory.yaml")
    templates, descriptors = copy_templates(root)
    project = ProjectConfig(root=root, fixture=root / "fixture", inventory=root / "inventory.yaml",
                            template_root=templates, descriptor_root=descriptors)
    space = Workspace(project, ReferenceRenderer(template_root=templates, descriptor_root=descriptors),
                      editable_files(project))
    space.baseline = space.results()
    return space


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    root = tmp_path_factory.mktemp("affected-fleet")
    built = generate(root / "fleet", clusters=6)
    templates, descriptors = copy_templates(root)
    project = ProjectConfig(root=built.root, fixture=built.fixture, inventory=built.inventory,
                            template_root=templates, descriptor_root=descriptors)
    space = Workspace(project, ReferenceRenderer(template_root=templates, descriptor_root=descriptors),
                      editable_files(project, oracle_every=7))
    space.baseline = space.results()
    return space


@st.composite
def edits(draw: st.DrawFn, files: list[Path]) -> tuple[Path, str, int, int]:
    target = draw(st.sampled_from(files))
    action = draw(st.sampled_from(["value", "value", "drop-line", "append", "delete", "add"]))
    return target, action, draw(st.integers(0, 10_000)), draw(st.integers(0, 3))


def mutate(text: str, action: str, position: int, variant: int) -> str:
    lines = text.splitlines(keepends=True)
    if action == "append" or not lines:
        return text + ["x-edited: true\n", "# a comment\n", "\n", "extra: [1, 2]\n"][variant]
    index = position % len(lines)
    line = lines[index]
    if action == "drop-line":
        del lines[index]
        return "".join(lines)
    head, sep, tail = line.partition(": ")
    value = ["edited", "'7'", "true", "{}"][variant]
    lines[index] = f"{head}{sep}{value}\n" if sep and tail.strip() else line.rstrip("\n") + f" {value}\n"
    return "".join(lines)


def check_sound(space: Workspace, edit: tuple[Path, str, int, int]) -> None:
    target, action, position, variant = edit
    old = target.read_bytes()
    added = target.with_name(f"added-{position}{target.suffix}")
    changed = added if action == "add" else target
    try:
        if action == "delete":
            target.unlink()
            status = "D"
        elif action == "add":
            added.write_bytes(old)
            touch(added)
            status = "A"
        else:
            target.write_text(mutate(old.decode("utf-8", "replace"), action, position, variant), encoding="utf-8")
            touch(target)
            status = "M"

        def previous(path: Path) -> bytes | None:
            if path == changed.resolve():
                return None if action == "add" else old
            return path.read_bytes() if path.exists() else None

        selection = select_affected(space.project, [ChangedFile(changed, status)], previous=previous,
                                    plan_of=renderer_plans(space.project, space.renderer))
        after = space.results()
    finally:
        if action == "add":
            added.unlink(missing_ok=True)
            touch(added.parent)
        else:
            target.write_bytes(old)
            touch(target)
    differing = sorted(c for c in set(after) | set(space.baseline) if after.get(c) != space.baseline.get(c))
    # A cluster whose config was deleted cannot be checked: then the whole run (every remaining cluster) must be.
    missed = [c for c in differing if c not in selection.clusters and not (c not in after and selection.everything)]
    if differing and not selection.everything:
        space.narrow_hits += 1  # a narrow selection that had to hold a changed result
    assert not missed, (f"{action} {changed}: results changed in {missed} but the selection was "
                        f"{selection.clusters} ({selection.reasons}, {selection.everything!r})")


PROPERTY = settings(max_examples=int(os.environ.get("AFFECTED_EXAMPLES", "25")), deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
def test_single_file_edits_of_the_bundled_fixture_select_every_cluster_they_change(bundled: Workspace) -> None:
    @PROPERTY
    @given(edits(bundled.files))
    def prop(edit: tuple[Path, str, int, int]) -> None:
        check_sound(bundled, edit)

    prop()
    assert bundled.results() == bundled.baseline  # every edit was undone
    assert bundled.narrow_hits > 0, "no example changed a result under a narrow selection: the test proves nothing"


@pytest.mark.slow
def test_single_file_edits_of_a_generated_fleet_select_every_cluster_they_change(fleet: Workspace) -> None:
    @PROPERTY
    @given(edits(fleet.files))
    def prop(edit: tuple[Path, str, int, int]) -> None:
        check_sound(fleet, edit)

    prop()
    assert fleet.results() == fleet.baseline
    assert fleet.narrow_hits > 0, "no example changed a result under a narrow selection: the test proves nothing"


def test_narrow_edits_select_only_their_cluster(bundled: Workspace) -> None:
    """The selection is not trivially everything: a config, an oracle file or a used template is narrow."""
    project = bundled.project
    plan_of = renderer_plans(project, bundled.renderer)

    def select(path: Path, status: str = "M") -> list[str]:
        return select_affected(project, [ChangedFile(path, status)], previous=lambda p: p.read_bytes(),
                               plan_of=plan_of).clusters

    assert select(project.config_for("k8s-qa")) == ["k8s-qa"]
    assert select(project.overlays / "k8s-dr" / "kustomization.yaml") == ["k8s-dr"]
    assert select(project.template_root / "services" / "harbor" / "certificate.yaml") == ["k8s-dev"]
    assert select(project.template_root / "services" / "harbor" / "certificate.yaml", "A") == project.clusters()
    assert select(project.descriptor_root / "harbor.yaml") == ["k8s-dev", "k8s-dr"]
    assert select(project.root / "unknown.txt") == project.clusters()
