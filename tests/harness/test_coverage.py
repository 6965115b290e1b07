"""The undeclared-file detector on small template/descriptor trees, its CLI, and the real renderer tree."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.coverage import check_coverage, patterns_intersect
from harness.errors import InputError
from harness.findings import Finding, Severity, failing

ROOT = Path(__file__).resolve().parents[2]


def make(tmp_path: Path, templates: list[str], descriptors: dict[str, str]) -> tuple[Path, Path]:
    troot, droot = tmp_path / "templates", tmp_path / "descriptors"
    troot.mkdir(parents=True)
    droot.mkdir(parents=True)
    for name in templates:
        path = troot / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    for name, text in descriptors.items():
        (droot / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
    return troot, droot


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in findings]


KEYCLOAK = """
    name: keycloak
    layer: services
    service: keycloak
    roots:
      - path: services/keycloak
        output: services/keycloak
        excludes:
          - 10-operator/patch-subscription.yaml
    files:
      - template: services/keycloak/10-operator/patch-subscription.yaml
        output: services/keycloak/10-operator/patch-subscription.yaml
        when: {field: opencenter.meta.region, op: equals, value: ord1}
      - template: services/fluxcd/keycloak.yaml
        output: services/fluxcd/keycloak.yaml
"""
KEYCLOAK_FILES = ["services/keycloak/kustomization.yaml", "services/keycloak/00-postgres/db.yaml",
                  "services/keycloak/10-operator/patch-subscription.yaml", "services/fluxcd/keycloak.yaml"]


def test_clean_tree_with_exclude_taken_back_by_the_same_descriptor(tmp_path: Path) -> None:
    assert check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": KEYCLOAK})) == []


# ---------------------------------------------------------------------------------------- UNDECLARED

def test_undeclared(tmp_path: Path) -> None:
    files = [*KEYCLOAK_FILES, "services/harbor/kustomization.yaml", ".sops.yaml"]
    findings = check_coverage(*make(tmp_path, files, {"keycloak": KEYCLOAK}))
    assert codes(findings) == [("COVERAGE-UNDECLARED", "templates/.sops.yaml"),
                               ("COVERAGE-UNDECLARED", "templates/services/harbor/kustomization.yaml")]
    assert all(f.severity is Severity.ERROR and f.check == "coverage" and f.hint for f in findings)


def test_excluded_and_not_taken_back_is_undeclared(tmp_path: Path) -> None:
    text = KEYCLOAK.replace("      - template: services/keycloak/10-operator/patch-subscription.yaml\n"
                            "        output: services/keycloak/10-operator/patch-subscription.yaml\n"
                            "        when: {field: opencenter.meta.region, op: equals, value: ord1}\n", "")
    findings = check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": text}))
    assert codes(findings) == [
        ("COVERAGE-UNDECLARED", "templates/services/keycloak/10-operator/patch-subscription.yaml")]


# ----------------------------------------------------------------------------------------- DUPLICATE

def test_duplicate_between_descriptors_names_both_files(tmp_path: Path) -> None:
    other = """
        name: keycloak-extra
        layer: services
        files:
          - template: services/keycloak/kustomization.yaml
            output: services/keycloak-extra/kustomization.yaml
    """
    findings = check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": KEYCLOAK, "keycloak-extra": other}))
    assert codes(findings) == [("COVERAGE-DUPLICATE", "templates/services/keycloak/kustomization.yaml")]
    finding = findings[0]
    assert "keycloak.yaml roots[0]" in finding.message
    assert "keycloak-extra.yaml files[0]" in finding.message
    assert finding.extra["descriptors"] == ["descriptors/keycloak-extra.yaml", "descriptors/keycloak.yaml"]
    assert finding.owner == "keycloak, keycloak-extra"


def test_duplicate_overlapping_roots(tmp_path: Path) -> None:
    wide = """
        name: services
        layer: services
        roots:
          - path: services
            output: services
            excludes: [fluxcd/, keycloak/10-operator/]
    """
    findings = check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": KEYCLOAK, "services": wide}))
    assert sorted(codes(findings)) == [
        ("COVERAGE-DUPLICATE", "templates/services/keycloak/00-postgres/db.yaml"),
        ("COVERAGE-DUPLICATE", "templates/services/keycloak/kustomization.yaml")]


def test_root_and_files_of_one_descriptor_without_exclude_is_a_duplicate(tmp_path: Path) -> None:
    text = KEYCLOAK.replace("        excludes:\n          - 10-operator/patch-subscription.yaml\n", "")
    findings = check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": text}))
    assert codes(findings) == [
        ("COVERAGE-DUPLICATE", "templates/services/keycloak/10-operator/patch-subscription.yaml")]
    assert "claimed twice by descriptor keycloak: roots[0], files[0]" in findings[0].message


def test_file_excluded_by_one_descriptor_and_owned_by_another_is_fine(tmp_path: Path) -> None:
    text = KEYCLOAK.replace("      - template: services/keycloak/10-operator/patch-subscription.yaml\n"
                            "        output: services/keycloak/10-operator/patch-subscription.yaml\n"
                            "        when: {field: opencenter.meta.region, op: equals, value: ord1}\n", "")
    pinned = """
        name: keycloak-pin
        layer: services
        files:
          - template: services/keycloak/10-operator/patch-subscription.yaml
            output: services/keycloak/10-operator/patch-subscription.yaml
    """
    assert check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": text, "keycloak-pin": pinned})) == []


def test_one_template_in_several_files_entries_of_one_descriptor_is_fine(tmp_path: Path) -> None:
    text = """
        name: flux
        layer: cluster
        files:
          - template: flux/unit.yaml
            output: services/fluxcd/a.yaml
            when: {field: opencenter.meta.region, op: equals, value: a}
          - template: flux/unit.yaml
            output: services/fluxcd/b.yaml
            when: {field: opencenter.meta.region, op: equals, value: b}
    """
    assert check_coverage(*make(tmp_path, ["flux/unit.yaml"], {"flux": text})) == []


# --------------------------------------------------------------------------------- MISSING-TEMPLATE

def test_missing_templates_and_roots_with_lines(tmp_path: Path) -> None:
    text = """
        name: broken
        layer: services
        roots:
          - path: services/broken
            output: services/broken
          - path: services/keycloak/kustomization.yaml
            output: services/k
        files:
          - template: services/broken/gone.yaml
            output: services/broken/gone.yaml
          - template: services/keycloak
            output: services/k.yaml
    """
    findings = check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": KEYCLOAK, "broken": text}))
    missing = [f for f in findings if f.code == "COVERAGE-MISSING-TEMPLATE"]
    assert [(f.path, f.line) for f in missing] == [("descriptors/broken.yaml", 4), ("descriptors/broken.yaml", 6),
                                                   ("descriptors/broken.yaml", 9), ("descriptors/broken.yaml", 11)]
    messages = [f.message for f in missing]
    assert "roots[0].path root directory services/broken does not exist" in messages[0]
    assert "is a file, not a directory" in messages[1]
    assert "files[0].template template services/broken/gone.yaml does not exist" in messages[2]
    assert "is a directory, not a file" in messages[3]
    assert all(f.owner == "broken" for f in missing)


# ------------------------------------------------------------------------------------- DEAD-EXCLUDE

def test_dead_excludes(tmp_path: Path) -> None:
    text = """
        name: kyverno
        layer: services
        roots:
          - path: services/kyverno
            output: services/kyverno
            excludes:
              - policies/*.yaml.bak
              - "**/*.tmpl"
              - policies/
              - nothing/here/
    """
    files = ["services/kyverno/kustomization.yaml", "services/kyverno/a.tmpl", "services/kyverno/policies/p.yaml"]
    findings = check_coverage(*make(tmp_path, files, {"kyverno": text}))
    dead = [f for f in findings if f.code == "COVERAGE-DEAD-EXCLUDE"]
    assert [(f.line, f.extra["pattern"]) for f in dead] == [(7, "policies/*.yaml.bak"), (10, "nothing/here/")]
    assert {f.code for f in findings} == {"COVERAGE-DEAD-EXCLUDE", "COVERAGE-UNDECLARED"}
    undeclared = sorted(f.path for f in findings if f.code == "COVERAGE-UNDECLARED")
    assert undeclared == ["templates/services/kyverno/a.tmpl", "templates/services/kyverno/policies/p.yaml"]


def test_live_excludes_are_not_reported(tmp_path: Path) -> None:
    assert [f for f in check_coverage(*make(tmp_path, KEYCLOAK_FILES, {"keycloak": KEYCLOAK}))
            if f.code == "COVERAGE-DEAD-EXCLUDE"] == []


# -------------------------------------------------------------------------------- OUTPUT-COLLISION

def test_two_templates_rendering_to_one_literal_output(tmp_path: Path) -> None:
    text = """
        name: gateway
        layer: services
        files:
          - template: services/gateway/a.yaml
            output: services/gateway/kustomization.yaml
          - template: services/gateway/b.yaml
            output: services/gateway/kustomization.yaml
    """
    findings = check_coverage(*make(tmp_path, ["services/gateway/a.yaml", "services/gateway/b.yaml"],
                                    {"gateway": text}))
    assert codes(findings) == [("COVERAGE-OUTPUT-COLLISION", "descriptors/gateway.yaml")]
    assert findings[0].severity is Severity.ERROR
    assert findings[0].line == 6
    assert "both render to services/gateway/kustomization.yaml" in findings[0].message


def test_root_output_colliding_with_a_file_output_of_another_descriptor(tmp_path: Path) -> None:
    other = """
        name: clash
        layer: services
        files:
          - template: other/kustomization.yaml
            output: services/keycloak/kustomization.yaml
    """
    findings = check_coverage(*make(tmp_path, [*KEYCLOAK_FILES, "other/kustomization.yaml"],
                                    {"keycloak": KEYCLOAK, "clash": other}))
    assert [f.code for f in findings] == ["COVERAGE-OUTPUT-COLLISION"]
    assert findings[0].extra["descriptors"] == ["descriptors/clash.yaml", "descriptors/keycloak.yaml"]


def test_exclusive_conditions_never_collide(tmp_path: Path) -> None:
    text = """
        name: issuers
        layer: services
        files:
          - template: issuers/staging.yaml
            output: services/cert-manager/issuer.yaml
            when: {field: opencenter.services.cert-manager.staging, op: "true"}
          - template: issuers/production.yaml
            output: services/cert-manager/issuer.yaml
            when: {field: opencenter.services.cert-manager.staging, op: "false"}
          - template: issuers/ord1.yaml
            output: services/cert-manager/region.yaml
            when: {field: opencenter.meta.region, op: equals, value: ord1}
          - template: issuers/iad3.yaml
            output: services/cert-manager/region.yaml
            when: {field: opencenter.meta.region, op: equals, value: iad3}
    """
    files = ["issuers/staging.yaml", "issuers/production.yaml", "issuers/ord1.yaml", "issuers/iad3.yaml"]
    assert check_coverage(*make(tmp_path, files, {"issuers": text})) == []
    overlapping = text.replace('op: "false"', "op: exists")
    findings = check_coverage(*make(tmp_path / "again", files, {"issuers": overlapping}))
    assert [f.code for f in findings] == ["COVERAGE-OUTPUT-COLLISION"]


def test_templated_outputs_that_can_collide_are_warnings(tmp_path: Path) -> None:
    text = """
        name: customer
        layer: customer-managed
        files:
          - template: cm/gitrepository.yaml
            output: customer-managed/sources/{{ customer_managed.repository_name }}.yaml
          - template: cm/kustomization.yaml
            output: customer-managed/sources/kustomization.yaml
          - template: cm/readme.md
            output: customer-managed/sources/README.md
          - template: cm/nested.yaml
            output: customer-managed/sources/sub/{{ x }}.yaml
    """
    files = ["cm/gitrepository.yaml", "cm/kustomization.yaml", "cm/readme.md", "cm/nested.yaml"]
    findings = check_coverage(*make(tmp_path, files, {"customer": text}))
    assert [(f.code, f.severity) for f in findings] == [("COVERAGE-OUTPUT-COLLISION", Severity.WARNING)]
    assert failing(findings) == []
    assert "cm/gitrepository.yaml" in findings[0].message
    assert "cm/kustomization.yaml" in findings[0].message


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("a/b.yaml", "a/b.yaml", True),
    ("a/b.yaml", "a/c.yaml", False),
    ("a/{{ x }}.yaml", "a/kustomization.yaml", True),
    ("a/{{ x }}.yaml", "a/kustomization.yml", False),
    ("a/{{ x }}.yaml", "a/.yaml", False),  # a name is never empty
    ("a/{{ x }}.yaml", "a/b/c.yaml", False),  # ... and never holds a "/"
    ("a/{{ x }}-{{ y }}.yaml", "a/{{ z }}.yaml", True),
    ("a/pre-{{ x }}.yaml", "a/{{ y }}-post.yaml", True),
    ("a/pre-{{ x }}.yaml", "a/post-{{ y }}.yaml", False),
    ("{{ a }}/x.yaml", "b/{{ c }}", True),
    ("{{ a }}/x.yaml", "b/c/{{ d }}", False),
])
def test_patterns_intersect(a: str, b: str, expected: bool) -> None:
    assert patterns_intersect(a, b) is expected
    assert patterns_intersect(b, a) is expected


# ------------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize(("descriptor", "code"), [
    ("name: x\nroots: services\n", "DESCRIPTOR-INVALID"),
    ("name: x\nroots:\n  - path: ../outside\n", "DESCRIPTOR-INVALID"),
    ("name: x\nfiles:\n  - template: /etc/passwd\n", "DESCRIPTOR-INVALID"),
    ("name: x\nroots:\n  - path: services\n    excludes: ['!keep.yaml']\n", "DESCRIPTOR-INVALID"),
    ("name: x\nroots:\n  - path: services\n    excludes: 'a.yaml'\n", "DESCRIPTOR-INVALID"),
    ("- a list\n", "DESCRIPTOR-INVALID"),
    ("name: x\nname: y\n", "YAML-DUPLICATE-KEY"),
    ("name: [x\n", "YAML-INVALID"),
])
def test_malformed_descriptors_are_input_errors(tmp_path: Path, descriptor: str, code: str) -> None:
    troot, droot = make(tmp_path, ["services/a.yaml"], {})
    (droot / "x.yaml").write_text(descriptor)
    with pytest.raises(InputError) as info:
        check_coverage(troot, droot)
    assert info.value.code == code
    assert info.value.location is not None
    assert info.value.location.file == "descriptors/x.yaml"


def test_missing_roots_and_symlinks_are_input_errors(tmp_path: Path) -> None:
    troot, droot = make(tmp_path, ["services/a.yaml"], {})
    with pytest.raises(InputError) as info:
        check_coverage(tmp_path / "nope", droot)
    assert info.value.code == "FILE-MISSING"
    with pytest.raises(InputError) as info:
        check_coverage(troot, tmp_path / "nope")
    assert info.value.code == "FILE-MISSING"
    os.symlink(troot / "services/a.yaml", troot / "services/link.yaml")
    with pytest.raises(InputError) as info:
        check_coverage(troot, droot)
    assert info.value.code == "FILE-SYMLINK"
    assert "link.yaml" in info.value.one_line()


# ------------------------------------------------------------------------------------------------ CLI

def test_cli_coverage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    troot, _ = make(tmp_path, [*KEYCLOAK_FILES, "services/stray.yaml"], {"keycloak": KEYCLOAK})
    (tmp_path / "pyproject.toml").write_text(
        '[tool.overlay-parity]\ntemplate_root = "templates"\ndescriptor_root = "descriptors"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["coverage", "--json", "r/cov.json", "--sarif", "r/cov.sarif"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "templates/services/stray.yaml: COVERAGE-UNDECLARED template file has no descriptor owner"]
    assert "coverage: 1 error(s)" in err
    report = json.loads((tmp_path / "r/cov.json").read_text())
    assert report["summary"]["by_code"] == {"COVERAGE-UNDECLARED": 1}
    sarif = json.loads((tmp_path / "r/cov.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "COVERAGE-UNDECLARED"
    (troot / "services/stray.yaml").unlink()
    assert main(["coverage"]) == 0
    assert main(["coverage", "--template-root", str(tmp_path / "missing")]) == 2
    assert "FILE-MISSING" in capsys.readouterr().err
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert main(["coverage", "--descriptor-root", str(other)]) == 1  # no descriptors: everything undeclared


# ---------------------------------------------------------------------------------------- real tree

def test_the_reference_renderer_tree_has_no_coverage_errors() -> None:
    templates, descriptors = ROOT / "renderer" / "templates", ROOT / "renderer" / "descriptors"
    findings = check_coverage(templates, descriptors, relative_to=ROOT)
    assert [f"{f.path}:{f.line}: {f.code} {f.message}" for f in failing(findings)] == []
    # what remains can only be config-dependent output collisions (templated names), reported as warnings
    assert {f.code for f in findings} <= {"COVERAGE-OUTPUT-COLLISION"}


# ---------------------------------------------------------------------------------------- anchoring

def test_findings_anchor_at_templates_and_descriptor_entries(tmp_path: Path) -> None:
    """Every finding's ``file`` and related places exist relative to the base (issue 15 item 2)."""
    other = """
        name: keycloak-extra
        layer: services
        files:
          - template: services/keycloak/kustomization.yaml
            output: services/keycloak-extra/kustomization.yaml
          - template: services/gateway/a.yaml
            output: services/gateway/kustomization.yaml
          - template: services/gateway/b.yaml
            output: services/gateway/kustomization.yaml
          - template: services/gone.yaml
            output: services/gone.yaml
    """
    files = [*KEYCLOAK_FILES, "services/gateway/a.yaml", "services/gateway/b.yaml", "stray.yaml"]
    findings = check_coverage(*make(tmp_path, files, {"keycloak": KEYCLOAK, "keycloak-extra": other}))
    by_code = {f.code: f for f in findings}
    assert set(by_code) == {"COVERAGE-DUPLICATE", "COVERAGE-OUTPUT-COLLISION", "COVERAGE-MISSING-TEMPLATE",
                            "COVERAGE-UNDECLARED"}
    for finding in findings:
        assert finding.file == finding.path
        assert (tmp_path / finding.file).is_file()
        for place in finding.related:
            assert (tmp_path / place.file).is_file()
    assert (by_code["COVERAGE-UNDECLARED"].file, by_code["COVERAGE-UNDECLARED"].line) == ("templates/stray.yaml", 0)
    duplicate = by_code["COVERAGE-DUPLICATE"]
    assert [(r.file, r.line, r.role) for r in duplicate.related] == [
        ("descriptors/keycloak-extra.yaml", 4, "descriptor"), ("descriptors/keycloak.yaml", 5, "descriptor")]
    collision = by_code["COVERAGE-OUTPUT-COLLISION"]
    assert (collision.file, collision.line) == ("descriptors/keycloak-extra.yaml", 8)
    assert [(r.file, r.role) for r in collision.related] == [
        ("descriptors/keycloak-extra.yaml", "descriptor"), ("templates/services/gateway/a.yaml", "template"),
        ("templates/services/gateway/b.yaml", "template")]
    assert (by_code["COVERAGE-MISSING-TEMPLATE"].file, by_code["COVERAGE-MISSING-TEMPLATE"].line) == \
        ("descriptors/keycloak-extra.yaml", 10)
