"""Policy gates on rendered overlays, run with the real tools (kubectl kustomize, sops, age).

Each policy is a small module with a stable name and codes, registered in :data:`POLICIES`:

========================  ==================================================================
``lifecycle``             POLICY-LIFECYCLE: the overlay builds for its lifecycle claim
``flux-paths``            POLICY-FLUX-PATH / -SOURCE / -DEPENDS: Flux wiring
``conventions``           POLICY-UNPINNED-SOURCE / -PRUNE / -DECRYPTION / -DRIFT-DETECTION
``security-files``        POLICY-SECURITY-DROPPED: security documents never vanish
``sops``                  POLICY-SOPS: the .sops.yaml really encrypts, round-trips and refuses
``schema``                POLICY-SCHEMA: Kubernetes schemas, Flux structure, "no schema" notes
========================  ==================================================================

Entry points: :func:`run_policies` (findings) and :func:`check_overlay` (a :class:`PolicyResult`
with the validated lifecycle claim, timings and build counters).
"""

from __future__ import annotations

import posixpath
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.findings import Finding
from harness.kustomize import KustomizeBuilder
from harness.policy import conventions, flux_paths, lifecycle, schema, security_files, sops_proof
from harness.policy.builder import PolicyBuilder
from harness.policy.model import (
    BOOTSTRAP_COMPLETE,
    CONVENTIONS,
    RENDERER_PARITY,
    Policy,
    PolicyContext,
    PolicyOptions,
    PolicyResult,
)
from harness.policy.security_files import security_dropped
from harness.policy.sops_proof import prove_rendered_sops, prove_sops_config, sops_enabled_in_config

POLICIES: dict[str, Policy] = {
    p.name: p for p in (lifecycle.POLICY, flux_paths.POLICY, conventions.POLICY, security_files.POLICY,
                        sops_proof.POLICY, schema.POLICY)
}

__all__ = [
    "BOOTSTRAP_COMPLETE",
    "CONVENTIONS",
    "POLICIES",
    "RENDERER_PARITY",
    "Policy",
    "PolicyOptions",
    "PolicyResult",
    "check_overlay",
    "counters_between",
    "judge",
    "prove_rendered_sops",
    "prove_sops_config",
    "run_policies",
    "security_dropped",
    "select_policies",
    "sops_enabled_in_config",
]


def select_policies(names: tuple[str, ...] | list[str] = ()) -> list[Policy]:
    """The registered policies named (all when none), in registry order; unknown names are USAGE errors."""
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise InputError("USAGE", f"unknown policy {unknown[0]!r}", hint=f"choose from {', '.join(POLICIES)}")
    return [p for name, p in POLICIES.items() if not names or name in names]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str, str]] = set()
    result = []
    for finding in findings:
        key = (finding.code, finding.path, finding.message, finding.severity.value)
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return result


def _shown(ctx: PolicyContext, finding: Finding) -> Finding:
    """A finding with its path as reports show it (repository-relative when the repository root is known, and
    then anchored at that file for SARIF and the other report writers)."""
    shown = ctx.show_path(finding.path)
    anchor = shown
    if finding.path in ("", ".") and shown:  # about the whole overlay: code scanning anchors at its kustomization
        anchor = posixpath.join(shown, "kustomization.yaml")
    anchored = ctx.layout.root_known and not finding.file and anchor and (ctx.repo_root / anchor).is_file()
    if shown == finding.path and not anchored:
        return finding
    return replace(finding, path=shown, file=anchor if anchored else finding.file)


def judge(ctx: PolicyContext, policies: list[Policy]) -> PolicyResult:
    """Run ``policies`` on an open context (its builds collected first): findings deduplicated and shown
    repository-relative; ``seconds`` and build counters are left to the caller."""
    result = PolicyResult(cluster=ctx.cluster, overlay=ctx.overlay, lifecycle_claim=ctx.claim)
    findings: list[Finding] = []
    if any(p.needs_builds for p in policies):
        t0 = time.perf_counter()
        ctx.prefetch()
        result.policy_seconds["prefetch-builds"] = round(time.perf_counter() - t0, 3)
    for policy in policies:
        t0 = time.perf_counter()
        findings += policy.check(ctx)
        result.policy_seconds[policy.name] = round(time.perf_counter() - t0, 3)
    result.findings = _dedupe([_shown(ctx, f) for f in findings])
    result.notes = {**ctx.notes, "policies": [p.name for p in policies]}
    return result


def counters_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Builder counters (``builds``, ``cache_hits``, ...) gained between two :meth:`stats` snapshots."""
    return {k: round(after[k] - before.get(k, 0), 3) for k in after}


def check_overlay(overlay_dir: Path, *, cluster: str | None = None, repo_root: Path | None = None,
                  options: PolicyOptions | None = None, builder: KustomizeBuilder | None = None) -> PolicyResult:
    """Run the selected policies on one overlay directory (cluster name defaults to its directory name).

    Builds run once per directory (cached by content hash in ``builder``, shared when given) and
    independent directories build concurrently.
    """
    options = options or PolicyOptions()
    policies = select_policies(options.policies)
    overlay_dir = Path(overlay_dir)
    cluster = cluster or overlay_dir.resolve().name
    start = time.perf_counter()
    own_builder = builder is None
    builder = builder or PolicyBuilder(timeout=options.build_timeout, jobs=options.jobs)
    before = builder.stats()
    try:
        with PolicyContext(overlay_dir, cluster, repo_root=repo_root, options=options, builder=builder) as ctx:
            result = judge(ctx, policies)
            result.notes.update(counters_between(before, builder.stats()))
    finally:
        if own_builder:
            builder.close()
    result.seconds = time.perf_counter() - start
    return result


def run_policies(overlay_dir: Path, *, cluster: str, repo_root: Path | None = None,
                 options: PolicyOptions | None = None) -> list[Finding]:
    """Findings of every selected policy on one overlay (the lifecycle claim is a NOTE finding)."""
    return check_overlay(overlay_dir, cluster=cluster, repo_root=repo_root, options=options).findings
