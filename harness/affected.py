"""Which clusters a change can affect (``check --changed-since REF`` / ``--changed PATH...``).

A cluster's parity result depends on its config, its oracle tree, the inventory rules that concern it
(its own and the defaults), the templates and descriptors its plan uses, the renderer and the harness.
:func:`select_affected` maps each changed file to the clusters it can affect, and fails safe: whatever
it cannot prove to be narrow selects every cluster, with the reason.

- ``.<cluster>-config.yaml`` of the fixture (modified), or a file under ``applications/overlays/<cluster>/``:
  that cluster. A config added or deleted changes the set of clusters, so every cluster (the stale verdict
  of its rules and of the defaults needs the whole run).
- the inventory: the clusters whose own rules differ from the previous version; a change to ``defaults``
  (or a previous version that cannot be read) selects every cluster. ``version``, ``fixture`` and
  ``path_only_budget`` only concern the inventory check, which always runs.
- a template, modified (it existed before and exists now): the clusters whose plan renders or copies it
  (:class:`harness.renderer_api.Plan` actions); every cluster when templates include one another, or when
  the renderer cannot say what it plans. Added or deleted: every cluster (the coverage gate reads the
  template names, and every render depends on it).
- a descriptor, modified: every cluster when the descriptor-coverage verdict before and after differ or
  either fails, or when what decides enablement (``name``, ``layer``, ``service``, ``managed_service``,
  ``enabled_when``, ``aggregate``, ``aggregate_targets``) changed; else the clusters whose plan enables
  it. Added or deleted: every cluster.
- a file matching ``affected_ignore`` (settings): nothing.
- anything else (renderer or harness code, the settings file, a file the harness does not know):
  every cluster.

Stale rules stay sound because the runner judges cluster rules only for clusters that ran and default
rules only when every cluster ran.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.globs import compile_pattern
from harness.project_config import ProjectConfig
from harness.renderer_api import Plan, Renderer

Previous = Callable[[Path], bytes | None]  # a file's content before the change (None: it did not exist)
PlanOf = Callable[[str], Plan | None]  # a cluster's plan now (None: the renderer cannot say)

_CONFIG = re.compile(r"\.(?P<cluster>.+)-config\.yaml\Z")
_INCLUDES = re.compile(rb"\{%-?\s*(include|import|extends|from)\b")
ENABLEMENT_KEYS = ("name", "layer", "service", "managed_service", "enabled_when", "aggregate", "aggregate_targets")


@dataclass(frozen=True)
class ChangedFile:
    """One changed file: absolute path and status ``A`` added, ``M`` modified, ``D`` deleted, ``?`` unknown."""

    path: Path
    status: str


@dataclass
class Selection:
    """The clusters a change can affect, why, and the ones it cannot."""

    all_clusters: list[str]
    clusters: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    everything: str = ""  # why every cluster is selected ('' when the selection is narrow)
    ignored: list[str] = field(default_factory=list)

    @property
    def not_affected(self) -> list[str]:
        """Clusters the change cannot affect (not checked)."""
        chosen = set(self.clusters)
        return [c for c in self.all_clusters if c not in chosen]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (for report notes)."""
        return {"affected": self.clusters, "not_affected": self.not_affected, "everything": self.everything,
                "reasons": self.reasons, "ignored": self.ignored}


class _Selector:
    def __init__(self, project: ProjectConfig, previous: Previous, plan_of: PlanOf) -> None:
        self.project = project
        self.previous = previous
        self.plan_of = plan_of
        self.clusters = project.clusters()
        self.selection = Selection(all_clusters=self.clusters)
        self._plans: dict[str, Plan | None] = {}
        self._ignore = [compile_pattern(g) for g in project.affected_ignore]

    def everything(self, reason: str) -> None:
        if not self.selection.everything:
            self.selection.everything = reason

    def add(self, cluster: str, reason: str) -> None:
        if cluster in self.clusters:
            self.selection.reasons.setdefault(cluster, []).append(reason)

    def plan(self, cluster: str) -> Plan | None:
        if cluster not in self._plans:
            self._plans[cluster] = self.plan_of(cluster)
        return self._plans[cluster]

    def plans(self) -> dict[str, Plan] | None:
        """Every cluster's plan, or None when one is unknown or says nothing (e.g. a command renderer)."""
        found: dict[str, Plan] = {}
        for cluster in self.clusters:
            plan = self.plan(cluster)
            if plan is None or not plan.actions:
                return None
            found[cluster] = plan
        return found

    # -------------------------------------------------------------------------------------- one file
    def classify(self, change: ChangedFile) -> None:
        path, project = change.path, self.project
        shown = _relative(path, project.root)
        if shown is not None and any(g.match(shown) for g in self._ignore):
            self.selection.ignored.append(shown)
            return
        fixture_rel = _relative(path, project.fixture)
        if fixture_rel is not None and "/" not in fixture_rel and (match := _CONFIG.match(fixture_rel)):
            if change.status != "M":
                self.everything(f"config {fixture_rel} was added or deleted: the set of clusters changed "
                                "(its rules and the defaults are judged stale only over every cluster)")
                return
            self.add(match.group("cluster"), f"config {fixture_rel}")
            return
        overlay_rel = _relative(path, project.overlays)
        if overlay_rel is not None and "/" in overlay_rel:
            cluster = overlay_rel.split("/", 1)[0]
            self.add(cluster, f"oracle file {overlay_rel}")
            return
        if path == project.inventory.resolve():
            self.inventory(change)
            return
        template_rel = _relative(path, project.template_root)
        if template_rel is not None:
            self.template(change, template_rel)
            return
        descriptor_rel = _relative(path, project.descriptor_root)
        if descriptor_rel is not None:
            self.descriptor(change, descriptor_rel)
            return
        if project.source is not None and path == project.source:
            self.everything(f"the settings file {project.source.name} changed")
            return
        self.everything(f"{shown or path} is not a config, oracle file, inventory, template or descriptor "
                        "(renderer or harness code, or unknown)")

    def inventory(self, change: ChangedFile) -> None:
        from harness.inventory import parse_inventory

        old = self.previous(change.path)
        if old is None or change.status in ("A", "D"):
            self.everything("the inventory was added or deleted")
            return
        try:
            before = parse_inventory(old.decode("utf-8"), "previous inventory")
            after = parse_inventory(change.path.read_text(encoding="utf-8"), "inventory")
        except (InputError, UnicodeDecodeError, OSError):
            self.everything("the inventory (before or after) does not load")
            return
        if _rules(before.defaults) != _rules(after.defaults):
            self.everything("the inventory's defaults changed")
            return
        for name in sorted(set(before.clusters) | set(after.clusters)):
            if _rules(before.clusters.get(name, ())) != _rules(after.clusters.get(name, ())):
                self.add(name, "its inventory rules changed")

    def template(self, change: ChangedFile, rel: str) -> None:
        if change.status != "M":
            self.everything(f"template {rel} was added or deleted (descriptor coverage, read by every render)")
            return
        if _templates_include(self.project.template_root):
            self.everything(f"template {rel} changed and templates include one another")
            return
        plans = self.plans()
        if plans is None:
            self.everything(f"template {rel} changed and the renderer does not say which clusters use it")
            return
        for cluster, plan in plans.items():
            if any(a.template == rel for a in plan.actions):
                self.add(cluster, f"its plan uses template {rel}")

    def descriptor(self, change: ChangedFile, rel: str) -> None:
        if change.status != "M":
            self.everything(f"descriptor {rel} was added or deleted")
            return
        old = self.previous(change.path)
        new, before = _load_yaml(change.path.read_bytes()), _load_yaml(old) if old is not None else None
        if not isinstance(new, dict) or not isinstance(before, dict):
            self.everything(f"descriptor {rel} (before or after) does not load")
            return
        if any(new.get(k) != before.get(k) for k in ENABLEMENT_KEYS):
            self.everything(f"descriptor {rel}: what decides where it is enabled changed")
            return
        if not _same_coverage(self.project, change.path, old):
            self.everything(f"descriptor {rel}: the descriptor-coverage verdict changed or fails")
            return
        plans = self.plans()
        if plans is None:
            self.everything(f"descriptor {rel} changed and the renderer does not say which clusters enable it")
            return
        name = new.get("name")
        for cluster, plan in plans.items():
            if any(d.descriptor == name and d.enabled and not d.subject for d in plan.decisions) or any(
                    a.owner == name for a in plan.actions):
                self.add(cluster, f"its plan enables descriptor {name}")


def select_affected(project: ProjectConfig, changes: Iterable[ChangedFile], *, previous: Previous,
                    plan_of: PlanOf) -> Selection:
    """The clusters ``changes`` can affect (see the module docstring); every cluster when unsure."""
    selector = _Selector(project, previous, plan_of)
    for change in changes:
        selector.classify(ChangedFile(change.path.resolve(), change.status))
    selection = selector.selection
    if selection.everything:
        selection.clusters = list(selector.clusters)
    else:
        selection.clusters = [c for c in selector.clusters if c in selection.reasons]
    return selection


# ------------------------------------------------------------------------------------------ helpers

def _relative(path: Path, root: Path) -> str | None:
    try:
        rel = path.relative_to(root.resolve())
    except ValueError:
        return None
    text = rel.as_posix()
    return None if text == "." else text


def _rules(rules: Iterable[Any]) -> list[dict[str, Any]]:
    return [r.as_written() for r in rules]


def _load_yaml(data: bytes) -> Any:
    from harness.yamlio import load_documents

    try:
        docs = load_documents(data.decode("utf-8"), "descriptor")
    except (InputError, UnicodeDecodeError):
        return None
    return docs[0] if len(docs) == 1 else None


def _templates_include(root: Path) -> bool:
    """Whether any template includes, imports or extends another (then a template's users are unknown)."""
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if _INCLUDES.search(path.read_bytes()):
                    return True
            except OSError:
                return True
    return False


def _coverage_errors(template_root: Path, descriptor_root: Path) -> set[str]:
    from harness.coverage import check_coverage
    from harness.findings import Severity

    try:
        findings = check_coverage(template_root, descriptor_root)
    except InputError as error:
        return {error.code}
    return {f"{f.code} {f.path} {f.message}" for f in findings if f.severity is Severity.ERROR}


def _same_coverage(project: ProjectConfig, descriptor: Path, old: bytes | None) -> bool:
    """Whether descriptor coverage passes both with ``old`` in place of ``descriptor`` and as it is now."""
    if old is None:
        return False
    now = _coverage_errors(project.template_root, project.descriptor_root)
    if now:
        return False
    with tempfile.TemporaryDirectory(prefix="overlay-parity-affected-") as scratch:
        copy = Path(scratch) / "descriptors"
        shutil.copytree(project.descriptor_root, copy, symlinks=True)
        (copy / descriptor.relative_to(project.descriptor_root.resolve())).write_bytes(old)
        return not _coverage_errors(project.template_root, copy)


# ------------------------------------------------------------------------------------------ git

def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise InputError("TOOL-MISSING", "git is not installed; --changed-since and --changed need it",
                         hint="install git, or run the whole check")
    return subprocess.run([git, "-C", str(root), *args], capture_output=True, check=False)


def git_toplevel(root: Path) -> Path:
    """The top of the git work tree holding ``root`` (USAGE outside a git repository)."""
    proc = _git(root, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise InputError("USAGE", "not inside a git repository; --changed-since and --changed need one",
                         file=str(root), hint="run the whole check, without --changed-since/--changed")
    return Path(proc.stdout.decode().strip()).resolve()


def git_previous(root: Path, ref: str) -> Previous:
    """A :data:`Previous` reading files at ``ref`` (``git show REF:path``)."""
    top = git_toplevel(root)

    def previous(path: Path) -> bytes | None:
        try:
            rel = path.resolve().relative_to(top).as_posix()
        except ValueError:
            return None
        proc = _git(top, "show", f"{ref}:{rel}")
        return proc.stdout if proc.returncode == 0 else None

    return previous


def changed_since(root: Path, ref: str) -> list[ChangedFile]:
    """Files that differ between ``ref`` and the working tree (staged or not), plus untracked files."""
    top = git_toplevel(root)
    if _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise InputError("USAGE", f"unknown git revision {ref!r}", file=str(top),
                         hint="name a branch, tag or commit, e.g. --changed-since origin/main")
    diff = _git(top, "diff", "--name-status", "--no-renames", "-z", ref, "--")
    if diff.returncode != 0:
        raise InputError("USAGE", f"git diff against {ref!r} failed", file=str(top), hint="check the revision")
    parts = [p.decode("utf-8", "surrogateescape") for p in diff.stdout.split(b"\0") if p]
    changes = [ChangedFile(top / path, status if status in ("A", "M", "D") else "?")
               for status, path in zip(parts[::2], parts[1::2], strict=False)]
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    changes += [ChangedFile(top / p.decode("utf-8", "surrogateescape"), "A") for p in untracked.stdout.split(b"\0")
                if p]
    return changes


def changed_paths(paths: Sequence[Path], previous: Previous) -> list[ChangedFile]:
    """``--changed PATH...``: each path's status against its previous version (HEAD for the hook)."""
    changes: list[ChangedFile] = []
    for path in paths:
        full = path.resolve()
        if not full.exists():
            changes.append(ChangedFile(full, "D"))
        elif full.is_dir():
            raise InputError("USAGE", "--changed takes files, not directories", file=str(path),
                             hint="list the changed files (e.g. git diff --name-only)")
        else:
            changes.append(ChangedFile(full, "A" if previous(full) is None else "M"))
    return changes


def renderer_plans(project: ProjectConfig, renderer: Renderer) -> PlanOf:
    """A :data:`PlanOf` that asks the renderer for a plan without rendering when it can (``plan(config)``,
    as the reference renderer has), else renders the cluster (a command renderer's ``{diagnostics}``)."""

    def plan_of(cluster: str) -> Plan | None:
        config = project.config_for(cluster)
        try:
            planner = getattr(renderer, "plan", None)
            if callable(planner):
                planned = planner(config)
                plan = getattr(planned, "plan", planned)
                return plan if isinstance(plan, Plan) else None
            with tempfile.TemporaryDirectory(prefix="overlay-parity-plan-") as scratch:
                return renderer.render(config, Path(scratch) / cluster)
        except InputError:
            return None

    return plan_of


def select_changes(project: ProjectConfig, renderer: Renderer, *, since: str | None = None,
                   paths: Sequence[Path] = ()) -> Selection:
    """The selection for ``--changed-since REF`` (git diff against REF, previous contents at REF) or
    ``--changed PATH...`` (previous contents at HEAD; outside git every path counts as added)."""
    if since is not None:
        previous = git_previous(project.root, since)
        changes = changed_since(project.root, since)
    else:
        try:
            previous = git_previous(project.root, "HEAD")
        except InputError:
            def previous(path: Path) -> bytes | None:
                return None
        changes = changed_paths(paths, previous)
    return select_affected(project, changes, previous=previous, plan_of=renderer_plans(project, renderer))


def staged_paths(root: Path) -> list[Path]:
    """Every path staged for commit (added, modified, deleted; renames as a deletion and an addition), for
    the ``parity-affected`` hook: pre-commit passes no deleted files, so the hook asks git itself."""
    top = git_toplevel(root)
    proc = _git(top, "diff", "--cached", "--name-only", "--no-renames", "-z")
    if proc.returncode != 0:
        raise InputError("USAGE", "git diff --cached failed", file=str(top), hint="run the hook inside a git work tree")
    return [top / p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]
