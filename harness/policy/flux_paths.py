"""Flux wiring: paths that exist and build, sources that are defined, dependencies without cycles.

- POLICY-FLUX-PATH: every Flux Kustomization whose source this run can see (this repository, or a
  source mapped to a local checkout) has a ``spec.path`` (relative to the root of its source) that
  exists and builds the way kustomize-controller builds it. A path into a source the run cannot see is a
  NOTE. Overlays of the bundled layout also keep own-repository paths inside the cluster's overlay.
- POLICY-FLUX-SOURCE: every Flux Kustomization's ``sourceRef`` (namespace defaults to the
  Kustomization's) names a GitRepository, OCIRepository, Bucket or ExternalArtifact (HelmRepository is
  the wrong kind) that is defined in what the repository applies or writes; ``GitRepository
  flux-system/flux-system`` is supplied by bootstrap and always counts as defined. Outside the bundled
  layout, HelmRelease chart sources (``chart.spec.sourceRef``: HelmRepository, GitRepository, Bucket;
  ``chartRef``: OCIRepository, HelmChart) are checked the same way.
- POLICY-FLUX-DEPENDS: every ``dependsOn`` entry names a Flux Kustomization that exists (namespace
  defaults to the dependent's own), and the dependency graph has no cycle (each cycle reported once).
- POLICY-SUBSTITUTION: a ``${var}`` left without a value by a Kustomization's ``postBuild``.

Outside the bundled layout, a name that is missing while some Kustomization points into a source this
run cannot see is a WARNING (it may be defined there); otherwise it is an ERROR.
"""

from __future__ import annotations

from harness.findings import Finding, Severity
from harness.policy.model import (
    FLUX_HELM_GROUP,
    Applied,
    KObject,
    Policy,
    PolicyContext,
    is_bootstrap_source,
    is_flux_kustomization,
    is_flux_source,
    meta,
    source_ref,
    spec,
)

PATH_CODE = "POLICY-FLUX-PATH"
SOURCE_CODE = "POLICY-FLUX-SOURCE"
DEPENDS_CODE = "POLICY-FLUX-DEPENDS"
SUBSTITUTION_CODE = "POLICY-SUBSTITUTION"
KUSTOMIZATION_SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")
CHART_SOURCE_KINDS = ("HelmRepository", "GitRepository", "Bucket")
CHART_REF_KINDS = ("OCIRepository", "HelmChart")


def _path_hint(ctx: PolicyContext) -> str:
    if ctx.bundled:
        return f"point spec.path at ./applications/overlays/{ctx.cluster}/<dir> that the renderer writes"
    return "point spec.path (relative to the root of the Kustomization's source) at a directory that exists"


def check_paths(ctx: PolicyContext) -> list[Finding]:
    """Visible Flux paths exist and build; paths into sources the run cannot see are notes."""
    findings = []
    applied = ctx.applied
    noted: set[str] = set()
    for target in applied.targets:
        obj = target.obj
        if target.note and target.directory is None:
            if target.note not in noted:
                noted.add(target.note)
                findings.append(ctx.object_finding(PATH_CODE, obj, f"{obj.ref()}: {target.note}", key="sourceRef",
                                                   severity=Severity.NOTE))
            continue
        if target.problem or target.directory is None:
            findings.append(ctx.object_finding(PATH_CODE, obj, f"{obj.ref()}: {target.problem}", key="path",
                                               hint=_path_hint(ctx)))
            continue
        result = applied.builds.get(target.directory)
        if result is not None and not result.ok:
            findings.append(ctx.object_finding(
                PATH_CODE, obj, f"{obj.ref()}: spec.path {target.spec_path!r} does not build: {result.error}",
                key="path", hint=f"run `kubectl kustomize {ctx.display(target.directory)}` "
                                 + ("in the overlay" if ctx.bundled else "from the checked directory")))
    return findings


def defined_sources(ctx: PolicyContext, universe: Applied | None = None) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every Flux source applied or written in the tree; bootstrap's is implied."""
    objects = universe.objects if universe is not None else ctx.applied.objects
    return {(o.kind, o.namespace, o.name) for o in objects if is_flux_source(o.data)} | _tree_sources(ctx)


def _tree_sources(ctx: PolicyContext) -> frozenset[tuple[str, str, str]]:
    """The sources written in the tree (objects and documents), once per context: every universe shares them."""
    memo = ctx.memo.get("tree_sources")
    if memo is None:
        found = {(o.kind, o.namespace, o.name) for o in ctx.tree_objects if is_flux_source(o.data)}
        for doc in ctx.index.docs:
            if is_flux_source(doc.data):
                found.add((str(doc.data["kind"]), meta(doc.data, "namespace") or "default", meta(doc.data, "name")))
        memo = ctx.memo["tree_sources"] = frozenset(found)
    return memo


def flux_kustomizations(ctx: PolicyContext, objects: list[KObject] | None = None) -> list[KObject]:
    """Every Flux Kustomization among ``objects`` (default: everything applied), each variant once."""
    seen: set[tuple[str, str, str, str, int, str]] = set()
    result = []
    for obj in ctx.applied.objects if objects is None else objects:
        if is_flux_kustomization(obj.data) and obj.identity() not in seen:
            seen.add(obj.identity())
            result.append(obj)
    return result


def _missing_severity(ctx: PolicyContext) -> tuple[Severity, str]:
    if ctx.opaque and not ctx.bundled:
        return Severity.WARNING, " (it may come from a source this run cannot build)"
    return Severity.ERROR, ""


def _source_hint(ctx: PolicyContext) -> str:
    if ctx.bundled:
        return "render the matching source (services/sources, customer-managed/sources) or fix the name/namespace"
    return "define the source in the repository, or fix sourceRef name/namespace (namespace defaults to the referrer's)"


def check_sources(ctx: PolicyContext) -> list[Finding]:
    """Every Flux Kustomization's sourceRef (and HelmRelease chart source) names a defined source of an allowed kind."""
    findings: list[Finding] = []
    severity, maybe = _missing_severity(ctx)
    for universe in ctx.universes:
        defined = defined_sources(ctx, universe)
        for obj in flux_kustomizations(ctx, universe.objects):
            kind, namespace, name = source_ref(obj)
            if not kind or not name:
                findings.append(ctx.object_finding(SOURCE_CODE, obj, f"{obj.ref()}: spec.sourceRef needs kind and name",
                                                   key="sourceRef", hint="set spec.sourceRef.kind and .name"))
            elif kind not in KUSTOMIZATION_SOURCE_KINDS:
                findings.append(ctx.object_finding(SOURCE_CODE, obj, f"{obj.ref()}: sourceRef kind {kind!r} cannot "
                                                   "feed a Kustomization", key="sourceRef",
                                                   hint=f"use one of {', '.join(KUSTOMIZATION_SOURCE_KINDS)}"))
            elif kind == "ExternalArtifact" or is_bootstrap_source(kind, namespace, name):
                continue
            elif (kind, namespace, name) not in defined:
                where = "the overlay or flux-system/" if ctx.bundled else "the repository"
                findings.append(ctx.object_finding(
                    SOURCE_CODE, obj, f"{obj.ref()}: sourceRef {kind} {namespace}/{name} is not defined in "
                                      f"{where}{maybe}", key="sourceRef", severity=severity, hint=_source_hint(ctx)))
        if not ctx.bundled:
            findings += _chart_sources(ctx, universe, defined, severity, maybe)
    return findings


def _chart_sources(ctx: PolicyContext, universe: Applied, defined: set[tuple[str, str, str]], severity: Severity,
                   maybe: str) -> list[Finding]:
    findings = []
    seen: set[tuple[str, str]] = set()
    for obj in universe.objects:
        if obj.group != FLUX_HELM_GROUP or obj.kind != "HelmRelease" or (obj.namespace, obj.name) in seen:
            continue
        seen.add((obj.namespace, obj.name))
        chart_ref = spec(obj.data).get("chartRef")
        chart = spec(obj.data).get("chart")
        chart_spec = chart.get("spec") if isinstance(chart, dict) else None
        ref: dict[str, object] | None = None
        allowed: tuple[str, ...] = CHART_SOURCE_KINDS
        key = "sourceRef"
        if isinstance(chart_ref, dict):
            ref, allowed, key = chart_ref, CHART_REF_KINDS, "chartRef"
        elif isinstance(chart_spec, dict) and isinstance(chart_spec.get("sourceRef"), dict):
            ref = chart_spec["sourceRef"]
        if ref is None:
            continue
        kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
        given = ref.get("namespace")
        namespace = given if isinstance(given, str) and given else obj.namespace
        if kind not in allowed:
            findings.append(ctx.object_finding(SOURCE_CODE, obj, f"{obj.ref()}: chart source kind {kind!r} cannot "
                                               "serve a HelmRelease chart here", key=key,
                                               hint=f"use one of {', '.join(allowed)}"))
        elif (kind, namespace, name) not in defined and not is_bootstrap_source(kind, namespace, name):
            findings.append(ctx.object_finding(
                SOURCE_CODE, obj, f"{obj.ref()}: chart source {kind} {namespace}/{name} is not defined in the "
                                  f"repository{maybe}", key=key, severity=severity,
                hint="define the source, or fix the name/namespace (namespace defaults to the HelmRelease's)"))
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
    findings = []
    severity, maybe = _missing_severity(ctx)
    where = "the overlay" if ctx.bundled else "the repository"
    for universe in ctx.universes:
        kustomizations = flux_kustomizations(ctx, universe.objects)
        if "tree_kustomizations" not in ctx.memo:
            ctx.memo["tree_kustomizations"] = {(o.namespace, o.name) for o in ctx.tree_objects
                                               if is_flux_kustomization(o.data)}
        known = {(o.namespace, o.name) for o in kustomizations} | ctx.memo["tree_kustomizations"]
        by_key = {(o.namespace, o.name): o for o in kustomizations}
        graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for obj in kustomizations:
            edges = []
            for dep in _dependencies(obj):
                if dep not in known:
                    findings.append(ctx.object_finding(
                        DEPENDS_CODE, obj, f"{obj.ref()}: dependsOn {dep[0]}/{dep[1]} names no Flux Kustomization in "
                                           f"{where}{maybe}", key="dependsOn", severity=severity,
                        hint="fix the name, or add namespace: when it lives elsewhere"))
                else:
                    edges.append(dep)
            graph[(obj.namespace, obj.name)] = edges
        for cycle in _cycles(graph):
            chain = " -> ".join(f"{ns}/{name}" for ns, name in [*cycle, cycle[0]])
            findings.append(ctx.object_finding(DEPENDS_CODE, by_key[cycle[0]], f"dependsOn cycle: {chain}",
                                               key="dependsOn",
                                               hint="Flux never reconciles a Kustomization in a cycle; remove one edge",
                                               extra={"cycle": [f"{ns}/{name}" for ns, name in cycle]}))
    return findings


def check(ctx: PolicyContext) -> list[Finding]:
    """Paths, sources, dependencies and post-build substitution of the Flux Kustomizations."""
    return check_paths(ctx) + check_sources(ctx) + check_depends(ctx) + list(ctx.applied.substitution)


POLICY = Policy("flux-paths", (PATH_CODE, SOURCE_CODE, DEPENDS_CODE, SUBSTITUTION_CODE),
                "Flux paths exist and build; sources defined; dependsOn exists without cycles; variables resolve",
                check, needs_builds=True)
