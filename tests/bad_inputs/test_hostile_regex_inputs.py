"""Issue 18 class 3: user-supplied regular expressions cannot hang. Catastrophic patterns in a cluster config's
SOPS rules, in a ``.sops.yaml`` the policy gate reads, and in inventory globs, matched against the inputs
that make backtracking engines explode: every run ends (a subprocess timeout is the hang guard) in a clean
result, a finding or one located line -- never INTERNAL."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.user_regex import RegexError, compile_regex, search
from tests.hardening.hostile import assert_one_line, assert_sane, run
from tests.hardening.support import Project, examples, snapshot

CATASTROPHIC = ["(a+)+$", "(x+x+)+y", "(a|aa)+$", "(.*a){25}", r"^(\w+\s?)*$", "(a|a?)+b", r"^([a-z0-9]+-?)+\.yaml$",
                "(?:a*)*b"]
HOSTILE_INPUT = "a" * 64 + "!"
HOSTILE_NAME = "a" * 60 + "-" * 1 + "a" * 60 + "!.yaml"


def set_rule(project: Project, field: str, regex: str) -> None:
    config = project.config()
    text = config.read_text(encoding="utf-8")
    pattern = {"path_regex": r"path_regex: ^services/.*/secrets/.*\.ya?ml$",
               "encrypted_regex": "encrypted_regex: ^(data|stringData)$"}[field]
    assert pattern in text
    config.write_text(text.replace(pattern, f"{field}: {json.dumps(regex)}", 1), encoding="utf-8")


@pytest.mark.parametrize("regex", CATASTROPHIC)
@pytest.mark.parametrize("field", ["path_regex", "encrypted_regex"])
def test_catastrophic_regex_in_the_cluster_config(project: Project, field: str, regex: str) -> None:
    set_rule(project, field, regex)
    before = snapshot(project.overlay())
    outcome = run(["render", "--config", project.config(), "--out", project.overlay()], cwd=project.root)
    assert_sane(outcome)
    if outcome.returncode == 2:
        assert_one_line(outcome, codes=("CONFIG-TRUST-POLICY", "CONFIG-INVALID"), file=project.config(),
                        cwd=project.root)
        assert snapshot(project.overlay()) == before
    else:
        assert outcome.returncode == 0, outcome.output


SOPS_TEMPLATE = """\
creation_rules:
  - path_regex: {path}
    encrypted_regex: {keys}
    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
"""


@pytest.mark.parametrize("regex", CATASTROPHIC[:5])
def test_catastrophic_regex_in_an_overlay_sops_yaml_under_policy(project: Project, regex: str) -> None:
    overlay = project.overlay()
    (overlay / ".sops.yaml").write_text(SOPS_TEMPLATE.format(path=json.dumps(regex), keys=json.dumps(regex)),
                                        encoding="utf-8")
    secrets = overlay / "services" / "harbor" / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / HOSTILE_NAME).write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  namespace: harbor\nstringData:\n"
        f"  {HOSTILE_INPUT.rstrip('!')}x: PLACEHOLDER-value\n", encoding="utf-8")
    outcome = run(["policy", overlay, "--repo-root", project.root, "--policy", "sops"], cwd=project.root)
    assert_sane(outcome)
    if outcome.returncode == 2:
        error = assert_one_line(outcome)
        assert ".sops.yaml" in error.file, error


@pytest.mark.parametrize("glob", ["*a" * 20 + "b", "**/a/**/a/**/a/**/a/**/a/**/b", "*a*a*a*a*a*a*a*a*a*a*/**"])
def test_catastrophic_glob_in_the_inventory(project: Project, glob: str) -> None:
    deep = project.overlay() / "services" / "/".join(["a"] * 40)
    deep.mkdir(parents=True)
    (deep / ("a" * 200)).write_text("kind: ConfigMap\n", encoding="utf-8")
    project.inventory.write_text(
        project.inventory.read_text(encoding="utf-8").replace("defaults: []\n", "")
        + "defaults:\n  - id: hostile\n    kind: ignore_fixture\n    path: " + json.dumps(glob)
        + "\n    rationale: hostile glob\n    approved_by: nobody\n", encoding="utf-8")
    outcome = run(["check"], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode in (1, 2), outcome.output


# ---------------------------------------------------------------------- the one rule, in-process

REGEX_ATOMS = st.sampled_from(["a", "b", ".", r"\w", r"\s", "[ab]", "(a|aa)", "(a+)", "(.*)", "(?:a*)", "x?"])
QUANTIFIERS = st.sampled_from(["", "*", "+", "?", "{2,}", "{1,3}", "*?"])
HOSTILE_REGEXES = st.lists(st.tuples(REGEX_ATOMS, QUANTIFIERS).map("".join), min_size=1, max_size=6).map(
    lambda parts: "(" + "".join(parts) + ")+$")


@examples(1.0)
@given(HOSTILE_REGEXES, st.integers(10, 2000))
def test_user_regexes_match_in_linear_time_or_are_refused(regex: str, size: int) -> None:
    """Nested quantifiers against long non-matching input: RE2 answers (a backtracking engine would not);
    the answer agrees with Python's ``re`` on inputs short enough for it."""
    try:
        compile_regex(regex)
    except RegexError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert regex not in refusal  # the message never repeats the pattern
        return
    text = "a" * size + "!"
    found = search(regex, text)
    for short in ("a!", "ab", "a a"):  # short enough for Python's backtracking engine
        assert search(regex, short) == (re.search(regex, short) is not None)
    assert found == search(regex, text)  # deterministic
