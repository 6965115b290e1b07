"""Lifecycle claims (POLICY-LIFECYCLE): every tree states, and proves, which stage it is in.

- ``bootstrap-complete``: the tree has ``flux-system/`` (or the bootstrap files of its clusters); every
  root, bootstrap manifests included, must build the way kustomize-controller builds it.
- ``renderer-parity``: no ``flux-system/`` yet (a freshly rendered tree); the root must build when its
  ``./flux-system`` entry is supplied as a stub (``resources: []``); the stub is never written anywhere.

A root without a kustomization file is built with the kustomization Flux generates. Overlays of the
bundled layout keep the overlay contract: a root ``kustomization.yaml`` that lists ``./flux-system``.
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


def _entry_line(ctx: PolicyContext, found: tuple[str, dict[str, object]] | None, error: str) -> int:
    """Line of the kustomization entry the build error names (0 when none is named)."""
    if found is None:
        return 0
    for entry, _role in references(found[1]):
        name = entry.rstrip("/").removeprefix("./")
        if name and name in error:
            return ctx.index.text_line(found[0], 1, entry)
    return 0


def check(ctx: PolicyContext) -> list[Finding]:
    """Build every root for its claim; one NOTE stating the claim, plus an ERROR per root that does not build."""
    claim = ctx.claim
    how = ("the whole overlay, flux-system/ included" if claim == BOOTSTRAP_COMPLETE
           else "the overlay with a stub flux-system/ (resources: [])")
    findings: list[Finding] = []
    validated = True
    if ctx.bundled and ctx.index.kustomization("") is None:
        findings.append(ctx.finding(CODE, f"{claim}: the overlay has no root kustomization.yaml, so it cannot build",
                                    path="kustomization.yaml",
                                    hint="render the overlay again; the root kustomization lists flux-system and "
                                         "the fluxcd aggregates"))
        validated = False
    else:
        for root in ctx.roots:
            rel = ctx.display(root.directory)
            found = ctx.index.kustomization("" if rel == "." else rel)
            result = ctx.root_build(root.directory)
            anchor = found[0] if found else rel
            if not result.ok:
                validated = False
                where = "" if rel == "." else f" ({rel})"
                findings.append(ctx.finding(CODE, f"{claim}: kubectl kustomize of {how}{where} fails: {result.error}",
                                            path=anchor, line=_entry_line(ctx, found, result.error),
                                            hint="run `kubectl kustomize` on it to see the full error; "
                                                 "fix the missing or broken reference"))
            if ctx.bundled and found is not None:
                listed = {entry.rstrip("/").removeprefix("./") for entry, _ in references(found[1])}
                if FLUX_SYSTEM not in listed:
                    findings.append(ctx.finding(
                        CODE, f"{claim}: the root kustomization does not list ./{FLUX_SYSTEM}, so bootstrap's "
                              "components would not be reconciled from this overlay",
                        path=found[0], severity=Severity.WARNING, hint=f"add ./{FLUX_SYSTEM} to resources"))
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
