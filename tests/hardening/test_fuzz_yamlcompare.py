"""Fuzzing the YAML comparator beyond tests/harness/test_yamlcompare.py (which has reflexive, symmetric,
formatting-only and scalar-change properties for single documents): arbitrary bytes on either side,
multi-document files matched by identity, and Secret values that never reach a diff line."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.yamlcompare import compare_bytes, compare_yaml_bytes
from tests.hardening.support import examples

# Names start with "x": PyYAML (the test's emitter) writes ``0e0`` and ``n`` unquoted, which YAML 1.1 -- and
# so Kubernetes' go-yaml v2 and the comparator -- reads as a float and a boolean.
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=9).map(lambda s: "x" + s).filter(
    lambda s: s[-1].isalnum())
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-1000, 10**6), st.text(max_size=20))
SPECS = st.dictionaries(st.sampled_from(["interval", "path", "prune", "replicas", "url", "ref"]),
                        st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                     st.dictionaries(NAMES, inner, max_size=3)),
                                     max_leaves=6), max_size=4)
DOCUMENT = st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["v1", "kustomize.toolkit.fluxcd.io/v1", "source.toolkit.fluxcd.io/v1"]),
    "kind": st.sampled_from(["ConfigMap", "Kustomization", "GitRepository"]),
    "metadata": st.fixed_dictionaries({"name": NAMES}, optional={"namespace": st.sampled_from(["flux-system", "a"])}),
    "spec": SPECS,
})


def _identity(doc: dict[str, Any]) -> tuple[Any, ...]:
    return doc["apiVersion"], doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]


def _dump_all(docs: list[Any], seed: int) -> bytes:
    """A formatting-only rewrite of a document list: key order, flow/block, indentation, comments."""
    rng = random.Random(seed)
    parts = []
    for doc in docs:
        style = rng.randint(0, 2)
        text = yaml.safe_dump(doc, sort_keys=style == 0, default_flow_style=style == 1, indent=2 + style,
                              allow_unicode=True, width=10**6)
        if style == 2:
            text = "# comment\n" + text
        parts.append(text)
    return ("---\n".join(parts)).encode("utf-8")


@examples(2.0)
@given(st.binary(max_size=300), st.binary(max_size=300), st.sampled_from(["a.yaml", "b.txt", "c.yml"]))
def test_arbitrary_bytes_never_raise_and_diff_lines_are_single_lines(rendered: bytes, fixture: bytes,
                                                                      path: str) -> None:
    forward = compare_bytes(rendered, fixture, path)
    backward = compare_bytes(fixture, rendered, path)
    assert forward.equal == backward.equal
    assert forward.equal == (rendered == fixture) or path.endswith((".yaml", ".yml"))
    for line in forward.diff_lines():
        assert isinstance(line, str)
        assert "\n" not in line
        assert "\r" not in line
    if not forward.equal:
        assert forward.diff_lines() or forward.parse_failures, forward


@examples(2.0)
@given(st.lists(st.text(alphabet=st.sampled_from([*list("ab: -\n\t'\"[]{}&*!#|>"), "é"]), max_size=60),
                min_size=2, max_size=2))
def test_yaml_noise_is_a_parse_finding_or_a_comparison(texts: list[str]) -> None:
    result = compare_yaml_bytes(texts[0].encode(), texts[1].encode())
    assert result.equal or result.parse_failures or result.changes or result.byte_identical is False
    for failure in result.parse_failures:
        assert "\n" not in failure.message
        assert failure.side in ("rendered", "fixture")


@examples(1.5)
@given(st.lists(DOCUMENT, min_size=1, max_size=5, unique_by=_identity), st.randoms(use_true_random=False),
       st.integers(0, 1000))
def test_documents_in_any_order_and_formatting_compare_equal(docs: list[dict[str, Any]], rng: random.Random,
                                                              seed: int) -> None:
    shuffled = list(docs)
    rng.shuffle(shuffled)
    result = compare_yaml_bytes(_dump_all(shuffled, seed), _dump_all(docs, seed + 1))
    assert result.equal, result.diff_lines()
    if len(docs) > 1 and result.parsed:
        assert result.matched_by == "identity"


@examples(1.5)
@given(st.lists(DOCUMENT, min_size=2, max_size=4, unique_by=_identity), st.data())
def test_a_change_in_one_document_is_reported_against_that_document(docs: list[dict[str, Any]],
                                                                     data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(docs) - 1))
    changed = [dict(d) for d in docs]
    changed[index] = dict(changed[index], spec={**changed[index]["spec"], "fuzzChanged": True})
    result = compare_yaml_bytes(_dump_all(changed, 1), _dump_all(docs, 2))
    assert not result.equal
    assert [c.path for c in result.changes] == [("spec", "fuzzChanged")]
    assert result.changes[0].doc.startswith(f"[doc {index + 1} ")


SECRET_VALUES = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                        min_size=4, max_size=40).map(lambda s: "Zq~" + s)  # never a piece of the diff's own text


@examples(1.5)
@given(st.dictionaries(NAMES, SECRET_VALUES, min_size=1, max_size=4), SECRET_VALUES,
       st.sampled_from(["data", "stringData"]), st.data())
def test_secret_values_never_reach_a_diff_line(values: dict[str, str], new: str, section: str,
                                                data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(values)))
    old = values[key]
    assume(new != old)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "flux-system"},
              section: values}
    changed = {**secret, section: {**values, key: new}}
    extra = {**secret, section: {**values, "addedKey": new}}
    for rendered in (changed, extra):
        result = compare_yaml_bytes(_dump_all([rendered], 3), _dump_all([secret], 4))
        assert not result.equal
        lines = "\n".join(result.diff_lines())
        assert "<redacted sha256:" in lines
        for value in [*values.values(), new]:
            assert value not in lines, (value, lines)


@pytest.mark.parametrize(("spelling", "value"), [
    *((s, True) for s in ("yes", "Yes", "YES", "on", "On", "ON", "y", "Y")),
    *((s, False) for s in ("no", "No", "NO", "off", "Off", "OFF", "n", "N")),
])
def test_yaml_11_boolean_spellings(spelling: str, value: bool) -> None:
    """YAML 1.1 boolean spellings are strings to kustomize (go-yaml v3; issue 18 item 8 changed this from
    go-yaml v2's reading): plain or quoted, they are one string, and never the boolean."""
    plain = f"enabled: {spelling}\n".encode()
    assert not compare_yaml_bytes(plain, f"enabled: {str(value).lower()}\n".encode()).equal
    assert compare_yaml_bytes(f"enabled: '{spelling}'\n".encode(), plain).equal
