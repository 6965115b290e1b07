"""``overlay-parity diff``: the full, redacted difference of one file of one cluster, rules applied.

    overlay-parity diff --cluster C PATH [--fixture DIR] [--inventory FILE] [--renderer CMD]

PATH is relative to the overlay root (``services/fluxcd/harbor.yaml``), on either side: a rendered path
that an ``alias`` rule maps is compared with its fixture path and vice versa; a path into the fixture's
overlay directory (``testdata/.../applications/overlays/k8s-dev/services/...``) works too. The cluster
is rendered into a temp dir; YAML is shown as a complete YAML-path diff after ``yaml_remove`` rules
(fixture → rendered), other text as a unified diff with credential-looking values masked, binary files
as sizes and fingerprints. Exit 0 when the check would accept the file, 1 when it would report it,
2 for bad input.
"""

from __future__ import annotations

import argparse
import difflib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from harness.commands import one_line_help
from harness.commands.check import add_project_options, project_from_args
from harness.errors import InputError
from harness.project_config import ProjectConfig
from harness.redact import fingerprint, redact_text, safe_line
from harness.tree import Ownership, classify, read_file

if TYPE_CHECKING:  # the run imports these; ``diff --help`` does not
    from harness.inventory import Rule, RuleSet
    from harness.renderer_api import Plan
    from harness.runner import ParityRun

FULL = 1_000_000


def register(subparsers: Any) -> None:
    """Add the ``diff`` sub-command."""
    parser = subparsers.add_parser(
        "diff", help=one_line_help("diff"),
        description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cluster", required=True, metavar="C", help="the cluster to render")
    parser.add_argument("path", metavar="PATH", help="overlay-relative path, rendered or fixture side")
    add_project_options(parser)
    parser.set_defaults(func=run)


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


def text_diff(fixture: bytes, rendered: bytes, fixture_name: str, rendered_name: str) -> list[str]:
    """A unified diff of two text files, each line masked by :func:`harness.redact.safe_line`."""
    if b"\x00" in fixture or b"\x00" in rendered:
        return [f"binary content differs: {len(fixture)} bytes {fingerprint(fixture)} → "
                f"{len(rendered)} bytes {fingerprint(rendered)}"]
    old = fixture.decode("utf-8", "replace").splitlines()
    new = rendered.decode("utf-8", "replace").splitlines()
    lines = []
    for line in difflib.unified_diff(old, new, fixture_name, rendered_name, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            lines.append(line)
        else:
            lines.append(line[:1] + safe_line(line[1:], limit=200))
    if not lines and fixture != rendered:
        lines.append("line endings or the final newline differ")
    return lines


def run(args: argparse.Namespace) -> int:
    """Render, compare the one file, print the diff; returns 0 (accepted) or 1 (the check reports it)."""
    from harness.config_secrets import config_secrets
    from harness.parity import compare_pair
    from harness.selection import select_clusters

    project = project_from_args(args)
    select_clusters(project, [args.cluster])
    path = overlay_relative(project, args.cluster, args.path)
    owner = classify(path)
    if owner is not Ownership.OWNED:
        what = ("bootstrap-owned (flux-system/): never rendered, never compared" if owner is Ownership.BOOTSTRAP
                else "not renderer-owned: excluded from parity")
        print(f"{args.cluster}: {path} is {what}")
        return 0
    with rendered_cluster(project, args.cluster) as (parity_run, out, plan):
        fixture_root = parity_run.fixture_overlay(args.cluster)
        pair = resolve_pair(parity_run.inventory.rules_for(args.cluster), path)
        has_rendered = file_exists(out, pair.rendered_path)
        has_fixture = file_exists(fixture_root, pair.fixture_path)
        owner_name = plan.owner_of(pair.rendered_path)
        if not has_rendered and not has_fixture:
            raise InputError("FILE-MISSING", f"neither the renderer nor the fixture has {path}",
                             file=str(fixture_root / pair.fixture_path),
                             hint="check the path (overlay-relative, e.g. services/fluxcd/harbor.yaml)")
        print(f"cluster {args.cluster}: fixture {pair.fixture_path}"
              + (f" / rendered {pair.rendered_path}" if pair.rendered_path != pair.fixture_path else ""))
        if owner_name:
            print(f"owner: {owner_name}")
        for rule in pair.rules:
            print(f"rule: {rule.id} ({rule.kind}, {rule.scope}): {rule.rationale}")
        ignored = pair.ignored_rendered + pair.ignored_fixture
        if not has_rendered or not has_fixture:
            side = "fixture" if has_fixture else "rendered output"
            code = "PARITY-MISSING" if has_fixture else "PARITY-UNEXPECTED"
            verdict = "ignored by " + ", ".join(r.id for r in ignored) if ignored else code
            print(f"only in the {side}: {verdict}")
            return 0 if ignored else 1
        max_bytes = project.max_file_bytes
        removals = () if pair.path_only else pair.removals
        comparison, effective = compare_pair(out, pair.rendered_path, fixture_root, pair.fixture_path, removals,
                                             max_file_bytes=max_bytes)
        print(f"--- fixture:{pair.fixture_path}\n+++ rendered:{pair.rendered_path}")
        if comparison.equal:
            note = " (identical bytes)" if comparison.byte_identical else " (equal as YAML data)"
            if effective:
                note += f" after yaml_remove {', '.join(sorted(effective))}"
            print("no difference" + note)
            return 0
        if comparison.parsed or comparison.parse_failures:
            lines = list(comparison.diff_lines(max_lines=FULL))
        else:
            lines = text_diff(read_file(fixture_root, pair.fixture_path, max_file_bytes=max_bytes),
                              read_file(out, pair.rendered_path, max_file_bytes=max_bytes),
                              f"fixture:{pair.fixture_path}", f"rendered:{pair.rendered_path}")
            if len(lines) >= 2 and lines[0].startswith("---") and lines[1].startswith("+++"):
                lines = lines[2:]  # the file header was printed already
        hidden = config_secrets(project.config_for(args.cluster), max_bytes=max_bytes)
        for line in lines:
            print(f"  {redact_text(line, hidden) if hidden else line}")
        if ignored:
            print("accepted: ignored by " + ", ".join(r.id for r in ignored))
            return 0
        if pair.path_only:
            print("accepted: path_only " + ", ".join(r.id for r in pair.path_only) + " (content not compared)")
            return 0
        code = "PARITY-PARSE" if comparison.parse_failures else "PARITY-CONTENT"
        count = len(comparison.changes)
        print(f"differs: {code}" + (f" ({count} change{'s' if count != 1 else ''})" if count else ""))
        return 1

