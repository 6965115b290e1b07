"""``overlay-parity diff``: the full, redacted difference of one file of one cluster, rules applied.

PATH is relative to the overlay root (``services/fluxcd/harbor.yaml``), on either side: a rendered path
that an ``alias`` rule maps is compared with its fixture path and vice versa; a path into the fixture's
overlay directory (``testdata/.../applications/overlays/k8s-dev/services/...``) works too. The cluster
is rendered into a temp dir; YAML is shown as a complete YAML-path diff after ``yaml_remove`` rules
(fixture → rendered), other text as a unified diff with credential-looking values masked, binary files
as sizes and fingerprints. Exit 0 when the check would accept the file, 1 when it would report it,
2 for bad input.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.colour import diff_line, wanted
from harness.errors import InputError
from harness.options import ProjectOptions
from harness.redact import fingerprint, redact_text, safe_line
from harness.tree import Ownership, classify, read_file

if TYPE_CHECKING:
    from harness.rules import Rule

FULL = 1_000_000


def text_diff(fixture: bytes, rendered: bytes, fixture_name: str, rendered_name: str) -> list[str]:
    """A unified diff of two text files, each line masked by :func:`harness.redact.safe_line`."""
    if b"\x00" in fixture or b"\x00" in rendered:
        return [f"binary content differs: {len(fixture)} bytes {fingerprint(fixture)} → "
                f"{len(rendered)} bytes {fingerprint(rendered)}"]
    old = fixture.decode("utf-8", "replace").splitlines()
    new = rendered.decode("utf-8", "replace").splitlines()
    lines = []
    for line in difflib.unified_diff(old, new, fixture_name, rendered_name, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            lines.append(line)
        else:
            lines.append(line[:1] + safe_line(line[1:], limit=200))
    if not lines and fixture != rendered:
        lines.append("line endings or the final newline differ")
    return lines


def canonical_diff(fixture: bytes, rendered: bytes, fixture_name: str, rendered_name: str,
                   rules: Sequence[Rule] = ()) -> list[str]:
    """A unified diff of the canonical, redacted YAML texts of both sides (``rules``' yaml_remove applied),
    without the file header lines."""
    from harness.canonical_yaml import canonical_yaml
    from harness.normalizers import DocumentNormalizer
    from harness.safe_read import decode_text
    from harness.scalars import load_as_kustomize  # the comparator's reading of scalars

    old_docs = load_as_kustomize(decode_text(fixture, fixture_name), fixture_name)
    new_docs = load_as_kustomize(decode_text(rendered, rendered_name), rendered_name)
    if rules:
        DocumentNormalizer(rules)(new_docs, old_docs)
    old, new = canonical_yaml(old_docs).splitlines(), canonical_yaml(new_docs).splitlines()
    return list(difflib.unified_diff(old, new, fixture_name, rendered_name, lineterm=""))[2:]


def diff(project_options: ProjectOptions, cluster: str, path_text: str, *, unified: bool = False) -> int:
    """Render ``cluster``, compare the one file, print the diff (``unified``: of the canonical YAML texts;
    coloured on a terminal, see :mod:`harness.colour`); returns 0 (accepted) or 1 (reported)."""
    from harness.config_secrets import config_secrets
    from harness.file_compare import compare_pair
    from harness.parity import withheld_generator_input
    from harness.single_path import (
        generator_inputs,
        inspect_path,
        overlay_relative,
        rendered_cluster,
        select_one,
    )

    project = project_options.load()
    select_one(project, cluster)
    path = overlay_relative(project, cluster, path_text)
    owner = classify(path)
    if owner is not Ownership.OWNED:
        what = ("bootstrap-owned (flux-system/): never rendered, never compared" if owner is Ownership.BOOTSTRAP
                else "not renderer-owned: excluded from parity")
        print(f"{cluster}: {path} is {what}")
        return 0
    with rendered_cluster(project, cluster) as rendered:
        found = inspect_path(rendered, path)
        if not found.has_rendered and not found.has_fixture:
            raise InputError("FILE-MISSING", f"neither the renderer nor the fixture has {path}",
                             file=str(rendered.fixture_root / found.fixture_path),
                             hint="check the path (overlay-relative, e.g. services/fluxcd/harbor.yaml)")
        print(f"cluster {cluster}: fixture {found.fixture_path}"
              + (f" / rendered {found.rendered_path}" if found.rendered_path != found.fixture_path else ""))
        owner_name = rendered.plan.owner_of(found.rendered_path)
        if owner_name:
            print(f"owner: {owner_name}")
        for rule in found.rules:
            print(f"rule: {rule.id} ({rule.kind}, {rule.scope}): {rule.rationale}")
        reported = ", ".join(v.code for v in found.reported if v.code)
        accepted = [v.accepted.replace("not compared: ", "accepted: ") for v in found.verdicts if v.code is None]
        if not found.has_rendered or not found.has_fixture:
            side = "fixture" if found.has_fixture else "rendered output"
            what = reported or (accepted[0].removeprefix("accepted: ") if accepted else "")
            print(f"only in the {side}: {what}")
            return 1 if found.failing else 0
        max_bytes = project.max_file_bytes
        comparison, effective = found.comparison, found.effective
        if comparison is None:  # not compared by the check (both sides ignored): show the plain difference
            comparison, plain = compare_pair(rendered.out, found.rendered_path, rendered.fixture_root,
                                             found.fixture_path, max_file_bytes=max_bytes)
            effective = frozenset(plain)
        print(f"--- fixture:{found.fixture_path}\n+++ rendered:{found.rendered_path}")
        if comparison.equal:
            note = " (identical bytes)" if comparison.byte_identical else " (equal as YAML data)"
            if effective:
                note += f" after yaml_remove {', '.join(sorted(effective))}"
            print("no difference" + note)
            for verdict in found.reported:
                print(verdict.summary)
            return 1 if found.failing else 0
        fixture_bytes = read_file(rendered.fixture_root, found.fixture_path, max_file_bytes=max_bytes)
        rendered_bytes = read_file(rendered.out, found.rendered_path, max_file_bytes=max_bytes)
        if {found.fixture_path, found.rendered_path} & generator_inputs(rendered, max_file_bytes=max_bytes):
            lines = [withheld_generator_input(fixture_bytes, rendered_bytes)]
        elif unified and comparison.parsed and not comparison.parse_failures:
            lines = canonical_diff(fixture_bytes, rendered_bytes, f"fixture:{found.fixture_path}",
                                   f"rendered:{found.rendered_path}",
                                   found.pair.content_rules if found.pair is not None else ())
        elif comparison.parsed or comparison.parse_failures:
            lines = list(comparison.diff_lines(max_lines=FULL))
        else:
            lines = text_diff(fixture_bytes, rendered_bytes, f"fixture:{found.fixture_path}",
                              f"rendered:{found.rendered_path}")
            if len(lines) >= 2 and lines[0].startswith("---") and lines[1].startswith("+++"):
                lines = lines[2:]  # the file header was printed already
        hidden = config_secrets(project.config_for(cluster), max_bytes=max_bytes)
        paint = diff_line if wanted(sys.stdout) else str
        for line in lines:
            print(f"  {paint(redact_text(line, hidden) if hidden else line)}")
        if not found.failing:
            print("; ".join(accepted) or "accepted")
            return 0
        count = len(comparison.changes)
        print(f"differs: {reported}" + (f" ({count} change{'s' if count != 1 else ''})" if count else ""))
        return 1
