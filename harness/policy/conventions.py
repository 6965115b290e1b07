"""Conventions for Flux objects (each on by default, each can be turned off in PolicyOptions).

They hold on every object of the tree, reachable or not: the objects the builds emit (patches applied,
variables substituted) and the objects written in resource files no successful build reads.

- ``unpinned-source`` (POLICY-UNPINNED-SOURCE): a GitRepository pinned by ``ref.tag``, ``ref.semver``,
  ``ref.commit`` or a ``ref.name`` under ``refs/tags/``; an OCIRepository by ``ref.tag`` (not
  ``latest``), ``ref.semver`` or ``ref.digest``. A branch, no ref (Flux then tracks the default branch or
  ``latest``) is a finding with the severity of ``unpinned_sources`` (default ``warning``; ``error`` for
  overlays of the bundled layout). The bootstrap source and any source whose URL is this repository
  track a branch by design and are exempt. In the bundled layout only the shared base repository
  (URLs containing ``base_repo_pattern``, ``gitops-base`` by default) is judged, as the overlay contract says.
- ``prune`` (POLICY-PRUNE): every Flux Kustomization sets ``prune: true``.
- ``decryption`` (POLICY-DECRYPTION): a Flux Kustomization from this repository whose build reads a
  file matched by a ``.sops.yaml`` creation rule (the tree-relative path, searched with the rule's
  ``path_regex`` the way sops does) sets ``spec.decryption.provider: sops``.
- ``drift-detection`` (POLICY-DRIFT-DETECTION): a HelmRelease with ``spec.driftDetection.mode:
  disabled``. An absent ``driftDetection`` is not a finding (Flux's default, and overlay HelmReleases are
  often patches of base releases that set it).

URLs are never quoted in messages (they may carry credentials).
"""

from __future__ import annotations

from harness.findings import Finding, Severity
from harness.policy.flux_paths import flux_kustomizations
from harness.policy.model import (
    FLUX_HELM_GROUP,
    Policy,
    PolicyContext,
    is_bootstrap_source,
    is_flux_source,
    spec,
)
from harness.policy.refs import build_files
from harness.policy.repo import normalize_url

UNPINNED_CODE = "POLICY-UNPINNED-SOURCE"
PRUNE_CODE = "POLICY-PRUNE"
DECRYPTION_CODE = "POLICY-DECRYPTION"
DRIFT_CODE = "POLICY-DRIFT-DETECTION"


def _unpinned_git(ref: dict[str, object]) -> str:
    """What an unpinned GitRepository tracks ('' when pinned)."""
    if any(isinstance(ref.get(k), str) and ref[k] for k in ("tag", "semver", "commit")):
        return ""
    name = ref.get("name")
    if isinstance(name, str) and name.startswith("refs/tags/"):
        return ""
    branch = ref.get("branch")
    if isinstance(name, str) and name:
        return f"ref.name {name!r}"
    return f"branch {branch!r}" if isinstance(branch, str) else "the default branch (no ref)"


def _unpinned_oci(ref: dict[str, object]) -> str:
    """What an unpinned OCIRepository tracks ('' when pinned)."""
    if any(isinstance(ref.get(k), str) and ref[k] for k in ("digest", "semver")):
        return ""
    tag = ref.get("tag")
    if isinstance(tag, str) and tag and tag != "latest":
        return ""
    return "tag 'latest'" if tag == "latest" else "the 'latest' tag (no ref)"


def _severity(ctx: PolicyContext) -> Severity:
    level = ctx.options.unpinned_sources or ("error" if ctx.bundled else "warning")
    return Severity.ERROR if level == "error" else Severity.WARNING


def check_pinned(ctx: PolicyContext) -> list[Finding]:
    """Flux sources are pinned by tag, semver, commit or digest (see the module docstring for the scope)."""
    pattern = ctx.options.base_repo_pattern
    severity = _severity(ctx)
    findings = []
    seen: set[tuple[str, str, str, str, int, str]] = set()
    for obj in ctx.convention_objects:
        if not is_flux_source(obj.data) or obj.kind not in ("GitRepository", "OCIRepository"):
            continue
        if obj.identity() in seen or is_bootstrap_source(obj.kind, obj.namespace, obj.name):
            continue
        seen.add(obj.identity())
        url = spec(obj.data).get("url")
        url = url if isinstance(url, str) else ""
        base = pattern in url
        if ctx.bundled and not base:
            continue
        if obj.kind == "GitRepository" and normalize_url(url) in ctx.own_urls:
            continue
        ref = spec(obj.data).get("ref")
        ref = ref if isinstance(ref, dict) else {}
        what = _unpinned_git(ref) if obj.kind == "GitRepository" else _unpinned_oci(ref)
        if not what:
            continue
        whose = " of the shared base repository" if base else ""
        pin = "spec.ref.tag (or semver/commit)" if obj.kind == "GitRepository" else "spec.ref.tag, semver or digest"
        findings.append(ctx.object_finding(UNPINNED_CODE, obj, f"{obj.ref()} tracks {what}{whose}", key="ref"
                                           if "ref" in spec(obj.data) else "spec", severity=severity,
                                           hint=f"pin it with {pin}"))
    return findings


def check_prune(ctx: PolicyContext) -> list[Finding]:
    """Every Flux Kustomization prunes."""
    return [ctx.object_finding(PRUNE_CODE, obj, f"{obj.ref()} does not set prune: true",
                               key="prune" if "prune" in spec(obj.data) else "spec",
                               hint="set spec.prune: true so objects deleted from Git are removed from the cluster")
            for obj in flux_kustomizations(ctx, ctx.convention_objects) if spec(obj.data).get("prune") is not True]


def check_decryption(ctx: PolicyContext) -> list[Finding]:
    """Kustomizations that read SOPS-governed files decrypt with sops."""
    rules = [r for r in ctx.sops_rules if r is not None]
    catch_all = any(r is None for r in ctx.sops_rules)
    if not rules and not catch_all:
        return []
    findings = []
    for target in ctx.applied.targets:
        if target.directory is None or ctx.display(target.directory).startswith(".."):
            continue
        files = build_files(ctx.index, ctx.display(target.directory))
        governed = sorted(f for f in files if catch_all or any(r.search(f) for r in rules))
        decryption = spec(target.obj.data).get("decryption")
        provider = decryption.get("provider") if isinstance(decryption, dict) else None
        if governed and provider != "sops":
            more = f" (+{len(governed) - 1} more)" if len(governed) > 1 else ""
            findings.append(ctx.object_finding(
                DECRYPTION_CODE, target.obj, f"{target.obj.ref()} applies {ctx.show_path(governed[0])}{more}, which "
                                             ".sops.yaml encrypts, without decryption.provider: sops", key="spec",
                hint="add spec.decryption: {provider: sops, secretRef: {name: sops-age}}"))
    return findings


def check_drift(ctx: PolicyContext) -> list[Finding]:
    """HelmReleases keep drift detection on."""
    findings = []
    seen: set[tuple[str, str, str, str, int, str]] = set()
    for obj in ctx.convention_objects:
        if obj.group != FLUX_HELM_GROUP or obj.kind != "HelmRelease" or obj.identity() in seen:
            continue
        seen.add(obj.identity())
        drift = spec(obj.data).get("driftDetection")
        if isinstance(drift, dict) and drift.get("mode") == "disabled":
            findings.append(ctx.object_finding(DRIFT_CODE, obj, f"{obj.ref()} sets driftDetection.mode: disabled",
                                               key="driftDetection",
                                               hint="use mode: enabled (or warn) so manual changes are detected"))
    return findings


CHECKS = {
    "unpinned-source": check_pinned,
    "prune": check_prune,
    "decryption": check_decryption,
    "drift-detection": check_drift,
}


def check(ctx: PolicyContext) -> list[Finding]:
    """Every convention that is switched on."""
    findings: list[Finding] = []
    for name, function in CHECKS.items():
        if ctx.options.convention_on(name):
            findings += function(ctx)
    return findings


POLICY = Policy("conventions", (UNPINNED_CODE, PRUNE_CODE, DECRYPTION_CODE, DRIFT_CODE),
                "sources pinned, prune on, sops decryption where needed, drift detection on", check,
                needs_builds=True)
