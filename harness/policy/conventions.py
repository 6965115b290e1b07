"""House conventions for Flux objects (each on by default, each can be turned off in PolicyOptions).

- ``unpinned-source`` (POLICY-UNPINNED-SOURCE): a GitRepository whose URL contains the shared base
  repository pattern (``gitops-base`` by default) is pinned by ``ref.tag``, ``ref.semver``,
  ``ref.commit`` or a ``ref.name`` under ``refs/tags/``; a branch (or no ref: Flux then tracks the
  default branch) is a finding.
- ``prune`` (POLICY-PRUNE): every Flux Kustomization sets ``prune: true``.
- ``decryption`` (POLICY-DECRYPTION): a Flux Kustomization from this repository whose build reads a
  file matched by a ``.sops.yaml`` creation rule (the overlay-relative path, searched with the rule's
  ``path_regex`` the way sops does) sets ``spec.decryption.provider: sops``.
- ``drift-detection`` (POLICY-DRIFT-DETECTION): a HelmRelease with ``spec.driftDetection.mode:
  disabled``. An absent ``driftDetection`` is not a finding: overlay HelmReleases are usually patches
  of base releases that set it.

All checks read the objects as built (patches applied), see :mod:`harness.policy.model`. URLs are
never quoted in messages (they may carry credentials).
"""

from __future__ import annotations

from harness.findings import Finding
from harness.policy.flux_paths import flux_kustomizations
from harness.policy.model import FLUX_HELM_GROUP, Policy, PolicyContext, is_flux_source, spec
from harness.policy.refs import build_files

UNPINNED_CODE = "POLICY-UNPINNED-SOURCE"
PRUNE_CODE = "POLICY-PRUNE"
DECRYPTION_CODE = "POLICY-DECRYPTION"
DRIFT_CODE = "POLICY-DRIFT-DETECTION"


def check_pinned(ctx: PolicyContext) -> list[Finding]:
    """Shared-base GitRepositories are pinned by tag, semver or commit."""
    pattern = ctx.options.base_repo_pattern
    findings = []
    seen: set[tuple[str, str]] = set()
    for obj in ctx.applied.objects:
        if not is_flux_source(obj.data) or obj.kind != "GitRepository" or (obj.namespace, obj.name) in seen:
            continue
        seen.add((obj.namespace, obj.name))
        url = spec(obj.data).get("url")
        if not isinstance(url, str) or pattern not in url:
            continue
        ref = spec(obj.data).get("ref")
        ref = ref if isinstance(ref, dict) else {}
        if any(isinstance(ref.get(k), str) and ref[k] for k in ("tag", "semver", "commit")):
            continue
        if isinstance(ref.get("name"), str) and ref["name"].startswith("refs/tags/"):
            continue
        branch = ref.get("branch")
        what = f"branch {branch!r}" if isinstance(branch, str) else "the default branch (no ref)"
        findings.append(ctx.finding(UNPINNED_CODE, f"{obj.ref()} tracks {what} of the shared base repository",
                                    path=obj.path, hint="pin it with spec.ref.tag (or semver/commit)"))
    return findings


def check_prune(ctx: PolicyContext) -> list[Finding]:
    """Every Flux Kustomization prunes."""
    return [ctx.finding(PRUNE_CODE, f"{obj.ref()} does not set prune: true", path=obj.path,
                        hint="set spec.prune: true so objects deleted from Git are removed from the cluster")
            for obj in flux_kustomizations(ctx) if spec(obj.data).get("prune") is not True]


def check_decryption(ctx: PolicyContext) -> list[Finding]:
    """Kustomizations that read SOPS-governed files decrypt with sops."""
    rules = [r for r in ctx.sops_rules if r is not None]
    catch_all = any(r is None for r in ctx.sops_rules)
    if not rules and not catch_all:
        return []
    findings = []
    for target in ctx.applied.targets:
        if target.directory is None:
            continue
        files = build_files(ctx.index, ctx.display(target.directory))
        governed = sorted(f for f in files if catch_all or any(r.search(f) for r in rules))
        decryption = spec(target.obj.data).get("decryption")
        provider = decryption.get("provider") if isinstance(decryption, dict) else None
        if governed and provider != "sops":
            more = f" (+{len(governed) - 1} more)" if len(governed) > 1 else ""
            findings.append(ctx.finding(
                DECRYPTION_CODE, f"{target.obj.ref()} applies {governed[0]}{more}, which .sops.yaml encrypts, "
                                 "without decryption.provider: sops", path=target.obj.path,
                hint="add spec.decryption: {provider: sops, secretRef: {name: sops-age}}"))
    return findings


def check_drift(ctx: PolicyContext) -> list[Finding]:
    """HelmReleases keep drift detection on."""
    findings = []
    for obj in ctx.applied.objects:
        if obj.group != FLUX_HELM_GROUP or obj.kind != "HelmRelease":
            continue
        drift = spec(obj.data).get("driftDetection")
        if isinstance(drift, dict) and drift.get("mode") == "disabled":
            findings.append(ctx.finding(DRIFT_CODE, f"{obj.ref()} sets driftDetection.mode: disabled", path=obj.path,
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
                "base sources pinned, prune on, sops decryption where needed, drift detection on", check,
                needs_builds=True)
