"""Overlay-unit descriptors: the model, the fail-closed loader and the template-root locations.

One YAML file per overlay unit under ``renderer/descriptors/`` (format: docs/contracts.md §4). Loading
rejects, with ``DESCRIPTOR-INVALID`` at the descriptor file and line: unknown keys, unknown operators,
unknown or ill-formed field paths (checked with :func:`renderer.config.schema_has_field`), unknown
aggregate targets, outputs that are absolute, contain ``..`` or leave the renderer-owned paths,
a ``name`` that differs from the file stem, and duplicate names.

Extension over §4 (see the module docs of :mod:`renderer.plan`): a ``files`` entry may carry
``for_each: <dotted field of a list of mappings>``; the entry is then planned once per item, with the
item available as ``item`` in its templated output and in its template.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from harness.errors import InputError
from harness.yamlio import line_of, load_located, load_roundtrip, read_text
from renderer.conditions import FIELD_PATTERN, Condition, parse_condition
from renderer.config import schema_has_field

if TYPE_CHECKING:
    from harness.pickle_memo import PickleMemo

PACKAGE_ROOT = Path(__file__).resolve().parent
DESCRIPTOR_ROOT = PACKAGE_ROOT / "descriptors"
TEMPLATE_ROOT = PACKAGE_ROOT / "templates"

LAYERS = ("cluster", "services", "managed-services", "customer-managed")
TOP_KEYS = ("name", "layer", "service", "managed_service", "enabled_when", "roots", "files",
            "aggregate_targets", "aggregate")
ROOT_KEYS = ("path", "output", "excludes", "when")
FILE_KEYS = ("template", "output", "render", "when", "for_each")
AGGREGATE_KEYS = ("directory",)

# Overlay paths the renderer owns (everything else, e.g. flux-system/, is copied through untouched).
OWNED_FILES = ("kustomization.yaml", ".sops.yaml")
OWNED_DIRS = ("services", "managed-services", "customer-managed")

# Names an output path template may use (a subset of the template context built by renderer.plan).
OUTPUT_VARIABLES = frozenset({
    "cluster", "cluster_name", "meta", "gitops", "customer_managed", "sops", "service", "descriptor", "item",
})

NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SEGMENT_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")
_MAX_DESCRIPTOR_BYTES = 256 * 1024

_OUTPUT_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


@functools.lru_cache(maxsize=256)
def output_template(source: str) -> jinja2.Template:
    """The compiled (sandboxed, StrictUndefined) template of a templated output path."""
    return _OUTPUT_ENV.from_string(source)


@dataclass(frozen=True)
class RootSpec:
    """A template directory rendered file by file into ``output`` (minus gitignore-style ``excludes``)."""

    path: str
    output: str
    excludes: tuple[str, ...] = ()
    when: Condition | None = None
    line: int = 0


@dataclass(frozen=True)
class FileSpec:
    """One template rendered (or copied, ``render: false``) to ``output``, optionally once per list item."""

    template: str
    output: str
    render: bool = True
    when: Condition | None = None
    for_each: str = ""
    line: int = 0

    @property
    def templated(self) -> bool:
        """Whether the output path uses ``{{ ... }}``."""
        return "{{" in self.output or "{%" in self.output


@dataclass(frozen=True)
class AggregateSpec:
    """An aggregate's directory: its members are contributors' planned files directly inside it."""

    directory: str
    line: int = 0


@dataclass(frozen=True)
class Descriptor:
    """One overlay unit: which templates it renders, where, and when."""

    name: str
    layer: str
    source: Path
    service: str = ""
    managed_service: str = ""
    enabled_when: Condition | None = None
    roots: tuple[RootSpec, ...] = ()
    files: tuple[FileSpec, ...] = ()
    aggregate_targets: tuple[str, ...] = ()
    aggregate: AggregateSpec | None = None
    targets_line: int = 1

    @property
    def enablement_field(self) -> str:
        """The config switch of the (managed) service, or '' for cluster-scoped units."""
        if self.service:
            return f"opencenter.services.{self.service}.enabled"
        if self.managed_service:
            return f"opencenter.managed_services.{self.managed_service}.enabled"
        return ""

    @property
    def unit(self) -> str:
        """The service or managed service this descriptor renders ('' for cluster-scoped units)."""
        return self.service or self.managed_service


@dataclass(frozen=True)
class DescriptorSet:
    """Every descriptor, validated together, in deterministic planning order."""

    root: Path
    descriptors: tuple[Descriptor, ...]

    def __iter__(self) -> Iterator[Descriptor]:
        return iter(self.descriptors)

    def __len__(self) -> int:
        return len(self.descriptors)

    def get(self, name: str) -> Descriptor | None:
        """The descriptor named ``name``, if any."""
        for descriptor in self.descriptors:
            if descriptor.name == name:
                return descriptor
        return None

    def names(self) -> list[str]:
        """Descriptor names in planning order."""
        return [d.name for d in self.descriptors]

    def for_unit(self, unit: str) -> Descriptor | None:
        """The descriptor of a service or managed service (or, failing that, the one named ``unit``)."""
        for descriptor in self.descriptors:
            if descriptor.unit == unit:
                return descriptor
        return self.get(unit)

    def contributors(self, aggregate: str) -> list[Descriptor]:
        """Descriptors listing ``aggregate`` in their ``aggregate_targets`` (planning order)."""
        return [d for d in self.descriptors if aggregate in d.aggregate_targets]


def order_key(descriptor: Descriptor) -> tuple[int, int, str]:
    """Planning order: by layer, contributors before aggregates, then by name."""
    return (LAYERS.index(descriptor.layer), 1 if descriptor.aggregate else 0, descriptor.name)


# --------------------------------------------------------------------------------------------- paths

def check_relative_path(value: str, *, what: str, file: str, line: int) -> str:
    """A clean relative POSIX path: not absolute, no ``..``/``.``/empty segments, no backslash."""
    hint = "use a clean path relative to its root, without '..'"
    if not value:
        raise InputError("DESCRIPTOR-INVALID", f"{what} is empty", file=file, line=line, hint=hint)
    if value.startswith("/") or "\\" in value or re.match(r"^[A-Za-z]:", value):
        raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' is absolute", file=file, line=line,
                         hint=hint)
    parts = value.split("/")
    if ".." in parts:
        raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' contains '..'", file=file, line=line,
                         hint=hint)
    if any(part in ("", ".") for part in parts):
        raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' has an empty or '.' segment",
                         file=file, line=line, hint=hint)
    return value


def is_owned_output(path: str) -> bool:
    """Whether an overlay-relative path lies in the renderer-owned part of the overlay."""
    first = path.split("/", 1)[0]
    if "/" not in path:
        return path in OWNED_FILES
    return first in OWNED_DIRS


_CLEAN_OUTPUTS: set[tuple[str, bool]] = set()  # outputs that passed: every cluster of a fleet plans them again
_CLEAN_OUTPUTS_MAX = 1 << 16


def check_output_path(value: str, *, what: str, file: str, line: int, is_dir: bool = False) -> str:
    """A rendered output path: clean, relative, inside the renderer-owned part of the overlay."""
    if (value, is_dir) in _CLEAN_OUTPUTS:
        return value
    _check_output_path(value, what=what, file=file, line=line, is_dir=is_dir)
    if len(_CLEAN_OUTPUTS) >= _CLEAN_OUTPUTS_MAX:
        _CLEAN_OUTPUTS.clear()
    _CLEAN_OUTPUTS.add((value, is_dir))
    return value


def _check_output_path(value: str, *, what: str, file: str, line: int, is_dir: bool) -> None:
    check_relative_path(value, what=what, file=file, line=line)
    for part in value.split("/"):
        if not _SEGMENT_PATTERN.fullmatch(part):
            raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' has an unsafe segment",
                             file=file, line=line, hint="output segments use only [A-Za-z0-9._-]")
    owned = (value in OWNED_DIRS or is_owned_output(value + "/x")) if is_dir else is_owned_output(value)
    if not owned:
        raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' is outside the renderer-owned paths",
                         file=file, line=line,
                         hint="outputs live in kustomization.yaml, .sops.yaml, services/, managed-services/ "
                              "or customer-managed/; flux-system/ is bootstrap-owned")


def _check_output_template(value: str, *, what: str, file: str, line: int, allowed: frozenset[str]) -> None:
    """Syntax and variables of a templated output; its literal prefix must already be owned."""
    try:
        ast = _OUTPUT_ENV.parse(value)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError("DESCRIPTOR-INVALID", f"{what}: template syntax error: {exc.message}", file=file,
                         line=line, hint="outputs may use {{ name.field }} expressions only") from None
    unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - allowed)
    if unknown:
        raise InputError("DESCRIPTOR-INVALID", f"{what} uses unknown variable(s) {', '.join(unknown)}",
                         file=file, line=line, hint=f"outputs may use {', '.join(sorted(allowed))}")
    literal = value.split("{", 1)[0]
    if "/" not in literal:
        raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' must start with a literal directory",
                         file=file, line=line, hint="template only the file name, e.g. customer-managed/sources/"
                                                    "{{ customer_managed.repository_name }}.yaml")
    check_output_path(literal.rsplit("/", 1)[0], what=what, file=file, line=line, is_dir=True)
    if ".." in value.replace("{{", "").replace("}}", "").split("/"):
        raise InputError("DESCRIPTOR-INVALID", f"{what} '{value[:120]}' contains '..'", file=file, line=line,
                         hint="use a clean path")


@functools.lru_cache(maxsize=512)
def _exclude_regex(pattern: str) -> re.Pattern[str]:
    """Compile one gitignore-style pattern (``*``, ``?``, ``**``, leading ``/``, trailing ``/``)."""
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    core = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(f"^{prefix}{core}{suffix}$")


def excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Whether a path relative to a root matches any gitignore-style exclude pattern."""
    return any(_exclude_regex(p).match(relative) for p in patterns)


def _check_exclude(pattern: Any, *, file: str, line: int) -> str:
    if not isinstance(pattern, str) or not pattern.strip("/"):
        raise InputError("DESCRIPTOR-INVALID", "an exclude must be a non-empty string", file=file, line=line,
                         hint="gitignore-style pattern relative to the root path")
    if pattern.startswith("!"):
        raise InputError("DESCRIPTOR-INVALID", f"negated exclude '{pattern[:80]}' is not supported", file=file,
                         line=line, hint="take a file back with a `files` entry instead")
    if ".." in pattern.split("/") or "\\" in pattern:
        raise InputError("DESCRIPTOR-INVALID", f"exclude '{pattern[:80]}' contains '..' or a backslash",
                         file=file, line=line, hint="patterns are relative to the root path")
    return pattern


# -------------------------------------------------------------------------------------------- loader

def _line(data: Any, *path: str | int) -> int:
    found = line_of(data, tuple(path))
    if found:
        return found
    lc = getattr(data, "lc", None)
    return int(lc.line) + 1 if lc is not None else 0


def _unknown_keys(raw: Mapping[str, Any], allowed: tuple[str, ...], *, what: str, file: str) -> None:
    for key in raw:
        if key not in allowed:
            raise InputError("DESCRIPTOR-INVALID", f"{what}: unknown key '{str(key)[:60]}'", file=file,
                             line=_line(raw, key), hint=f"allowed keys: {', '.join(allowed)}")


def _string(raw: Mapping[str, Any], key: str, *, what: str, file: str, required: bool) -> str:
    if key not in raw:
        if required:
            raise InputError("DESCRIPTOR-INVALID", f"{what}: missing '{key}'", file=file, line=_line(raw),
                             hint=f"add {key}: ...")
        return ""
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise InputError("DESCRIPTOR-INVALID", f"{what}: '{key}' must be a non-empty string", file=file,
                         line=_line(raw, key), hint=f"set {key} to a string")
    return value


def _list(raw: Mapping[str, Any], key: str, *, what: str, file: str) -> list[Any]:
    value = raw.get(key, [])
    if value is None or not isinstance(value, list):
        raise InputError("DESCRIPTOR-INVALID", f"{what}: '{key}' must be a list", file=file,
                         line=_line(raw, key), hint=f"write {key}: [...]")
    return value


def _when(raw: Mapping[str, Any], key: str, *, what: str, file: str,
          has_field: Callable[[str], bool]) -> Condition | None:
    if key not in raw:
        return None
    return parse_condition(raw[key], file=file, line=_line(raw, key), has_field=has_field, where=f"{what}.{key}")


def parse_descriptor(raw: Any, *, file: Path, has_field: Callable[[str], bool] = schema_has_field) -> Descriptor:
    """Validate one loaded descriptor document (round-trip data, for line numbers)."""
    name_of_file = str(file)
    if not isinstance(raw, Mapping):
        raise InputError("DESCRIPTOR-INVALID", "a descriptor must be a mapping", file=name_of_file, line=1,
                         hint="see docs/contracts.md §4")
    _unknown_keys(raw, TOP_KEYS, what="descriptor", file=name_of_file)
    name = _string(raw, "name", what="descriptor", file=name_of_file, required=True)
    if not NAME_PATTERN.fullmatch(name):
        raise InputError("DESCRIPTOR-INVALID", f"name '{name[:80]}' is not a DNS-1123 label", file=name_of_file,
                         line=_line(raw, "name"), hint="lowercase letters, digits and '-'")
    if name != file.stem:
        raise InputError("DESCRIPTOR-INVALID", f"name '{name}' differs from the file name '{file.name}'",
                         file=name_of_file, line=_line(raw, "name"), hint=f"rename the file to {name}.yaml")
    layer = _string(raw, "layer", what=name, file=name_of_file, required=True)
    if layer not in LAYERS:
        raise InputError("DESCRIPTOR-INVALID", f"unknown layer '{layer[:40]}'", file=name_of_file,
                         line=_line(raw, "layer"), hint=f"layer is one of {', '.join(LAYERS)}")
    service = _string(raw, "service", what=name, file=name_of_file, required=False)
    managed = _string(raw, "managed_service", what=name, file=name_of_file, required=False)
    if service and managed:
        raise InputError("DESCRIPTOR-INVALID", "both 'service' and 'managed_service' are set", file=name_of_file,
                         line=_line(raw, "managed_service"), hint="a descriptor renders one unit")
    for key, value, expected_layer, section in (("service", service, "services", "services"),
                                                ("managed_service", managed, "managed-services",
                                                 "managed_services")):
        if not value:
            continue
        if layer != expected_layer:
            raise InputError("DESCRIPTOR-INVALID", f"'{key}' needs layer {expected_layer}, not {layer}",
                             file=name_of_file, line=_line(raw, key), hint=f"set layer: {expected_layer}")
        switch = f"opencenter.{section}.{value}.enabled"
        if not FIELD_PATTERN.fullmatch(switch) or not has_field(switch):
            raise InputError("DESCRIPTOR-INVALID", f"unknown {key} '{value[:60]}' (no field {switch[:120]})",
                             file=name_of_file, line=_line(raw, key),
                             hint="declare the service in renderer/schema/cluster-config.schema.json")
    enabled_when = _when(raw, "enabled_when", what=name, file=name_of_file, has_field=has_field)

    roots: list[RootSpec] = []
    for index, entry in enumerate(_list(raw, "roots", what=name, file=name_of_file)):
        what = f"{name}: roots[{index}]"
        at = _line(raw, "roots", index)
        if not isinstance(entry, Mapping):
            raise InputError("DESCRIPTOR-INVALID", f"{what} must be a mapping", file=name_of_file, line=at,
                             hint="{path, output, excludes?, when?}")
        _unknown_keys(entry, ROOT_KEYS, what=what, file=name_of_file)
        path = check_relative_path(_string(entry, "path", what=what, file=name_of_file, required=True),
                                   what=f"{what}.path", file=name_of_file, line=_line(entry, "path"))
        output = _string(entry, "output", what=what, file=name_of_file, required=True)
        if "{" in output:
            raise InputError("DESCRIPTOR-INVALID", f"{what}.output may not be templated", file=name_of_file,
                             line=_line(entry, "output"), hint="template single `files` outputs only")
        check_output_path(output, what=f"{what}.output", file=name_of_file, line=_line(entry, "output"),
                          is_dir=True)
        excludes = tuple(_check_exclude(p, file=name_of_file, line=_line(entry, "excludes"))
                         for p in _list(entry, "excludes", what=what, file=name_of_file))
        when = _when(entry, "when", what=what, file=name_of_file, has_field=has_field)
        roots.append(RootSpec(path, output, excludes, when, at))

    files: list[FileSpec] = []
    for index, entry in enumerate(_list(raw, "files", what=name, file=name_of_file)):
        what = f"{name}: files[{index}]"
        at = _line(raw, "files", index)
        if not isinstance(entry, Mapping):
            raise InputError("DESCRIPTOR-INVALID", f"{what} must be a mapping", file=name_of_file, line=at,
                             hint="{template, output, render?, when?, for_each?}")
        _unknown_keys(entry, FILE_KEYS, what=what, file=name_of_file)
        template = check_relative_path(_string(entry, "template", what=what, file=name_of_file, required=True),
                                       what=f"{what}.template", file=name_of_file, line=_line(entry, "template"))
        output = _string(entry, "output", what=what, file=name_of_file, required=True)
        for_each = _string(entry, "for_each", what=what, file=name_of_file, required=False)
        if for_each and (not FIELD_PATTERN.fullmatch(for_each) or not has_field(for_each)):
            raise InputError("DESCRIPTOR-INVALID", f"{what}.for_each: unknown field '{for_each[:120]}'",
                             file=name_of_file, line=_line(entry, "for_each"),
                             hint="name a list field of the cluster config schema")
        if "{" in output:
            allowed = OUTPUT_VARIABLES if for_each else OUTPUT_VARIABLES - {"item"}
            _check_output_template(output, what=f"{what}.output", file=name_of_file, line=_line(entry, "output"),
                                   allowed=allowed)
        else:
            check_output_path(output, what=f"{what}.output", file=name_of_file, line=_line(entry, "output"))
        if for_each and "item" not in output:
            raise InputError("DESCRIPTOR-INVALID", f"{what}.output must use 'item' with for_each",
                             file=name_of_file, line=_line(entry, "output"),
                             hint="e.g. output: customer-managed/fluxcd/{{ item.name }}.yaml")
        render = entry.get("render", True)
        if not isinstance(render, bool):
            raise InputError("DESCRIPTOR-INVALID", f"{what}.render must be true or false", file=name_of_file,
                             line=_line(entry, "render"), hint="render: false copies the bytes")
        when = _when(entry, "when", what=what, file=name_of_file, has_field=has_field)
        files.append(FileSpec(template, output, render, when, for_each, at))

    targets_raw = _list(raw, "aggregate_targets", what=name, file=name_of_file)
    targets: list[str] = []
    for index, target in enumerate(targets_raw):
        if not isinstance(target, str) or not NAME_PATTERN.fullmatch(target):
            raise InputError("DESCRIPTOR-INVALID", f"{name}: aggregate_targets[{index}] must be a descriptor name",
                             file=name_of_file, line=_line(raw, "aggregate_targets", index),
                             hint="list aggregate descriptor names")
        if target in targets:
            raise InputError("DESCRIPTOR-INVALID", f"{name}: aggregate target '{target}' listed twice",
                             file=name_of_file, line=_line(raw, "aggregate_targets", index), hint="remove one")
        targets.append(target)

    aggregate: AggregateSpec | None = None
    if "aggregate" in raw:
        entry = raw["aggregate"]
        at = _line(raw, "aggregate")
        if not isinstance(entry, Mapping):
            raise InputError("DESCRIPTOR-INVALID", f"{name}: aggregate must be a mapping", file=name_of_file,
                             line=at, hint="aggregate: {directory: services/fluxcd}")
        _unknown_keys(entry, AGGREGATE_KEYS, what=f"{name}: aggregate", file=name_of_file)
        directory = _string(entry, "directory", what=f"{name}: aggregate", file=name_of_file, required=True)
        check_output_path(directory, what=f"{name}: aggregate.directory", file=name_of_file,
                          line=_line(entry, "directory"), is_dir=True)
        aggregate = AggregateSpec(directory, at)
        if service or managed or targets:
            raise InputError("DESCRIPTOR-INVALID", f"{name}: an aggregate has no service and no aggregate_targets",
                             file=name_of_file, line=at, hint="aggregates only collect their contributors")
        if roots or not files or any(f.for_each or f.templated for f in files):
            raise InputError("DESCRIPTOR-INVALID", f"{name}: an aggregate renders plain `files` only",
                             file=name_of_file, line=at, hint="declare its kustomization.yaml under files")
    if not roots and not files:
        raise InputError("DESCRIPTOR-INVALID", f"{name}: declares no roots and no files", file=name_of_file,
                         line=_line(raw), hint="a descriptor must own at least one template")
    return Descriptor(name=name, layer=layer, source=file, service=service, managed_service=managed,
                      enabled_when=enabled_when, roots=tuple(roots), files=tuple(files),
                      aggregate_targets=tuple(targets), aggregate=aggregate,
                      targets_line=_line(raw, "aggregate_targets") if "aggregate_targets" in raw else 1)


def load_descriptor(path: Path, *, has_field: Callable[[str], bool] = schema_has_field) -> Descriptor:
    """Read and validate one descriptor file.

    The YAML is read by :func:`harness.yamlio.load_located` (the round-trip loader's values and lines,
    block scalars keeping its string types, which condition values compare by); a descriptor with a
    problem is parsed again from :func:`harness.yamlio.load_roundtrip`'s data, which its error reports
    (some messages name the type of a value, e.g. ``CommentedSeq``).
    """
    text = read_text(path, max_bytes=_MAX_DESCRIPTOR_BYTES)
    name = str(path)
    data = load_located(text, name, block_scalars_as_str=False)
    try:
        return parse_descriptor(data, file=path, has_field=has_field)
    except InputError:
        pass
    return parse_descriptor(load_roundtrip(text, name), file=path, has_field=has_field)


def _direct_child(directory: str, output: str) -> bool:
    return str(PurePosixPath(output).parent) == directory


def validate_set(descriptors: Iterable[Descriptor]) -> list[Descriptor]:
    """Cross-descriptor checks: unique names, known aggregate targets that each receive a file."""
    seen: dict[str, Descriptor] = {}
    ordered = sorted(descriptors, key=order_key)
    for descriptor in ordered:
        if descriptor.name in seen:
            raise InputError("DESCRIPTOR-INVALID", f"duplicate descriptor name '{descriptor.name}' "
                             f"(also in {seen[descriptor.name].source})", file=str(descriptor.source), line=1,
                             hint="descriptor names are unique")
        seen[descriptor.name] = descriptor
    units: dict[str, str] = {}
    for descriptor in ordered:
        if descriptor.unit:
            if descriptor.unit in units:
                raise InputError("DESCRIPTOR-INVALID", f"unit '{descriptor.unit}' is rendered by both "
                                 f"'{units[descriptor.unit]}' and '{descriptor.name}'",
                                 file=str(descriptor.source), line=1, hint="one descriptor per service")
            units[descriptor.unit] = descriptor.name
        for target in descriptor.aggregate_targets:
            aggregate = seen.get(target)
            if aggregate is None or aggregate.aggregate is None:
                what = "unknown aggregate target" if aggregate is None else "not an aggregate"
                raise InputError("DESCRIPTOR-INVALID", f"{descriptor.name}: {what} '{target}'",
                                 file=str(descriptor.source), line=descriptor.targets_line,
                                 hint=f"aggregates: {', '.join(sorted(n for n, d in seen.items() if d.aggregate))}")
            directory = aggregate.aggregate.directory
            if not any(_direct_child(directory, f.output.split("{", 1)[0] + "x") for f in descriptor.files):
                raise InputError("DESCRIPTOR-INVALID", f"{descriptor.name}: contributes no file directly in "
                                 f"{directory}/ to aggregate '{target}'", file=str(descriptor.source),
                                 line=descriptor.targets_line,
                                 hint=f"add a files entry with an output in {directory}/ or drop the target")
    return ordered


def load_descriptor_files(paths: Iterable[Path], *, root: Path,
                          has_field: Callable[[str], bool] = schema_has_field) -> DescriptorSet:
    """Load and cross-validate an explicit list of descriptor files."""
    return DescriptorSet(root, tuple(validate_set(load_descriptor(p, has_field=has_field) for p in paths)))


def _listing(root: Path) -> tuple[tuple[str, int, int], ...]:
    if root.is_symlink() or not root.is_dir():
        raise InputError("FILE-MISSING", "descriptor directory does not exist", file=str(root),
                         hint="point descriptor_root at renderer/descriptors")
    entries = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            raise InputError("FILE-SYMLINK", "descriptor is a symlink", file=str(entry),
                             hint="replace the link with a regular file")
        if not entry.is_file() or entry.suffix != ".yaml":
            raise InputError("DESCRIPTOR-INVALID", "unexpected entry in the descriptor directory",
                             file=str(entry), hint="the directory holds only <name>.yaml descriptor files")
        stat = entry.stat()
        entries.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


@functools.lru_cache(maxsize=16)
def _load_cached(root: Path, listing: tuple[tuple[str, int, int], ...]) -> DescriptorSet:
    paths = [root / name for name, _, _ in listing]
    parts = _memo_parts(root, paths)
    if parts is None:
        return load_descriptor_files(paths, root=root)
    memo = _memo()  # a clean set is kept across processes, keyed by every file's bytes
    file, known = memo.recall(*parts)
    if known is not None and known.root == root:
        return known
    loaded = load_descriptor_files(paths, root=root)
    memo.remember(file, loaded)
    return loaded


def _memo_parts(root: Path, paths: Iterable[Path]) -> list[bytes] | None:
    """Everything a loaded set depends on besides the code: the directory, each file's name and bytes and
    the config schema its conditions are checked against (None when a file cannot be read within the size
    limit: nothing is kept, and the loader words what is wrong)."""
    from renderer.config import SCHEMA_RESOURCE

    try:
        schema = (PACKAGE_ROOT / SCHEMA_RESOURCE).read_bytes()
    except OSError:  # the config loader words a missing schema
        return None
    parts = [str(root).encode("utf-8", "surrogateescape"), schema]
    for path in paths:
        try:  # as the loader reads it: no symlink, FIFO or device (never a blocking open), within the limit
            text = read_text(path, max_bytes=_MAX_DESCRIPTOR_BYTES)
        except InputError:
            return None
        parts += [path.name.encode("utf-8", "surrogateescape"), text.encode("utf-8", "surrogateescape")]
    return parts


@functools.cache
def _memo() -> PickleMemo[DescriptorSet]:
    from harness.pickle_memo import PickleMemo
    from renderer.code_version import renderer_code_stamp

    return PickleMemo("descriptor-sets", DescriptorSet, renderer_code_stamp, max_files=16)


def load_descriptors(root: Path | None = None) -> DescriptorSet:
    """Load every ``*.yaml`` descriptor under ``root`` (default: the packaged descriptors), fail-closed.

    Results are cached per directory listing (names, sizes, mtimes), so repeated renders are cheap.
    """
    folder = (root or DESCRIPTOR_ROOT).resolve()
    return _load_cached(folder, _listing(folder))
