"""RFC 6901 pointers: parsing, escaping, resolving and removing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.pointers import (
    PointerError,
    format_pointer,
    is_index,
    parse_pointer,
    remove_all,
    remove_at,
    resolve,
)

DOC: dict[str, Any] = {
    "metadata": {
        "name": "harbor-base",
        "annotations": {"kustomize.toolkit.fluxcd.io/reconcile": "enabled", "a~b": 1, "": "empty"},
    },
    "spec": {"dependsOn": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "prune": True},
}


def doc() -> dict[str, Any]:
    return copy.deepcopy(DOC)


@pytest.mark.parametrize(("text", "tokens"), [
    ("/metadata/name", ("metadata", "name")),
    ("/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile",
     ("metadata", "annotations", "kustomize.toolkit.fluxcd.io/reconcile")),
    ("/metadata/annotations/a~0b", ("metadata", "annotations", "a~b")),
    ("/x/~01", ("x", "~1")),  # ~01 is '~' followed by '1', not '/'
    ("/spec/dependsOn/0", ("spec", "dependsOn", "0")),
    ("/metadata/annotations/", ("metadata", "annotations", "")),
])
def test_parse(text: str, tokens: tuple[str, ...]) -> None:
    pointer = parse_pointer(text)
    assert pointer.tokens == tokens
    assert format_pointer(tokens) == text
    assert str(pointer) == text


@pytest.mark.parametrize(("text", "reason"), [
    ("", "whole document"),
    ("metadata/name", "start with '/'"),
    ("/a~2b", "'~' must be followed"),
    ("/a~", "'~' must be followed"),
    ("/spec/dependsOn/-", "after the last list item"),
])
def test_parse_errors(text: str, reason: str) -> None:
    with pytest.raises(PointerError, match=reason):
        parse_pointer(text)


def test_is_index() -> None:
    assert is_index("0")
    assert is_index("12")
    assert not is_index("01")
    assert not is_index("-1")
    assert not is_index("a")
    assert not is_index("")


def test_resolve() -> None:
    data = doc()
    assert resolve(data, parse_pointer("/spec/dependsOn/1/name")) == (True, "b")
    assert resolve(data, parse_pointer("/metadata/annotations/a~0b")) == (True, 1)
    assert resolve(data, parse_pointer("/metadata/annotations/")) == (True, "empty")
    assert resolve(data, parse_pointer("/spec/dependsOn/3")) == (False, None)
    assert resolve(data, parse_pointer("/spec/dependsOn/01")) == (False, None)
    assert resolve(data, parse_pointer("/spec/dependsOn/name")) == (False, None)
    assert resolve(data, parse_pointer("/spec/prune/x")) == (False, None)


def test_remove_from_map_with_escaped_key() -> None:
    data = doc()
    assert remove_at(data, parse_pointer("/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile"))
    assert data["metadata"]["annotations"] == {"a~b": 1, "": "empty"}
    assert not remove_at(data, parse_pointer("/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile"))


def test_remove_from_list() -> None:
    data = doc()
    assert remove_at(data, parse_pointer("/spec/dependsOn/0"))
    assert data["spec"]["dependsOn"] == [{"name": "b"}, {"name": "c"}]
    assert not remove_at(data, parse_pointer("/spec/dependsOn/5"))
    assert not remove_at(data, parse_pointer("/spec/dependsOn/first"))


def test_remove_missing_path_is_not_an_error() -> None:
    data = doc()
    assert not remove_at(data, parse_pointer("/status/conditions"))
    assert data == DOC


def test_non_string_keys_are_not_reachable() -> None:
    data: dict[Any, Any] = {True: "on-key", 2: "two"}
    assert not remove_at(data, parse_pointer("/2"))
    assert not remove_at(data, parse_pointer("/true"))
    assert data == {True: "on-key", 2: "two"}


def test_remove_all_reads_every_pointer_against_the_original() -> None:
    data = doc()
    pointers = [parse_pointer(p) for p in ("/spec/dependsOn/0", "/spec/dependsOn/2", "/metadata/name",
                                           "/spec/dependsOn/9", "/spec/dependsOn/0")]
    removed = remove_all(data, pointers)
    assert data["spec"]["dependsOn"] == [{"name": "b"}]
    assert "name" not in data["metadata"]
    assert removed == [(0, {"name": "a"}), (1, {"name": "c"}), (2, "harbor-base"), (4, {"name": "a"})]


def test_remove_all_parent_and_child() -> None:
    data = doc()
    removed = remove_all(data, [parse_pointer("/spec"), parse_pointer("/spec/dependsOn/1")])
    assert "spec" not in data
    assert [p for p, _ in removed] == [0, 1]
