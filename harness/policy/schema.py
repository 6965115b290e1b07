"""Schema checks (POLICY-SCHEMA) on the Kubernetes objects written in an overlay.

- Built-in Kubernetes kinds (core and ``*.k8s.io`` API groups that ship with Kubernetes) validate against
  kubernetes-validate's JSON schemas for the pinned version (``kubernetes_version``, default 1.33), in
  strict mode (unknown fields are errors). Schemas are loaded once per process and reused. A built-in
  group with no schema for the kind/version (a typo, or an API removed in that version) is an error.
- Flux kinds get a structural check from :data:`FLUX_REQUIRED` (required fields) and
  :data:`FLUX_TYPES` (field types), plus ``metadata.name``/``namespace``.
- Any other kind (Kyverno, cert-manager, CRD-defined groups ending in ``k8s.io`` such as Gateway API)
  has no schema here: one NOTE per kind says so. "No schema" is never silently a pass.

What is validated: every document in the overlay's YAML files except, explicitly,
``flux-system/`` (bootstrap-owned, written by Flux), ``.sops.yaml`` (SOPS configuration), kustomization
files and ``kustomize.config.k8s.io`` documents (kustomize configuration, not Kubernetes objects), and
files a kustomization reads as a patch, generator input or plugin configuration (partial objects or
data; see :mod:`harness.policy.refs`). A file that does not parse is an error. Messages name fields
and the schema rule broken, never a value.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import jsonschema
from referencing import Registry, Resource

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.policy.model import (
    FLUX_SYSTEM,
    KUSTOMIZATION_FILES,
    Policy,
    PolicyContext,
    SourceDoc,
    api_group,
    is_kustomize_config,
    meta,
)
from harness.policy.refs import RESOURCE, file_roles, namespaced_files

CODE = "POLICY-SCHEMA"
MAX_ERRORS_PER_DOCUMENT = 5

BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io",
    "rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io",
    "storagemigration.k8s.io",
})

# Flux structure: per (group, kind), the required fields; a tuple of alternatives means "one of".
FLUX_REQUIRED: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("source.toolkit.fluxcd.io", "GitRepository"): (("spec.url",), ("spec.interval",)),
    ("source.toolkit.fluxcd.io", "HelmRepository"): (("spec.url",), ("spec.interval",)),
    ("source.toolkit.fluxcd.io", "OCIRepository"): (("spec.url",), ("spec.interval",)),
    ("source.toolkit.fluxcd.io", "Bucket"): (("spec.bucketName",), ("spec.endpoint",), ("spec.interval",)),
    ("source.toolkit.fluxcd.io", "HelmChart"): (("spec.chart",), ("spec.sourceRef.kind",), ("spec.sourceRef.name",),
                                                ("spec.interval",)),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (("spec.interval",), ("spec.sourceRef.kind",),
                                                       ("spec.sourceRef.name",), ("spec.prune",)),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): (("spec.interval",), ("spec.chart", "spec.chartRef")),
}
# Field types checked on every Flux kind where the field is present.
FLUX_TYPES: dict[str, str] = {
    "spec.interval": "duration", "spec.timeout": "duration", "spec.retryInterval": "duration",
    "spec.url": "string", "spec.path": "string", "spec.prune": "boolean", "spec.suspend": "boolean",
    "spec.force": "boolean", "spec.wait": "boolean", "spec.dependsOn": "list", "spec.sourceRef": "mapping",
}
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
_TYPE_CHECKS = {
    "duration": lambda v: isinstance(v, str) and _DURATION.match(v) is not None,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "mapping": lambda v: isinstance(v, dict),
}


class SchemaStore:
    """kubernetes-validate schemas for one Kubernetes version, definitions parsed once, validators cached."""

    def __init__(self, version: str, *, strict: bool = True) -> None:
        import kubernetes_validate.utils as kv

        self._kv = kv
        wanted = kv.major_minor(version.removeprefix("v"))
        versions = kv.all_versions()
        usable = [v for v in versions if _version_key(kv.major_minor(v)) <= _version_key(wanted)]
        if not usable or _version_key(wanted) > _version_key(kv.major_minor(versions[-1])):
            raise InputError("USAGE", f"kubernetes-validate has no schemas for Kubernetes {version} "
                                      f"(it has {kv.major_minor(versions[0])}-{kv.major_minor(versions[-1])})",
                             hint="set kubernetes_version in the overlay-parity settings to a supported version")
        self.version = kv.major_minor(usable[-1])
        self._dir = f"kubernetes-json-schema/v{usable[-1]}-local" + ("-strict" if strict else "")
        definitions = kv.schema_contents(f"{self._dir}/_definitions.json", self.version)
        self._registry: Registry[Any] = Resource.from_contents(definitions) @ Registry()
        self._validators: dict[str, jsonschema.protocols.Validator | None] = {}
        self._lock = threading.Lock()

    def validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
        """The cached validator for an apiVersion/kind, or None when kubernetes-validate has no schema."""
        short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        name = f"{self._dir}/{kind.lower()}-{short}.json"
        with self._lock:
            if name not in self._validators:
                try:
                    schema = self._kv.schema_contents(name, self.version)
                except FileNotFoundError:
                    self._validators[name] = None
                else:
                    registry = Resource.from_contents(schema) @ self._registry
                    self._validators[name] = jsonschema.Draft202012Validator(schema, registry=registry)
            return self._validators[name]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


_STORES: dict[tuple[str, bool], SchemaStore] = {}
_STORES_LOCK = threading.Lock()


def schema_store(version: str, *, strict: bool = True) -> SchemaStore:
    """The process-wide store for a version (schemas load once per run, shared across clusters)."""
    with _STORES_LOCK:
        key = (version, strict)
        if key not in _STORES:
            _STORES[key] = SchemaStore(version, strict=strict)
        return _STORES[key]


def _describe(error: jsonschema.ValidationError) -> str:
    """A value-free description of one schema error."""
    where = ".".join(str(p) for p in error.absolute_path) or "(document)"
    validator, expected = error.validator, error.validator_value
    if validator == "additionalProperties" and isinstance(error.instance, dict) and isinstance(error.schema, dict):
        known = set(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in known)
        return f"{where}: unknown field(s) {', '.join(unknown)}"
    if validator == "required":
        return f"{where}: {error.message}"
    if validator == "type":
        return f"{where}: wrong type (expected {expected})"
    if validator == "enum":
        return f"{where}: not one of {expected}"
    return f"{where}: fails schema rule {validator!r}"


def _substituted_later(value: Any) -> bool:
    """A ``${var}`` string: Flux's post-build substitution gives it its real value (and type) later."""
    return isinstance(value, str) and "${" in value


def _lookup(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def flux_problems(data: dict[str, Any], *, namespaced: bool) -> list[str]:
    """Structural problems of a Flux object (empty when fine or not a known Flux kind)."""
    required = FLUX_REQUIRED.get((api_group(data), str(data.get("kind", ""))))
    if required is None:
        return []
    problems = []
    if not meta(data, "name"):
        problems.append("metadata.name is required")
    if not meta(data, "namespace") and not namespaced:
        problems.append("metadata.namespace is required (no kustomization sets one)")
    for alternatives in required:
        if not any(_lookup(data, field)[0] for field in alternatives):
            problems.append(f"{' or '.join(alternatives)} is required")
    for field, type_name in FLUX_TYPES.items():
        present, value = _lookup(data, field)
        if present and not _TYPE_CHECKS[type_name](value) and not _substituted_later(value):
            problems.append(f"{field} must be a {type_name}")
    return problems


def _documents(ctx: PolicyContext) -> Iterator[tuple[SourceDoc, bool]]:
    """Documents to validate, with whether a kustomization gives them a namespace; skips are counted."""
    roles = file_roles(ctx.index)
    namespaced = namespaced_files(ctx.index)
    skipped = {"bootstrap": 0, "sops_config": 0, "kustomize_config": 0, "fragments": 0, "not_objects": 0}
    for doc in ctx.index.docs:
        name = doc.path.rsplit("/", 1)[-1]
        if doc.path.startswith("../"):
            continue  # outside the checked directory
        if doc.path.startswith(FLUX_SYSTEM + "/") or f"/{FLUX_SYSTEM}/" in doc.path:
            skipped["bootstrap"] += 1
        elif name == ".sops.yaml":
            skipped["sops_config"] += 1
        elif name in KUSTOMIZATION_FILES or is_kustomize_config(doc.data):
            skipped["kustomize_config"] += 1
        elif ctx.ignore_tree_file(doc.path) or (not ctx.bundled and not ctx.in_scope(doc.path)):
            skipped["not_objects"] += 1
        elif roles.get(doc.path, RESOURCE) != RESOURCE:
            skipped["fragments"] += 1
        elif not isinstance(doc.data.get("apiVersion"), str) or not isinstance(doc.data.get("kind"), str):
            skipped["not_objects"] += 1
            if doc.path in roles:  # listed under resources: kustomize will reject it
                yield doc, False
        else:
            yield doc, doc.path in namespaced or not ctx.bundled  # Flux may set it (targetNamespace)
    ctx.notes["schema_skipped"] = skipped


def check(ctx: PolicyContext) -> list[Finding]:
    """Validate every Kubernetes object document of the overlay (see the module docstring)."""
    store = schema_store(ctx.options.kubernetes_version, strict=ctx.options.strict_schema)
    findings: list[Finding] = []
    for rel, error in sorted(ctx.index.errors.items()):
        if not rel.startswith((FLUX_SYSTEM + "/", "../")) and not ctx.ignore_tree_file(rel) and (
                ctx.bundled or ctx.in_scope(rel)):
            findings.append(ctx.finding(CODE, f"does not parse: {error}", path=rel, hint="fix the YAML"))
    no_schema: dict[tuple[str, str], list[str]] = {}
    validated = 0
    for doc, namespaced in _documents(ctx):
        data = doc.data
        api_version, kind = data.get("apiVersion"), data.get("kind")
        label = f"document {doc.index + 1}"
        if not isinstance(api_version, str) or not isinstance(kind, str):
            findings.append(ctx.finding(CODE, f"{label} is listed as a resource but has no apiVersion/kind",
                                        path=doc.path, line=doc.line,
                                        hint="add apiVersion and kind, or stop listing it"))
            continue
        group = api_group(data)
        who = f"{kind} {meta(data, 'name') or '(unnamed)'}"
        if (group, kind) in FLUX_REQUIRED:
            validated += 1
            for problem in flux_problems(data, namespaced=namespaced):
                findings.append(ctx.finding(CODE, f"{who}: {problem}", path=doc.path, line=doc.line,
                                            hint="see the Flux API reference for this kind"))
        elif group in BUILTIN_GROUPS:
            validator = store.validator(api_version, kind)
            if validator is None:
                findings.append(ctx.finding(CODE, f"{who}: Kubernetes {store.version} serves no {api_version} {kind}",
                                            path=doc.path, line=doc.line,
                                            hint="fix the kind or move to a served apiVersion"))
                continue
            validated += 1
            if isinstance(data.get("sops"), dict):  # kustomize-controller decrypts and drops SOPS metadata
                data = {k: v for k, v in data.items() if k != "sops"}
            errors = sorted((e for e in validator.iter_errors(data) if not _substituted_later(e.instance)),
                            key=lambda e: list(map(str, e.absolute_path)))
            if errors:
                shown = "; ".join(_describe(e) for e in errors[:MAX_ERRORS_PER_DOCUMENT])
                extra = len(errors) - MAX_ERRORS_PER_DOCUMENT
                more = f" (+{extra} more)" if extra > 0 else ""
                findings.append(ctx.finding(CODE, f"{who} fails the Kubernetes {store.version} schema: {shown}{more}",
                                            path=doc.path, line=doc.line, hint="remove unknown fields and fix types"))
        else:
            no_schema.setdefault((api_version, kind), []).append(doc.path)
    for (api_version, kind), paths in sorted(no_schema.items()):
        findings.append(ctx.finding(CODE, f"no schema for {api_version} {kind}: {len(paths)} document(s) not "
                                          "validated", path=paths[0], severity=Severity.NOTE,
                                    hint="add a structural table or a CRD schema to validate this kind",
                                    extra={"no_schema": f"{api_version}/{kind}", "documents": len(paths)}))
    ctx.notes["schema_validated"] = validated
    ctx.notes["schema_version"] = store.version
    return findings


POLICY = Policy("schema", (CODE,), "Kubernetes schemas (strict), Flux structure, NOTE for kinds with no schema",
                check)
