"""Issue 18 class 1 in-process: whatever the shape (flow or block, mappings or sequences, JSON style, aliases)
and depth, every loader returns the data or refuses it with one located ``YAML-TOO-DEEP`` line exactly when
it nests deeper than :data:`harness.nesting.MAX_DEPTH` -- never a RecursionError -- and the walks over
loaded data (key paths, the depth check itself, shard reports) are iterative."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.json_input import load_json
from harness.nesting import MAX_DEPTH, too_deep
from harness.yamlio import iter_paths, key_lines, load_documents, load_located, load_roundtrip
from tests.hardening.strategies import assert_well_formed, deep_documents, deep_yaml, nested_data
from tests.hardening.support import examples

LOADERS = {"documents": load_documents, "located": load_located, "roundtrip": load_roundtrip}


@examples(2.0)
@given(deep_documents(), st.sampled_from(sorted(LOADERS)))
def test_loaders_refuse_exactly_what_is_too_deep(document: tuple[str, int], loader: str) -> None:
    text, depth = document
    if depth > MAX_DEPTH:
        with pytest.raises(InputError) as caught:
            LOADERS[loader](text, "deep.yaml")
        assert caught.value.code == "YAML-TOO-DEEP", caught.value
        assert caught.value.location is not None
        assert caught.value.location.line >= 1
        assert_well_formed(caught.value)
        return
    data = LOADERS[loader](text, "deep.yaml")
    loaded = data[0] if loader == "documents" else data
    assert too_deep(loaded) is None
    assert sum(1 for _ in iter_paths(loaded)) == 1
    assert len(key_lines(loaded)) == depth  # one key path per container below the top, and the leaf


@examples(1.0)
@given(st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3), st.integers(2, 40))
def test_aliases_count_with_the_depth_they_point_to(anchor_depth: int, extra: int) -> None:
    """An alias used ``extra`` levels deep makes its anchor's content that much deeper."""
    base = anchor_depth - extra
    if base < 1:
        return
    text = "a: &x " + "[" * base + "1" + "]" * base + "\nb: " + "[" * (extra - 1) + "*x" + "]" * (extra - 1) + "\n"
    deepest = 1 + max(base, extra - 1 + base)
    for loader in LOADERS.values():
        if deepest > MAX_DEPTH:
            with pytest.raises(InputError) as caught:
                loader(text, "alias.yaml")
            assert caught.value.code == "YAML-TOO-DEEP"
        else:
            loader(text, "alias.yaml")


@pytest.mark.parametrize("depth", [10, MAX_DEPTH, MAX_DEPTH + 1, 5_000])
def test_walks_over_data_are_iterative(depth: int) -> None:
    data = nested_data(depth)
    assert (too_deep(data) is None) == (depth <= MAX_DEPTH)
    [(path, leaf)] = list(iter_paths(data))
    assert leaf == "leaf"
    assert len(path) == depth


@examples(1.0)
@given(st.integers(1, 3000), st.sampled_from(["[", '{"k": ']))
def test_shard_report_json_of_any_depth(tmp_path_factory: pytest.TempPathFactory, depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    path = tmp_path_factory.mktemp("deep") / "report.json"
    path.write_text('{"notes": ' + opener * depth + "1" + closer * depth + "}", encoding="utf-8")
    if depth + 1 > MAX_DEPTH:
        with pytest.raises(InputError) as caught:
            load_json(path, code="REPORT-INVALID", hint="pass a report")
        assert caught.value.code == "REPORT-INVALID"
        assert caught.value.location is not None
        assert caught.value.location.line == 1
        assert caught.value.location.column == len('{"notes": ') + (MAX_DEPTH - 1) * len(opener) + 1
        return
    assert json.dumps(load_json(path, code="REPORT-INVALID", hint="pass a report"))


def test_every_shape_at_the_limit_loads(tmp_path: Path) -> None:
    for shape in ("flow-seq", "flow-map", "block-map", "block-seq", "mixed-flow", "json"):
        text = deep_yaml(shape, MAX_DEPTH - 1)
        for loader in LOADERS.values():
            loader(text, f"{shape}.yaml")
        for loader in LOADERS.values():
            with pytest.raises(InputError):
                loader(deep_yaml(shape, MAX_DEPTH), f"{shape}.yaml")
