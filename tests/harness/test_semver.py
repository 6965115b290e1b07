"""The one semantic-version implementation: SemVer 2.0 grammar and precedence (semver.org §11)."""

from __future__ import annotations

import re

import pytest

from harness.inventory import inventory_schema
from harness.semver import SEMVER_PATTERN, is_semver, parse_semver, semver_key


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.0.0", "1.0.1"), ("1.0.9", "1.1.0"), ("1.9.9", "2.0.0"), ("1.0.0-rc.1", "1.0.0"),
    ("1.0.0-alpha", "1.0.0-alpha.1"), ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-2", "1.0.0-10"),
    ("1.0.0-beta.11", "1.0.0-rc.1"), ("1.0.0+build.9", "1.0.1+build.1"), ("1.10.0", "1.9.3")[::-1],
    ("1.0.0-alpha", "1.0.0-rc.1"), ("1.0.0-1", "1.0.0-alpha"), ("1.0.0-alpha.1", "1.0.0-alpha.a"),
    ("1.0.0-9", "1.0.0-a"), ("1.0.0-Z", "1.0.0-a"), ("1.0.0-alpha.beta", "1.0.0-beta"),
])
def test_semver_precedence(lower: str, higher: str) -> None:
    assert semver_key(lower) < semver_key(higher)
    assert semver_key(higher) > semver_key(lower)


def test_the_spec_example_chain_is_ordered() -> None:
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
             "1.0.0-rc.1", "1.0.0"]
    assert sorted(reversed(chain), key=semver_key) == chain


def test_build_metadata_is_ignored_and_kept() -> None:
    assert semver_key("1.2.3+a") == semver_key("1.2.3+b")
    assert parse_semver("1.2.3-rc.1+build.7").build == ("build", "7")
    assert parse_semver(" 1.2.3 ").pre == ()


@pytest.mark.parametrize("text", ["v1.2", "1.0", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.0.0-01", "1.0.0-",
                                  "1.0.0-a..b", "1.0.0+", "1.0.0+a..b", "1.0.0-ä", "", "1.2.3\n4"])
def test_malformed_versions_are_refused(text: str) -> None:
    assert not is_semver(text)
    with pytest.raises(ValueError, match="semantic"):
        semver_key(text)


@pytest.mark.parametrize("text", ["0.0.0", "1.0.0-0", "1.0.0-0a", "1.0.0-x-y.0.--", "1.0.0+001", "10.20.30"])
def test_valid_versions(text: str) -> None:
    assert is_semver(text)
    semver_key(text)


def test_the_schema_pattern_is_the_same_grammar() -> None:
    pattern = inventory_schema()["properties"]["version"]["pattern"]
    assert pattern == SEMVER_PATTERN
    for text in ["1.0.0", "1.0.0-01", "01.0.0", "1.0.0-rc.1+b.2", "1.0.0-a..b"]:
        assert bool(re.search(pattern, text)) == is_semver(text), text
