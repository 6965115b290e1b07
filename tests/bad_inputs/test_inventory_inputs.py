"""Bad canonicalization inventories given to ``overlay-parity check`` (which loads the inventory before
rendering anything): exit 2, one line per problem naming the inventory file and line, a fix, no traceback,
and neither the fixture overlay nor anything next to it written."""

from __future__ import annotations

import textwrap

from tests.hardening.support import Project, assert_bad_input, snapshot

HEAD = "version: 1.0.0\nfixture: relaypoint-logistics-shared\n"


def rule(rule_id: str, kind: str, path: str, extra: str = "") -> str:
    text = (f"  - id: {rule_id}\n    kind: {kind}\n    path: {path}\n{extra}"
            "    rationale: the fixture is hand-maintained here\n    approved_by: parity-oracle-owner\n")
    return text


def check_bad(project: Project, text: str, *, code: str, line: int, lines: int | None = 1,
              contains: str = "") -> None:
    project.inventory.write_text(text, encoding="utf-8")
    before = snapshot(project.root)
    proc = project.cli("check")
    errors = assert_bad_input(proc, code=code, file=project.inventory, line=line, lines=lines, contains=contains,
                              cwd=project.root)
    assert proc.stdout == ""  # nothing was rendered or compared
    assert all(e.code == code for e in errors)
    assert snapshot(project.root) == before


def test_inventory_with_an_unknown_top_level_key(project: Project) -> None:
    check_bad(project, HEAD + "owner: platform\ndefaults: []\n", code="INVENTORY-INVALID", line=3,
              contains="'owner'")


def test_inventory_rule_with_an_unknown_key(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "ignore_fixture", "README.md", "    severity: low\n")
    check_bad(project, text, code="INVENTORY-INVALID", line=7, contains="'severity'")


def test_inventory_rule_with_an_unknown_kind(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "ignore_everything", "services/**")
    check_bad(project, text, code="INVENTORY-INVALID", line=5, contains="ignore_everything")


def test_inventory_missing_version(project: Project) -> None:
    text = "fixture: relaypoint-logistics-shared\ndefaults: []\n"
    check_bad(project, text, code="INVENTORY-INVALID", line=1, contains="'version'")


def test_inventory_version_not_semver(project: Project) -> None:
    text = "version: '1.0'\nfixture: relaypoint-logistics-shared\n"
    check_bad(project, text, code="INVENTORY-INVALID", line=1, contains="semantic version")


def test_inventory_with_a_bad_glob(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "ignore_fixture", "'services/[a-'")
    check_bad(project, text, code="INVENTORY-INVALID", line=6, contains="bad glob")


def test_inventory_with_a_negated_glob(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "ignore_fixture", "'!services/**'")
    check_bad(project, text, code="INVENTORY-INVALID", line=6, contains="negated")


def test_inventory_with_a_bad_json_pointer(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "yaml_remove", "services/**",
                                       "    pointers:\n      - /metadata/labels\n      - /metadata/a~2b\n")
    check_bad(project, text, code="INVENTORY-INVALID", line=9, contains="bad JSON pointer")


def test_inventory_pointer_without_leading_slash(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "yaml_remove", "services/**", "    pointers: [metadata/name]\n")
    check_bad(project, text, code="INVENTORY-INVALID", line=7)


def test_inventory_with_conflicting_rules(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("a1", "alias", "services/fluxcd/harbor.yaml", "    to: services/harbor.yaml\n")
    text += rule("a2", "alias", "services/fluxcd/harbor.yaml", "    to: services/other.yaml\n")
    check_bad(project, text, code="INVENTORY-CONFLICT", line=10, contains="two aliases")


def test_inventory_alias_that_is_also_ignored(project: Project) -> None:
    text = HEAD + "clusters:\n  k8s-dev:\n" + textwrap.indent(
        rule("a1", "alias", "services/fluxcd/harbor.yaml", "    to: services/harbor.yaml\n")
        + rule("i1", "ignore_rendered", "services/fluxcd/*.yaml"), "  ")
    check_bad(project, text, code="INVENTORY-CONFLICT", line=5, contains="both aliased and ignored")


def test_inventory_duplicate_rule_ids(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "ignore_fixture", "README.md") + rule("r1", "path_only", "x.yaml")
    check_bad(project, text, code="INVENTORY-INVALID", line=9, contains="duplicate rule id")


def test_inventory_every_problem_is_one_line(project: Project) -> None:
    text = HEAD + "defaults:\n" + rule("r1", "ignore_fixture", "'services/[a-'") + rule(
        "r2", "yaml_remove", "services/**", "    pointers: ['/a~9']\n") + rule("r3", "path_only", "'x//y'")
    check_bad(project, text, code="INVENTORY-INVALID", line=6, lines=3)


def test_inventory_that_is_not_a_mapping(project: Project) -> None:
    check_bad(project, "- version: 1.0.0\n", code="INVENTORY-INVALID", line=1, contains="mapping")


def test_inventory_with_duplicate_keys(project: Project) -> None:
    check_bad(project, HEAD + "version: 1.0.1\n", code="YAML-DUPLICATE-KEY", line=3, contains="'version'")


def test_inventory_key_with_a_terminal_escape_is_shown_escaped(project: Project) -> None:
    """A key carrying ESC[31m (or NUL, or a bidi override) is echoed escaped, never raw to the terminal."""
    check_bad(project, HEAD + '"\\e[31mred\\0\\u202e": 1\n', code="INVENTORY-INVALID", line=3)
    proc = project.cli("check")
    assert "\x1b" not in proc.stderr
    assert "\x00" not in proc.stderr
    assert "\u202e" not in proc.stderr
    assert "\\x1b[31mred\\x00\\u202e" in proc.stderr
