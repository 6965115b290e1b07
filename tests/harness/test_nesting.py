"""The one depth limit: iterative checks over loaded data and JSON text, and every YAML loader refusing deeper
input with one located line (never a RecursionError)."""

from __future__ import annotations

import pytest

from harness.errors import InputError
from harness.nesting import MAX_DEPTH, json_too_deep_at, too_deep
from harness.yamlio import check_depth, load_documents, load_located, load_roundtrip


def nested_list(depth: int) -> object:
    data: object = "leaf"
    for _ in range(depth):
        data = [data]
    return data


def test_too_deep_finds_the_first_container_past_the_limit() -> None:
    assert too_deep(nested_list(MAX_DEPTH)) is None
    assert too_deep(nested_list(MAX_DEPTH + 1)) == (0,) * MAX_DEPTH
    assert too_deep(nested_list(100_000)) == (0,) * MAX_DEPTH  # iterative: no RecursionError


def test_too_deep_walks_a_shared_node_again_when_met_deeper() -> None:
    shared = nested_list(60)
    assert too_deep({"a": shared, "b": nested_list(0)}) is None
    deep_holder: object = shared
    for _ in range(50):
        deep_holder = {"k": deep_holder}
    assert too_deep([shared, deep_holder]) is not None


def test_json_text_scan_locates_the_bracket_and_skips_strings() -> None:
    text = '{"a": "[[[[\\"[[[",\n "b": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}"
    assert json_too_deep_at(text) == (2, 7 + MAX_DEPTH - 1)
    assert json_too_deep_at('{"a": [[1]]}') is None


def flow(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def block(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"


@pytest.mark.parametrize("loader", [load_documents, load_located, load_roundtrip])
@pytest.mark.parametrize(("text", "line"), [
    (flow(5000), 1),
    (block(3000), MAX_DEPTH + 1),
    ("a: &x " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 60 + "*x" + "]" * 60 + "\n", 2),
    ("- " * 2000 + "x\n", 1),
])
def test_every_loader_refuses_deep_yaml_with_one_located_line(loader: object, text: str, line: int) -> None:
    with pytest.raises(InputError) as caught:
        loader(text, "deep.yaml")  # type: ignore[operator]
    error = caught.value
    assert error.code == "YAML-TOO-DEEP"
    assert error.location is not None
    assert error.location.line == line
    assert str(MAX_DEPTH) in error.message


@pytest.mark.parametrize("loader", [load_documents, load_located, load_roundtrip])
def test_every_loader_reads_data_at_the_limit(loader: object) -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH - 2)) + "  " * (MAX_DEPTH - 2) + "k: [v]\n"
    data = loader(text, "ok.yaml")  # type: ignore[operator]
    assert data


def test_check_depth_leaves_syntax_errors_to_the_loader() -> None:
    check_depth("a: [\n", "bad.yaml")  # no error here: the loader reports the syntax error, located
    with pytest.raises(InputError) as caught:
        load_documents("a: [\n", "bad.yaml")
    assert caught.value.code == "YAML-INVALID"
