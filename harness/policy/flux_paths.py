"""Flux wiring: paths that exist and build, sources that are defined, dependencies without cycles.

- POLICY-FLUX-PATH: every Flux Kustomization whose ``sourceRef`` is this cluster's own repository
  (``GitRepository flux-system``) has a ``spec.path`` (relative to the repository root) that maps into
  this cluster's overlay, exists, and builds with ``kubectl kustomize`` on its own.
- POLICY-FLUX-SOURCE: every Flux Kustomization's ``sourceRef`` names a GitRepository, OCIRepository,
  Bucket (or HelmRepository, which Flux rejects there, so it is reported as the wrong kind) that is
  defined in what the overlay applies or in ``flux-system/``. In a ``renderer-parity`` overlay the
  ``GitRepository flux-system/flux-system`` counts as defined: ``flux bootstrap`` creates it.
  HelmRelease chart sources are not checked: they usually come from the base repository, which the
  overlay cannot see.
- POLICY-FLUX-DEPENDS: every ``dependsOn`` entry names a Flux Kustomization that exists (namespace
  defaults to the dependent's own), and the dependency graph has no cycle (each cycle reported once).
"""

from __future__ import annotations

from harness.findings import Finding
from harness.policy.model import (
    FLUX_SYSTEM,
    RENDERER_PARITY,
    SOURCE_KINDS,
    KObject,
    Policy,
    PolicyContext,
    is_flux_kustomization,
    is_flux_source,
    meta,
    source_ref,
    spec,
)

PATH_CODE = "POLICY-FLUX-PATH"
SOURCE_CODE = "POLICY-FLUX-SOURCE"
DEPENDS_CODE = "POLICY-FLUX-DEPENDS"
KUSTOMIZATION_SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")


def check_paths(ctx: PolicyContext) -> list[Finding]:
    """Own-repository Flux paths map into the overlay, exist and build."""
    findings = []
    applied = ctx.applied
    for target in applied.targets:
        obj = target.obj
        if target.problem or target.directory is None:
            findings.append(ctx.finding(PATH_CODE, f"{obj.ref()}: {target.problem}", path=obj.path,
                                        hint=f"point spec.path at ./applications/overlays/{ctx.cluster}/<dir> "
                                             "that the renderer writes"))
            continue
        result = applied.builds.get(target.directory)
        if result is not None and not result.ok:
            findings.append(ctx.finding(PATH_CODE, f"{obj.ref()}: spec.path {target.spec_path!r} does not build: "
                                                   f"{result.error}", path=obj.path,
                                        hint=f"run `kubectl kustomize {ctx.display(target.directory)}` in the overlay"))
    return findings


def defined_sources(ctx: PolicyContext) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every Flux source applied, written in flux-system/, or implied by bootstrap."""
    defined = {(o.kind, o.namespace, o.name) for o in ctx.applied.objects if is_flux_source(o.data)}
    for doc in ctx.index.docs:
        if doc.path.startswith(FLUX_SYSTEM + "/") and is_flux_source(doc.data):
            defined.add((str(doc.data["kind"]), meta(doc.data, "namespace") or "default", meta(doc.data, "name")))
    if ctx.claim == RENDERER_PARITY:
        defined.add(("GitRepository", FLUX_SYSTEM, FLUX_SYSTEM))  # created by `flux bootstrap`
    return defined


def flux_kustomizations(ctx: PolicyContext) -> list[KObject]:
    """Every Flux Kustomization applied (first occurrence of each namespace/name)."""
    seen: set[tuple[str, str]] = set()
    result = []
    for obj in ctx.applied.objects:
        if is_flux_kustomization(obj.data) and (obj.namespace, obj.name) not in seen:
            seen.add((obj.namespace, obj.name))
            result.append(obj)
    return result


def check_sources(ctx: PolicyContext) -> list[Finding]:
    """Every Flux Kustomization's sourceRef names a defined source of an allowed kind."""
    defined = defined_sources(ctx)
    findings = []
    for obj in flux_kustomizations(ctx):
        kind, namespace, name = source_ref(obj)
        if not kind or not name:
            findings.append(ctx.finding(SOURCE_CODE, f"{obj.ref()}: spec.sourceRef needs kind and name",
                                        path=obj.path, hint="set spec.sourceRef.kind and spec.sourceRef.name"))
        elif kind not in KUSTOMIZATION_SOURCE_KINDS:
            findings.append(ctx.finding(SOURCE_CODE, f"{obj.ref()}: sourceRef kind {kind!r} cannot feed a "
                                                     "Kustomization", path=obj.path,
                                        hint=f"use one of {', '.join(KUSTOMIZATION_SOURCE_KINDS)}"))
        elif kind in SOURCE_KINDS and (kind, namespace, name) not in defined:
            where = "the overlay or flux-system/"
            findings.append(ctx.finding(SOURCE_CODE, f"{obj.ref()}: sourceRef {kind} {namespace}/{name} is not "
                                                     f"defined in {where}", path=obj.path,
                                        hint="render the matching source (services/sources, customer-managed/sources) "
                                             "or fix the name/namespace"))
    return findings


def _dependencies(obj: KObject) -> list[tuple[str, str]]:
    entries = spec(obj.data).get("dependsOn")
    result = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            namespace = entry.get("namespace")
            result.append((namespace if isinstance(namespace, str) and namespace else obj.namespace, entry["name"]))
    return result


def _cycles(graph: dict[tuple[str, str], list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Every elementary cycle found by depth-first search, each once (rotated to start at its least node)."""
    found: dict[tuple[tuple[str, str], ...], list[tuple[str, str]]] = {}
    state: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []

    def visit(node: tuple[str, str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                start = cycle.index(min(cycle))
                rotated = cycle[start:] + cycle[:start]
                found.setdefault(tuple(rotated), rotated)
            elif nxt in graph and state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)
    return list(found.values())


def check_depends(ctx: PolicyContext) -> list[Finding]:
    """dependsOn targets exist (same namespace by default) and form no cycle."""
    kustomizations = flux_kustomizations(ctx)
    by_key = {(o.namespace, o.name): o for o in kustomizations}
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    findings = []
    for obj in kustomizations:
        edges = []
        for dep in _dependencies(obj):
            if dep not in by_key:
                findings.append(ctx.finding(DEPENDS_CODE, f"{obj.ref()}: dependsOn {dep[0]}/{dep[1]} names no Flux "
                                                          "Kustomization in the overlay", path=obj.path,
                                            hint="fix the name, or add namespace: when it lives elsewhere"))
            else:
                edges.append(dep)
        graph[(obj.namespace, obj.name)] = edges
    for cycle in _cycles(graph):
        chain = " -> ".join(f"{ns}/{name}" for ns, name in [*cycle, cycle[0]])
        findings.append(ctx.finding(DEPENDS_CODE, f"dependsOn cycle: {chain}", path=by_key[cycle[0]].path,
                                    hint="Flux never reconciles a Kustomization in a cycle; remove one edge",
                                    extra={"cycle": [f"{ns}/{name}" for ns, name in cycle]}))
    return findings


def check(ctx: PolicyContext) -> list[Finding]:
    """Paths, sources and dependencies of the overlay's Flux Kustomizations."""
    return check_paths(ctx) + check_sources(ctx) + check_depends(ctx)


POLICY = Policy("flux-paths", (PATH_CODE, SOURCE_CODE, DEPENDS_CODE),
                "Flux paths exist and build; sources defined; dependsOn exists without cycles", check,
                needs_builds=True)
