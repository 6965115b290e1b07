"""Gitignore-style glob semantics, table-driven."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.globs import GlobError, GlobSet, compile_all, compile_glob, compile_pattern, match

CASES = [
    # pattern, path, expected
    # no slash: any depth
    ("kustomization.yaml", "kustomization.yaml", True),
    ("kustomization.yaml", "services/fluxcd/kustomization.yaml", True),
    ("kustomization.yaml", "services/fluxcd/kustomization.yml", False),
    ("*.yaml", "a.yaml", True),
    ("*.yaml", "services/harbor/override-values.yaml", True),
    ("*.yaml", "services/keycloak/realm.json", False),
    ("*.yaml", "a.yaml.bak", False),
    # leading slash anchors
    ("/kustomization.yaml", "kustomization.yaml", True),
    ("/kustomization.yaml", "services/kustomization.yaml", False),
    # a slash in the middle anchors too
    ("services/*.yaml", "services/a.yaml", True),
    ("services/*.yaml", "x/services/a.yaml", False),
    ("services/*.yaml", "services/fluxcd/a.yaml", False),
    # * stays within one segment
    ("services/*/kustomization.yaml", "services/harbor/kustomization.yaml", True),
    ("services/*/kustomization.yaml", "services/a/b/kustomization.yaml", False),
    # ? is one non-slash character
    ("services/harbo?/x.yaml", "services/harbor/x.yaml", True),
    ("services/harbo?/x.yaml", "services/harbo/x.yaml", False),
    ("a?b", "a/b", False),
    # classes
    ("services/[hk]*/x.yaml", "services/harbor/x.yaml", True),
    ("services/[hk]*/x.yaml", "services/keycloak/x.yaml", True),
    ("services/[hk]*/x.yaml", "services/loki/x.yaml", False),
    ("services/[!h]*/x.yaml", "services/loki/x.yaml", True),
    ("services/[!h]*/x.yaml", "services/harbor/x.yaml", False),
    ("file[0-9].txt", "file7.txt", True),
    ("file[0-9].txt", "filex.txt", False),
    ("file[]].txt", "file].txt", True),
    ("file[a-].txt", "file-.txt", True),
    # ** segments
    ("**/harbor.yaml", "harbor.yaml", True),
    ("**/harbor.yaml", "services/fluxcd/harbor.yaml", True),
    ("services/**", "services/a", True),
    ("services/**", "services/a/b/c.yaml", True),
    ("services/**", "services", False),
    ("services/**", "managed-services/a", False),
    ("services/**/override-values.yaml", "services/override-values.yaml", True),
    ("services/**/override-values.yaml", "services/harbor/override-values.yaml", True),
    ("services/**/override-values.yaml", "services/a/b/override-values.yaml", True),
    ("services/**/override-values.yaml", "managed-services/a/override-values.yaml", False),
    ("**", "anything/at/all", True),
    ("a**b", "axxb", True),  # a non-segment ** is an ordinary *
    ("a**b", "ax/xb", False),
    # trailing slash: a directory and everything below
    ("harbor/", "services/harbor/x.yaml", True),
    ("harbor/", "harbor/x.yaml", True),
    ("harbor/", "harbor", False),
    ("/services/harbor/", "services/harbor/a/b.yaml", True),
    ("/services/harbor/", "x/services/harbor/a.yaml", False),
    # without a trailing slash a pattern also covers a directory it names
    ("services/harbor", "services/harbor/kustomization.yaml", True),
    ("services/harbor", "services/harbor", True),
    ("services/harbor", "services/harbor-x/a.yaml", False),
    ("harbor", "services/harbor/a.yaml", True),
    # escapes
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    # dots are literal
    ("a.yaml", "axyaml", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_glob_table(pattern: str, path: str, expected: bool) -> None:
    assert compile_pattern(pattern).match(path) is expected
    assert match(pattern, path) is expected


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_globset_agrees_with_single_globs(pattern: str, path: str, expected: bool) -> None:
    gs = GlobSet.build([(compile_pattern(pattern), pattern)])
    assert (gs.matches(path) == [pattern]) is expected


@pytest.mark.parametrize("pattern", [
    "", "   ", " a", "!services/x", "a//b", "a/../b", "./a", "[abc", "a\\", "file[z-a].txt", "/", "[a/b]",
])
def test_invalid_patterns_raise(pattern: str) -> None:
    with pytest.raises(GlobError):
        compile_pattern(pattern)
    with pytest.raises(InputError) as info:
        compile_glob(pattern, file="inv.yaml", line=7)
    assert info.value.code == "INVENTORY-INVALID"
    assert "inv.yaml:7" in info.value.one_line()


def test_literal_detection() -> None:
    assert compile_pattern("services/harbor/x.yaml").literal == "services/harbor/x.yaml"
    assert compile_pattern("/k.yaml").literal == "k.yaml"
    assert compile_pattern("harbor/").literal == "harbor"
    assert compile_pattern("*.yaml").literal is None


def test_globset_returns_every_match_in_insertion_order() -> None:
    patterns = ["*.yaml", "services/harbor/", "/services/harbor/x.yaml", "x.yaml", "services/**", "harbor/",
                "services/loki/"]
    gs = GlobSet.build((compile_pattern(p), p) for p in patterns)
    assert gs.matches("services/harbor/x.yaml") == patterns[:6]
    assert gs.matches("README.md") == []
    assert len(gs) == len(patterns)
    assert pickle.loads(pickle.dumps(gs)).matches("services/loki/a") == ["services/**", "services/loki/"]  # noqa: S301 (our own objects)


SEGMENT = st.sampled_from(["services", "harbor", "fluxcd", "a", "x.yaml", "kustomization.yaml", "b.yml"])
PATTERN = st.sampled_from(["*.yaml", "harbor/", "/services/harbor", "services/**", "**/x.yaml", "x.yaml",
                           "services/*/x.yaml", "a", "[ab]", "fluxcd/", "/a/**/b.yml", "k*.yaml"])


@given(st.lists(PATTERN, min_size=1, max_size=6, unique=True), st.lists(SEGMENT, min_size=1, max_size=5))
def test_globset_matches_equal_linear_scan(patterns: list[str], segments: list[str]) -> None:
    path = "/".join(segments)
    gs = GlobSet.build((compile_pattern(p), p) for p in patterns)
    assert gs.matches(path) == [p for p in patterns if compile_pattern(p).match(path)]


def test_a_pickled_globset_compiles_again_only_on_use() -> None:
    """A kept inventory carries no compiled regex: each is compiled on first use after loading."""
    globs = compile_all(["**/NOTES.md", "services/*/values.yaml", "docs/"])
    assert globs.matches("services/harbor/values.yaml") == ["services/*/values.yaml"]
    assert globs._any is not None
    assert globs._guard is not None
    loaded = pickle.loads(pickle.dumps(globs))  # noqa: S301 -- our own bytes
    assert loaded._any is None
    assert loaded._guard is None
    assert all("regex" not in glob.__dict__ for glob, _ in loaded._items)
    assert loaded.matches("services/harbor/values.yaml") == ["services/*/values.yaml"]
    assert loaded.matches("a/NOTES.md") == ["**/NOTES.md"]
    assert loaded.matches("docs/x") == ["docs/"]
    assert loaded.matches("other.yaml") == []
