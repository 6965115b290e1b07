"""Lifecycle claims (POLICY-LIFECYCLE): every overlay states, and proves, which stage it is in.

- ``bootstrap-complete``: the overlay has ``flux-system/`` (written by ``flux bootstrap``); the whole
  overlay, bootstrap manifests included, must build with ``kubectl kustomize``.
- ``renderer-parity``: no ``flux-system/`` yet (a freshly rendered tree); the overlay must build when a
  stub ``flux-system/kustomization.yaml`` with ``resources: []`` is supplied, in a temp copy.

The validated claim is always reported as a NOTE finding (``extra.lifecycle_claim``) and as
:attr:`harness.policy.PolicyResult.lifecycle_claim`, so reports show which claim was checked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.findings import Finding, Severity
from harness.policy.model import BOOTSTRAP_COMPLETE, FLUX_SYSTEM, Policy, PolicyContext
from harness.policy.refs import references

CODE = "POLICY-LIFECYCLE"


def check(ctx: PolicyContext) -> list[Finding]:
    """Build the overlay for its claim; one NOTE stating the claim, plus an ERROR when it does not build."""
    claim = ctx.claim
    how = ("the whole overlay, flux-system/ included" if claim == BOOTSTRAP_COMPLETE
           else "the overlay with a stub flux-system/ (resources: [])")
    root = ctx.index.kustomization("")
    findings: list[Finding] = []
    if root is None:
        findings.append(ctx.finding(CODE, f"{claim}: the overlay has no root kustomization.yaml, so it cannot build",
                                    path="kustomization.yaml",
                                    hint="render the overlay again; the root kustomization lists flux-system and "
                                         "the fluxcd aggregates"))
        validated = False
    else:
        result = ctx.root_build()
        validated = result.ok
        if not result.ok:
            findings.append(ctx.finding(CODE, f"{claim}: kubectl kustomize of {how} fails: {result.error}",
                                        path=root[0], hint="run `kubectl kustomize` on the overlay to see the "
                                                           "full error; fix the missing or broken reference"))
        listed = {entry.rstrip("/").removeprefix("./") for entry, _ in references(root[1])}
        if FLUX_SYSTEM not in listed:
            findings.append(ctx.finding(
                CODE, f"{claim}: the root kustomization does not list ./{FLUX_SYSTEM}, so bootstrap's "
                      "components would not be reconciled from this overlay",
                path=root[0], severity=Severity.WARNING, hint=f"add ./{FLUX_SYSTEM} to resources"))
    ctx.notes["lifecycle_claim"] = claim
    ctx.notes["lifecycle_validated"] = validated
    state = "validated" if validated else "NOT validated"
    findings.append(ctx.finding(CODE, f"lifecycle claim {claim} {state}: kubectl kustomize of {how}",
                                path=".", severity=Severity.NOTE,
                                extra={"lifecycle_claim": claim, "validated": validated}))
    return findings


POLICY = Policy("lifecycle", (CODE,), "the overlay builds for its lifecycle claim", check, needs_builds=True)


def seed_bootstrap(fixture_overlay: Path, out_dir: Path) -> bool:
    """Copy the checked-in ``flux-system/`` into ``out_dir`` before a render, as in a real repository.

    The renderer never writes ``flux-system/`` but keeps it, so a cluster whose checked-in overlay is
    bootstrap-complete stays bootstrap-complete when rendered: its lifecycle claim is the fixture's, not
    an artefact of rendering into an empty directory. Returns whether bootstrap files were seeded.
    """
    source = fixture_overlay / FLUX_SYSTEM
    if not source.is_dir() or source.is_symlink():
        return False
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, out_dir / FLUX_SYSTEM, symlinks=True, dirs_exist_ok=True)
    return True
