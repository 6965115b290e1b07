"""Security-relevant files never vanish (POLICY-SECURITY-DROPPED).

Every document of a security kind (``group/Kind``, default Kyverno ClusterPolicy/Policy and
NetworkPolicy) in the fixture overlay must exist, same group + kind + namespace + name (as written),
in some YAML file of the rendered overlay; every fixture ``.sops.yaml`` must exist at the same path,
and the root ``.sops.yaml`` must exist, when SOPS is on. ``flux-system/`` is bootstrap-owned and never
rendered, so fixture documents there are out of scope.

This check deliberately takes no canonicalization inventory: a drop is a finding even when an
inventory rule ignores that path. A fixture file that does not parse is a finding too (fail closed:
its security documents cannot be proven kept).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.policy.model import FLUX_SYSTEM, Policy, PolicyContext, api_group, meta
from harness.policy.refs import KUSTOMIZATION_FILES
from harness.yamlio import load_file

CODE = "POLICY-SECURITY-DROPPED"
Identity = tuple[str, str, str, str]  # group, kind, namespace, name


def parse_kinds(kinds: Iterable[str]) -> set[tuple[str, str]]:
    """``kyverno.io/ClusterPolicy`` -> ("kyverno.io", "ClusterPolicy"); ``Secret`` or ``/Secret`` -> core group."""
    parsed = set()
    for spec in kinds:
        group, _, kind = spec.rpartition("/")
        parsed.add((group, kind))
    return parsed


def _yaml_files(root: Path, *, skip_flux_system: bool) -> list[str]:
    found = []
    for current, dirs, files in os.walk(root):
        rel_dir = Path(current).relative_to(root).as_posix()
        if skip_flux_system and rel_dir == ".":
            dirs[:] = [d for d in dirs if d != FLUX_SYSTEM]
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                found.append((Path(current) / name).relative_to(root).as_posix())
    return found


def _security_docs(root: Path, rel: str, kinds: set[tuple[str, str]]) -> list[Identity]:
    docs: list[Any] = load_file(root / rel, display=rel)
    result = []
    for doc in docs:
        if isinstance(doc, dict) and (api_group(doc), str(doc.get("kind", ""))) in kinds:
            result.append((api_group(doc), str(doc["kind"]), meta(doc, "namespace"), meta(doc, "name")))
    return result


def security_dropped(fixture_dir: Path, rendered_dir: Path, kinds: Iterable[str], sops_on: bool, *,
                     cluster: str = "") -> list[Finding]:
    """Findings for security documents (and ``.sops.yaml`` when SOPS is on) present in the fixture overlay but
    absent from the rendered overlay."""
    wanted = parse_kinds(kinds)

    def finding(message: str, path: str, hint: str, severity: Severity = Severity.ERROR) -> Finding:
        return Finding(code=CODE, message=message, check="policy", cluster=cluster, path=path, hint=hint,
                       severity=severity)

    for directory, label in ((fixture_dir, "fixture"), (rendered_dir, "rendered")):
        if not directory.is_dir():
            raise InputError("FILE-MISSING", f"{label} overlay directory does not exist", file=str(directory),
                             hint="pass existing applications/overlays/<cluster> directories")
    findings: list[Finding] = []
    rendered: set[Identity] = set()
    unparsable: set[str] = set()
    rendered_files = _yaml_files(rendered_dir, skip_flux_system=False)
    for rel in rendered_files:
        try:
            rendered.update(_security_docs(rendered_dir, rel, wanted))
        except InputError:
            unparsable.add(rel)
    for rel in _yaml_files(fixture_dir, skip_flux_system=True):
        name = rel.rsplit("/", 1)[-1]
        if name == ".sops.yaml":
            if sops_on and not (rendered_dir / rel).is_file():
                findings.append(finding(f"{rel} (SOPS creation rules) is missing from the rendered overlay", rel,
                                        "SOPS is on: the renderer must write .sops.yaml"))
            continue
        try:
            documents = _security_docs(fixture_dir, rel, wanted)
        except InputError as exc:
            findings.append(finding(f"fixture file does not parse ({exc.code}); its security documents cannot be "
                                    "proven kept", rel, "fix the fixture YAML"))
            continue
        for group, kind, namespace, doc_name in documents:
            if (group, kind, namespace, doc_name) in rendered:
                continue
            where = f"{namespace}/{doc_name}" if namespace else doc_name
            broken = " (the rendered file at this path does not parse)" if rel in unparsable else ""
            findings.append(finding(f"{kind} {where} ({group or 'core'}) is missing from the rendered overlay{broken}",
                                    rel, "security-relevant documents must never vanish (inventory rules cannot "
                                         "waive this); restore the template or descriptor that renders it"))
    if sops_on and not (rendered_dir / ".sops.yaml").is_file() and not any(
            f.path == ".sops.yaml" for f in findings):
        findings.append(finding("SOPS is on but the rendered overlay has no .sops.yaml", ".sops.yaml",
                                "the renderer must write .sops.yaml when overlay_units.sops.enabled is true"))
    return findings


def dropped_from_builds(ctx: PolicyContext) -> list[Finding]:
    """Security documents written in a directory that Flux builds, in a file that build no longer reads."""
    wanted = parse_kinds(ctx.options.security_kinds)
    built = ctx.built_files
    findings = []
    for obj in ctx.tree_objects:
        if (obj.group, obj.kind) not in wanted or obj.path in built:
            continue
        directory = obj.path.rsplit("/", 1)[0] if "/" in obj.path else ""
        kfiles = [f"{directory}/{name}" if directory else name for name in KUSTOMIZATION_FILES]
        if not any(k in built for k in kfiles):
            continue
        findings.append(ctx.object_finding(
            CODE, obj, f"{obj.kind} {obj.namespace}/{obj.name} ({obj.group or 'core'}) is in the repository but the "
                       "build of its directory no longer includes it, so Flux does not apply it",
            hint="list the file under resources in its kustomization.yaml again (security documents must never "
                 "vanish)"))
    return findings


def check(ctx: PolicyContext) -> list[Finding]:
    """Compare the overlay with its fixture (``options.fixture_dir``); without one, security documents that a
    built directory no longer includes are findings (and a NOTE says no fixture was compared)."""
    fixture = ctx.options.fixture_dir
    if fixture is None:
        return [*dropped_from_builds(ctx),
                ctx.finding(CODE, "not checked: no fixture overlay to compare with", path=".",
                            severity=Severity.NOTE,
                            hint="run `overlay-parity policy` without DIR to compare rendered clusters with fixtures")]
    return security_dropped(fixture, ctx.overlay, ctx.options.security_kinds, ctx.sops_on, cluster=ctx.cluster)


POLICY = Policy("security-files", (CODE,), "security documents and .sops.yaml never vanish", check,
                needs_builds=True)
