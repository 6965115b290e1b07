"""One path of one cluster: its overlay-relative form, the two sides it is compared on, a throwaway render.

``diff`` and ``explain`` both start here: a PATH given on either side (rendered or fixture, or a path into
the fixture's overlay directory) becomes an overlay-relative path, alias rules map it to its
(rendered, fixture) :class:`Pair` with every rule concerning it, and :func:`rendered_cluster` renders the
cluster into a temp dir that is deleted afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.project_config import ProjectConfig

if TYPE_CHECKING:  # the run imports these; importing this module does not
    from harness.inventory import Rule, RuleSet
    from harness.renderer_api import Plan
    from harness.runner import ParityRun


def overlay_relative(project: ProjectConfig, cluster: str, text: str) -> str:
    """PATH as a clean overlay-relative POSIX path (a path into the fixture overlay is made relative)."""
    overlay = (project.overlays / cluster).resolve()
    candidate = Path(text)
    if candidate.is_absolute() or candidate.exists():
        try:
            text = candidate.resolve().relative_to(overlay).as_posix()
        except ValueError:
            if candidate.is_absolute():
                raise InputError("PATH-ESCAPE", f"path is outside the {cluster} overlay", file=text,
                                 hint=f"give a path relative to applications/overlays/{cluster}/") from None
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if not parts or any(p in ("..", "") for p in parts) or text.startswith("/"):
        raise InputError("PATH-ESCAPE", "path must be relative to the overlay root, without '..'", file=text,
                         hint="e.g. services/fluxcd/harbor.yaml")
    return "/".join(p for p in parts if p != ".")


@dataclass(frozen=True)
class Pair:
    """The two sides one path is compared on, and the rules that concern them."""

    rendered_path: str
    fixture_path: str
    alias: Rule | None
    ignored_rendered: tuple[Rule, ...]
    ignored_fixture: tuple[Rule, ...]
    path_only: tuple[Rule, ...]
    removals: tuple[Rule, ...]

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule concerning the pair, without duplicates."""
        seen: dict[str, Rule] = {}
        for rule in ((self.alias,) if self.alias else ()) + self.ignored_rendered + self.ignored_fixture \
                + self.path_only + self.removals:
            seen.setdefault(rule.id, rule)
        return tuple(seen.values())


def resolve_pair(ruleset: RuleSet, path: str) -> Pair:
    """Map a path given on either side to its (rendered, fixture) pair through alias rules."""
    from harness.normalizers import path_only_rules, yaml_remove_rules

    alias = ruleset.alias_rule(path)
    if alias is not None and alias.to is not None and not ruleset.ignored_rendered_by(path):
        rendered, fixture = path, alias.to
    elif (source := ruleset.alias_source(path)) is not None:
        alias, rendered, fixture = source, source.path, path
    else:
        alias, rendered, fixture = None, path, path
    return Pair(rendered_path=rendered, fixture_path=fixture, alias=alias,
                ignored_rendered=tuple(ruleset.ignored_rendered_by(rendered)),
                ignored_fixture=tuple(ruleset.ignored_fixture_by(fixture)),
                path_only=path_only_rules(ruleset, fixture, rendered),
                removals=yaml_remove_rules(ruleset, fixture, rendered))


@contextmanager
def rendered_cluster(project: ProjectConfig, cluster: str) -> Iterator[tuple[ParityRun, Path, Plan]]:
    """Validate the cluster, load the run, render into a temp dir (deleted afterwards)."""
    from harness.runner import ParityRun
    from harness.selection import select_clusters

    select_clusters(project, [cluster])
    run = ParityRun.create(project)
    with tempfile.TemporaryDirectory(prefix=f"overlay-parity-{cluster}-") as scratch:
        out = Path(scratch) / cluster
        plan = run.render(cluster, out)
        yield run, out, plan


def file_exists(root: Path, rel: str) -> bool:
    """Whether ``root/rel`` is a regular file (not a link)."""
    path = root / rel
    return path.is_file() and not path.is_symlink()
