"""Planning: which descriptor renders which template to which output, and why, for one cluster config.

The plan is a pure function of (descriptors, template root listing, config). It is deterministic:
descriptors are decided in planning order (layer, contributors before aggregates, name) and the
actions are sorted by output path. Every descriptor gets one :class:`Decision` (enabled or not, which
field, which value), and so does every conditional root or file of an enabled descriptor.

Aggregates (``aggregate: {directory: ...}``) list their members from the plan: the planned ``files``
outputs of enabled contributors located directly in the aggregate directory. Membership is computed
from descriptors and config only, so a single-service plan (``service=NAME``) plans that unit and the
aggregates it contributes to without listing any other template directory or output.

Extension over docs/contracts.md §4: ``files[].for_each: <dotted list field>`` plans the entry once per
list item (the customer-managed layer needs one Flux Kustomization file per configured entry, which
the bounded §4 format cannot express). The item is ``item`` in the output path and in the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import jinja2

from harness.errors import InputError
from harness.renderer_api import Action, Decision, Plan
from renderer.conditions import Condition, evaluate, masked, show_value
from renderer.config import get_field, schema_has_field
from renderer.config_model import ClusterConfig
from renderer.descriptors import (
    OWNED_DIRS,
    OWNED_FILES,
    TEMPLATE_ROOT,
    Descriptor,
    DescriptorSet,
    FileSpec,
    check_output_path,
    excluded,
    output_template,
)
from renderer.templatetree import (
    TemplateTree,
    refuse_file_named_directory,
    snapshot,
    strict_walk,
    unreadable,
    walk_files,
)

RENDERER_NAME = "renderer.api:RENDERER"


@dataclass(frozen=True)
class PlannedFile:
    """One output file of the plan, with what the renderer needs beyond the public :class:`Action`."""

    owner: str
    template: str
    output: str
    mode: str
    reason: str
    item: Any = None
    members: tuple[str, ...] | None = None
    from_root: bool = False
    named_by_config: bool = False  # the output path is a template over config values

    def action(self) -> Action:
        """The public, JSON-ready action."""
        return Action(owner=self.owner, template=self.template, output=self.output, mode=self.mode,
                      reason=self.reason)


@dataclass
class RenderPlan:
    """A plan plus everything needed to execute it (template context, replaced paths)."""

    plan: Plan
    files: tuple[PlannedFile, ...]
    context: dict[str, Any]
    replaced: tuple[str, ...]
    template_root: Path
    service: str | None = None
    outputs_by_owner: dict[str, frozenset[str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    options: dict[str, Mapping[str, Any]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- context

def build_context(config: ClusterConfig) -> dict[str, Any]:
    """The template context shared by every template of one render (plain data, read-only use).

    Names: ``opencenter``, ``secrets`` (the whole config), shortcuts ``meta``, ``cluster``, ``gitops``,
    ``base_repo``, ``flux``, ``overlay_units``, ``customer_managed``, ``sops``, ``services``,
    ``managed_services``, plus ``cluster_name``, ``overlay_path`` (the Flux path of this overlay),
    ``sops_enabled`` and ``service_enabled(name)``. Per file the renderer adds ``descriptor``,
    ``service``, ``svc`` (the unit's options), ``item``, ``members``, ``output`` and ``has_output()``.
    """
    data = config.data
    opencenter: Mapping[str, Any] = data.get("opencenter", {})
    gitops: Mapping[str, Any] = opencenter.get("gitops", {})
    units: Mapping[str, Any] = gitops.get("overlay_units", {})
    services: Mapping[str, Any] = opencenter.get("services", {})
    sops: Mapping[str, Any] = units.get("sops", {"enabled": False})

    return {
        "config": data,
        "opencenter": opencenter,
        "secrets": data.get("secrets", {}),
        "meta": opencenter.get("meta", {}),
        "cluster": opencenter.get("cluster", {}),
        "cluster_name": config.cluster,
        "gitops": gitops,
        "base_repo": gitops.get("base_repo", {}),
        "flux": gitops.get("flux", {}),
        "overlay_units": units,
        "customer_managed": units.get("customer_managed", {"enabled": False}),
        "sops": sops,
        "sops_enabled": sops.get("enabled") is True,
        "services": services,
        "managed_services": opencenter.get("managed_services", {}),
        "overlay_path": f"./applications/overlays/{config.cluster}",
        "service_enabled": ServiceEnabled(services),
    }


class ServiceEnabled:
    """``service_enabled(name)`` of the template context: whether the config enables a known service."""

    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services
        self.memo_key = tuple((name, self(name)) for name in services if schema_has_field(
            f"opencenter.services.{name}.enabled"))  # what every answer depends on (renderer.output_memo)

    def __call__(self, name: str) -> bool:
        """True when ``opencenter.services.<name>.enabled`` is true; an unknown service is a template error."""
        if not schema_has_field(f"opencenter.services.{name}.enabled"):
            raise jinja2.TemplateRuntimeError(f"service_enabled(): unknown service '{name}'")
        options = self._services.get(name)
        return isinstance(options, Mapping) and options.get("enabled") is True


def unit_options(descriptor: Descriptor, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The config options of the descriptor's service or managed service ({} for cluster units)."""
    if not descriptor.unit:
        return {}
    section = "services" if descriptor.service else "managed_services"
    found, value = get_field(data, f"opencenter.{section}.{descriptor.unit}")
    return value if found and isinstance(value, Mapping) else {}


# ------------------------------------------------------------------------------------------ planning

@dataclass
class _Planner:
    descriptors: DescriptorSet
    config: ClusterConfig
    template_root: Path
    context: dict[str, Any]
    tree: TemplateTree | None = None  # a complete snapshot of template_root; None: ask the file system
    decisions: list[Decision] = field(default_factory=list)
    _enabled: dict[str, tuple[bool, str, str, Any]] = field(default_factory=dict)
    _found: dict[tuple[str, bool], Path] = field(default_factory=dict)  # template paths the snapshot resolved
    _declared: dict[str, list[PlannedFile]] = field(default_factory=dict)  # declared files by descriptor

    # -- enablement ---------------------------------------------------------------------------
    def shown(self, dotted: str) -> Any:
        """A field's value as diagnostics carry it: scalars as they are, containers summarised, secrets masked."""
        value = masked(dotted, get_field(self.config.data, dotted)[1])
        return show_value(dotted, value) if isinstance(value, Mapping | list) else value

    def enabled(self, descriptor: Descriptor) -> tuple[bool, str, str, Any]:
        """(enabled, reason, deciding field, masked value) — cached per descriptor."""
        if descriptor.name in self._enabled:
            return self._enabled[descriptor.name]
        conditions: list[Condition] = []
        if descriptor.enablement_field:
            conditions.append(Condition(descriptor.enablement_field, "true"))
        if descriptor.enabled_when is not None:
            conditions.append(descriptor.enabled_when)
        result: tuple[bool, str, str, Any] = (True, "always rendered (no condition)", "", None)
        reasons: list[str] = []
        for condition in conditions:
            ok, reason = evaluate(condition, self.config.data)
            reasons.append(reason)
            result = (ok, "; ".join(reasons), condition.field, self.shown(condition.field))
            if not ok:
                break
        self._enabled[descriptor.name] = result
        return result

    def decide(self, descriptor: Descriptor) -> bool:
        """Record the descriptor decision; return whether it is enabled."""
        ok, reason, dotted, value = self.enabled(descriptor)
        self.decisions.append(Decision(descriptor.name, ok, reason, dotted, value))
        return ok

    def condition(self, descriptor: Descriptor, condition: Condition | None, subject: str) -> tuple[bool, str]:
        """Evaluate a root/file condition and record a subject decision for it."""
        if condition is None:
            return True, ""
        ok, reason = evaluate(condition, self.config.data)
        self.decisions.append(Decision(descriptor.name, ok, reason, condition.field, self.shown(condition.field),
                                       subject))
        return ok, reason

    # -- templates ----------------------------------------------------------------------------
    def template_path(self, descriptor: Descriptor, relative: str, line: int, *, directory: bool) -> Path:
        """Resolve a template path inside the template root, refusing symlinks and escapes."""
        if self.tree is not None:
            found = self._found.get((relative, directory))
            if found is None:
                found = self._found[relative, directory] = self._snapshot_path(descriptor, relative, line,
                                                                               directory=directory)
            return found
        path = self.template_root
        for part in relative.split("/"):
            path = path / part
            if path.is_symlink():
                raise InputError("FILE-SYMLINK", f"template path {relative} goes through a symlink",
                                 file=str(path), hint="templates must be regular files inside the template root")
        kind_ok = path.is_dir() if directory else path.is_file()
        if not kind_ok:
            self._missing(descriptor, relative, line, directory=directory)
        return path

    def _snapshot_path(self, descriptor: Descriptor, relative: str, line: int, *, directory: bool) -> Path:
        """:meth:`template_path` answered from the snapshot (same checks, same errors, in the same order)."""
        assert self.tree is not None
        key = ("template_path", self.template_root, relative, directory)
        known: Path | None = self.tree.answers.get(key)
        if known is not None:
            return known
        parts = relative.split("/")
        entry = None
        for end in range(1, len(parts) + 1):
            entry = self.tree.entry("/".join(parts[:end]))
            if entry is not None and entry.is_link:
                raise InputError("FILE-SYMLINK", f"template path {relative} goes through a symlink",
                                 file=str(self.template_root.joinpath(*parts[:end])),
                                 hint="templates must be regular files inside the template root")
        kind_ok = entry is not None and (entry.is_dir if directory else entry.is_file)
        if not kind_ok:
            self._missing(descriptor, relative, line, directory=directory)
        found = self.tree.answers[key] = self.template_root.joinpath(*parts)
        return found

    def _missing(self, descriptor: Descriptor, relative: str, line: int, *, directory: bool) -> NoReturn:
        what = "root directory" if directory else "template"
        raise InputError("DESCRIPTOR-INVALID", f"{descriptor.name}: {what} '{relative}' does not exist",
                         file=str(descriptor.source), line=line,
                         hint=f"add it under {self.template_root} or fix the descriptor")

    def root_files(self, descriptor: Descriptor) -> list[PlannedFile]:
        """Every file under each enabled root, minus excludes (sorted, symlinks refused)."""
        planned: list[PlannedFile] = []
        for root in descriptor.roots:
            ok, reason = self.condition(descriptor, root.when, root.path)
            if not ok:
                continue
            base = self.template_path(descriptor, root.path, root.line, directory=True)
            listed = walk_files(self.tree, root.path) if self.tree is not None else _walk(base)
            for relative in listed:
                if excluded(relative, root.excludes):
                    continue
                output = f"{root.output}/{relative}"
                check_output_path(output, what=f"{descriptor.name}: output of {root.path}/{relative}",
                                  file=str(descriptor.source), line=root.line)
                why = f"root {root.path}" + (f" ({reason})" if reason else "")
                planned.append(PlannedFile(descriptor.name, f"{root.path}/{relative}", output, "render", why,
                                           from_root=True))
        return planned

    def declared_files(self, descriptor: Descriptor, *, record: bool = True) -> list[PlannedFile]:
        """The ``files`` entries whose condition holds, expanded over ``for_each`` items (computed once per
        descriptor without ``record``: aggregates ask for every contributor's files)."""
        if not record and descriptor.name in self._declared:
            return self._declared[descriptor.name]
        planned: list[PlannedFile] = []
        for spec in descriptor.files:
            if record:
                ok, reason = self.condition(descriptor, spec.when, spec.template)
            else:
                ok, reason = evaluate(spec.when, self.config.data) if spec.when else (True, "")
            if not ok:
                continue
            self.template_path(descriptor, spec.template, spec.line, directory=False)
            mode = "render" if spec.render else "copy"
            items: list[Any] = [None]
            if spec.for_each:
                items = self.items(descriptor, spec, record=record)
            for index, item in enumerate(items):
                output = self.output_of(descriptor, spec, item)
                why = "declared file" + (f" ({reason})" if reason else "")
                if spec.for_each:
                    why = f"item {index + 1} of {len(items)} in {spec.for_each}" + (f" ({reason})" if reason else "")
                planned.append(PlannedFile(descriptor.name, spec.template, output, mode, why, item=item,
                                           named_by_config=spec.templated))
        self._declared[descriptor.name] = planned
        return planned

    def items(self, descriptor: Descriptor, spec: FileSpec, *, record: bool) -> list[Any]:
        found, value = get_field(self.config.data, spec.for_each)
        items = value if found and value is not None else []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise InputError("DESCRIPTOR-INVALID", f"{descriptor.name}: for_each field {spec.for_each} is not a "
                             "list of mappings", file=str(descriptor.source), line=spec.line,
                             hint="for_each names a list of mappings in the cluster config")
        if record:
            self.decisions.append(Decision(descriptor.name, bool(items),
                                           f"{len(items)} item(s) in {spec.for_each}", spec.for_each,
                                           f"<list of {len(items)} items>", spec.template))
        return list(items)

    def output_of(self, descriptor: Descriptor, spec: FileSpec, item: Any) -> str:
        """Render a templated output path and check it stays inside the renderer-owned paths."""
        if not spec.templated:
            return spec.output
        names = dict(self.context, item=item, descriptor=descriptor.name, service=descriptor.unit)
        try:
            output = output_template(spec.output).render(names)
        except jinja2.TemplateError as exc:
            raise InputError("TEMPLATE-ERROR", f"{descriptor.name}: output '{spec.output}': {exc.message}",
                             file=str(descriptor.source), line=spec.line,
                             hint="the output expression needs a config value that is not set") from None
        except Exception as exc:  # e.g. a TypeError in an expression: its text may quote values
            raise InputError("TEMPLATE-ERROR", f"{descriptor.name}: output '{spec.output}': "
                             f"{type(exc).__name__}", file=str(descriptor.source), line=spec.line,
                             hint="check the values the output expression uses") from None
        try:
            check_output_path(output, what=f"{descriptor.name}: rendered output", file=str(descriptor.source),
                              line=spec.line)
            if str(PurePosixPath(output).parent) != spec.output.split("{", 1)[0].rsplit("/", 1)[0]:
                raise InputError("DESCRIPTOR-INVALID", "a config value changes the output directory",
                                 file=str(descriptor.source), line=spec.line)
            if not PurePosixPath(output).name[:1].isalnum():
                raise InputError("DESCRIPTOR-INVALID", "a rendered file name must start with a letter or digit",
                                 file=str(descriptor.source), line=spec.line)
        except InputError:
            raise InputError("PATH-ESCAPE", f"{descriptor.name}: output '{spec.output}' renders to an unsafe "
                             f"path {show_value('output', output)}", file=str(descriptor.source), line=spec.line,
                             hint="config values used in output names must be DNS-1123 names") from None
        return output

    # -- aggregates ---------------------------------------------------------------------------
    def aggregate_files(self, aggregate: Descriptor) -> list[PlannedFile]:
        """The aggregate's own files, each told the sorted members of the aggregate directory."""
        assert aggregate.aggregate is not None
        directory = aggregate.aggregate.directory
        own = {spec.output for spec in aggregate.files}
        members: set[str] = set()
        contributors = 0
        for contributor in self.descriptors.contributors(aggregate.name):
            if not self.enabled(contributor)[0]:
                continue
            contributed = [f.output for f in self.declared_files(contributor, record=False)
                           if _parent(f.output) == directory and f.output not in own]
            contributors += bool(contributed)
            members.update(o.rpartition("/")[2] for o in contributed)
        ordered = tuple(sorted(members))
        reason = f"aggregate of {directory}: {len(ordered)} member(s) from {contributors} contributor(s)"
        return [PlannedFile(aggregate.name, f.template, f.output, f.mode, reason, members=ordered)
                for f in self.declared_files(aggregate)]


def _walk(base: Path) -> list[str]:
    """Sorted POSIX paths of every regular file under ``base``; symlinks and special files refused."""
    try:
        return _walk_files(base)
    except OSError as exc:
        raise unreadable(exc, base) from None


def _walk_files(base: Path) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in strict_walk(base):
        here = Path(folder)
        for name in dirs + files:
            if (here / name).is_symlink():
                raise InputError("FILE-SYMLINK", "symlink in the template root", file=str(here / name),
                                 hint="templates must be regular files inside the template root")
        for name in dirs:
            refuse_file_named_directory(here / name)
        for name in files:
            if not (here / name).is_file():
                raise InputError("FILE-SPECIAL", "special file in the template root", file=str(here / name),
                                 hint="templates must be regular files")
            found.append((here / name).relative_to(base).as_posix())
    return sorted(found)


def _check_collisions(files: list[PlannedFile], descriptors: DescriptorSet, config: ClusterConfig) -> None:
    seen: dict[str, PlannedFile] = {}
    for planned in files:
        other = seen.get(planned.output)
        if other is not None and (planned.named_by_config or other.named_by_config):
            raise InputError("CONFIG-INVALID", f"a config value names the output {planned.output}, which "
                             f"{other.owner if planned.named_by_config else planned.owner} also renders",
                             file=str(config.path), hint="choose another name in the cluster config")
        if other is not None:
            descriptor = descriptors.get(planned.owner)
            raise InputError("DESCRIPTOR-INVALID", f"output {planned.output} is rendered twice "
                             f"({other.owner}: {other.template}; {planned.owner}: {planned.template})",
                             file=str(descriptor.source) if descriptor else None,
                             hint="each output path has exactly one template")
        seen[planned.output] = planned


def _parent(output: str) -> str:
    """``str(PurePosixPath(output).parent)`` for a clean relative output path, without building a path."""
    return output.rpartition("/")[0] or "."


def _check_root_outputs_outside_aggregates(files: list[PlannedFile], descriptors: DescriptorSet) -> None:
    directories = {d.aggregate.directory: d.name for d in descriptors if d.aggregate}
    for planned in files:
        if not planned.from_root:
            continue
        parent = _parent(planned.output)
        if parent in directories:
            descriptor = descriptors.get(planned.owner)
            raise InputError("DESCRIPTOR-INVALID", f"{planned.owner}: root file {planned.output} lands directly in "
                             f"aggregate directory {parent}/ of '{directories[parent]}'",
                             file=str(descriptor.source) if descriptor else None,
                             hint="contribute to aggregates with `files` entries, not roots")


def plan_render(descriptors: DescriptorSet, config: ClusterConfig, *, service: str | None = None,
                template_root: Path | None = None, templates: TemplateTree | None = None) -> RenderPlan:
    """Plan one cluster (or, with ``service``, one unit plus the aggregates it contributes to).

    ``templates``: a snapshot of the template root taken by the caller (e.g. shared with the coverage
    gate); without one, or for another root, the root is listed here.
    """
    root = (template_root or TEMPLATE_ROOT).resolve()
    if root.is_symlink() or not root.is_dir():
        raise InputError("FILE-MISSING", "template root does not exist or is a symlink", file=str(root),
                         hint="point template_root at renderer/templates")
    tree = templates if templates is not None and templates.root == root else snapshot(root)
    planner = _Planner(descriptors, config, root, build_context(config), tree if tree.complete else None)
    selected: list[Descriptor]
    if service is None:
        selected = list(descriptors)
    else:
        unit = descriptors.for_unit(service)
        if unit is None or unit.aggregate is not None:
            known = sorted(d.unit for d in descriptors if d.unit)
            raise InputError("USAGE", f"unknown service '{service[:60]}'", hint=f"one of: {', '.join(known)}")
        if any(f.templated or f.for_each for f in unit.files):
            raise InputError("USAGE", f"'{service}' has config-dependent output names and cannot be rendered alone",
                             file=str(unit.source), hint="render the whole cluster instead")
        selected = [unit, *(d for d in descriptors if d.name in unit.aggregate_targets)]
    files: list[PlannedFile] = []
    for descriptor in selected:
        if not planner.decide(descriptor):
            continue
        if descriptor.aggregate is not None:
            files.extend(planner.aggregate_files(descriptor))
        else:
            files.extend(planner.root_files(descriptor))
            files.extend(planner.declared_files(descriptor))
    files.sort(key=lambda f: f.output)
    _check_collisions(files, descriptors, config)
    _check_root_outputs_outside_aggregates(files, descriptors)
    if service is None:
        replaced: tuple[str, ...] = (*OWNED_FILES, *OWNED_DIRS)
    else:
        paths: set[str] = set()
        for descriptor in selected:
            paths.update(r.output for r in descriptor.roots)
            paths.update(f.output for f in descriptor.files)
        replaced = tuple(sorted(paths))
    by_owner: dict[str, set[str]] = {}
    for planned in files:
        by_owner.setdefault(planned.owner, set()).add(planned.output)
    plan = Plan(cluster=config.cluster, actions=[f.action() for f in files], decisions=planner.decisions,
                renderer=RENDERER_NAME)
    return RenderPlan(plan=plan, files=tuple(files), context=planner.context, replaced=replaced,
                      template_root=root, service=service,
                      outputs_by_owner={k: frozenset(v) for k, v in by_owner.items()},
                      units={d.name: d.unit for d in descriptors},
                      options={d.name: unit_options(d, config.data) for d in descriptors})

