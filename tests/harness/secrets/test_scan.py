"""harness.secrets.scan: the file-name suffix that decides whether a file is read as YAML is pathlib's."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.secrets.scan import _suffix


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from("ab./yJ"), max_size=12))
def test_the_suffix_is_pathlibs(name: str) -> None:
    assert _suffix(name) == Path(name).suffix


def test_the_suffix_of_usual_names() -> None:
    for name, suffix in (("a/b.yaml", ".yaml"), ("x/..yaml", ".yaml"), ("x/.yaml", ""), ("a.b/c", ""),
                         ("a/b.", ""), ("x.yaml/.", ".yaml"), ("A.YML", ".YML")):
        assert _suffix(name) == suffix == Path(name).suffix, name
