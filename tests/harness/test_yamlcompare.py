"""Semantic YAML comparison: byte short-circuit, YAML 1.1, document matching, diff lines, properties."""

from __future__ import annotations

import copy
import functools
import math
import random
import string
import textwrap
import warnings
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness import yamlcompare
from harness.yamlcompare import (
    Change,
    compare_bytes,
    compare_documents,
    compare_text_bytes,
    compare_yaml_bytes,
    diff_values,
    doc_id,
    format_change,
    format_path,
    is_yaml_path,
)
from harness.yamlio import load_documents


def y(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode()


def lines(rendered: str, fixture: str) -> tuple[str, ...]:
    result = compare_yaml_bytes(y(rendered), y(fixture))
    return result.diff_lines()


def test_is_yaml_path() -> None:
    assert is_yaml_path("a/b.yaml")
    assert is_yaml_path("x.YML")
    assert not is_yaml_path("realm.json")
    assert not is_yaml_path("known_hosts")
    assert not is_yaml_path("yaml")


def test_equal_bytes_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise AssertionError("parsed equal bytes")

    monkeypatch.setattr(yamlcompare, "load_as_kustomize", boom)
    data = b"a: [1,\n"  # does not even parse
    result = compare_yaml_bytes(data, data)
    assert result.equal
    assert result.byte_identical
    assert not result.parsed
    assert compare_bytes(data, data, "x.yaml").byte_identical


def test_formatting_is_ignored() -> None:
    rendered = y("""
        # a comment
        kind: Kustomization
        metadata: {name: "harbor", namespace: 'flux-system'}
        spec:
            prune: true
            interval: 5m
            dependsOn: [{name: a}, {name: b}]
    """)
    fixture = y("""
        ---
        kind: Kustomization
        spec:
          interval: "5m"
          dependsOn:
            - name: a
            - name: 'b'
          prune: True   # another spelling of true
        metadata:
          namespace: flux-system
          name: harbor
    """)
    result = compare_yaml_bytes(rendered, fixture)
    assert result.equal
    assert result.parsed
    assert not result.byte_identical


def test_scalars_as_kustomize_reads_them() -> None:
    # Issue 18 item 8 changed this from YAML 1.1 (go-yaml v2) to kustomize's reading (go-yaml v3 into JSON):
    # a plain `on` is the string "on", octals of both spellings are numbers, sexagesimal is a string.
    assert compare_yaml_bytes(b'mode: "on"\n', b"mode: on\n").equal
    assert lines("mode: true\n", "mode: on\n") == ("mode: 'on' → true",)
    assert compare_yaml_bytes(b"perm: 0755\n", b"perm: 493\n").equal
    assert compare_yaml_bytes(b"perm: 0o755\n", b"perm: 0755\n").equal
    assert lines("t: 60\n", "t: 1:00\n") == ("t: '1:00' → 60",)


def test_types_are_kept() -> None:
    assert lines("replicas: '3'\n", "replicas: 3\n") == ("replicas: 3 → '3'",)
    assert lines("flag: 1\n", "flag: true\n") == ("flag: true → 1",)
    assert lines("v: 1.5\n", "v: 1\n") == ("v: 1 → 1.5",)
    assert compare_yaml_bytes(b"v: 1.0\n", b"v: 1\n").equal  # one JSON number
    assert lines("v: null\n", "v: ''\n") == ("v: '' → null",)
    assert lines("v: {a: 1}\n", "v: [1]\n") == ("v: [1] → {a: 1}",)


def test_nan_equals_nan() -> None:
    assert compare_yaml_bytes(b"v: .nan\n", b"v: .NaN\n").equal


def test_list_order_is_kept_and_insertions_align() -> None:
    assert lines("l: [b, a]\n", "l: [a, b]\n") == ("l[0]: 'a' → 'b'", "l[1]: 'b' → 'a'")
    assert lines("l: [a, x, b, c]\n", "l: [a, b, c]\n") == ("l[1]: added 'x'",)
    assert lines("l: [a, c]\n", "l: [a, b, c]\n") == ("l[1]: removed 'b'",)


def test_diff_line_formats() -> None:
    rendered = """
        spec:
          ref: {tag: v1.3.0}
          values: {replicas: 3}
        metadata:
          labels: {}
          annotations: {"kustomize.toolkit.fluxcd.io/reconcile": disabled}
    """
    fixture = """
        spec:
          ref: {tag: v1.2.0}
        metadata:
          labels: {team: platform}
          annotations: {"kustomize.toolkit.fluxcd.io/reconcile": enabled}
    """
    assert lines(rendered, fixture) == (
        "spec.ref.tag: 'v1.2.0' → 'v1.3.0'",
        "spec.values: added {replicas: 3}",
        "metadata.labels.team: removed 'platform'",
        "metadata.annotations[\"kustomize.toolkit.fluxcd.io/reconcile\"]: 'enabled' → 'disabled'",
    )


def test_format_path() -> None:
    assert format_path(()) == "(document)"
    assert format_path(("spec", "dependsOn", 0, "name")) == "spec.dependsOn[0].name"
    assert format_path(("data", "identity.pub")) == 'data["identity.pub"]'
    assert format_path(("a b", 'q"')) == '["a b"]["q\\""]'


def test_long_values_are_truncated() -> None:
    change = Change("added", ("v",), new={f"k{i}": "x" * 30 for i in range(10)})
    assert len(format_change(change)) < 140
    assert format_change(change).endswith("...")


def test_non_string_keys() -> None:
    # `on` is a string key to kustomize now (issue 18 item 8); a boolean key still differs from a string key
    assert lines("on: 1\n", "'on': 1\n") == ()
    assert lines("true: 1\n", "'true': 1\n") == ("true: removed 1", "true: added 1")


FLUX = """
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: {name}, namespace: flux-system}}
    spec: {{interval: {interval}}}
"""


def flux(name: str, interval: str = "5m") -> str:
    return textwrap.dedent(FLUX.format(name=name, interval=interval)).strip("\n") + "\n"


def test_documents_match_by_identity_regardless_of_order() -> None:
    rendered = (flux("b") + "---\n" + flux("a")).encode()
    fixture = (flux("a") + "---\n" + flux("b")).encode()
    result = compare_yaml_bytes(rendered, fixture)
    assert result.equal
    assert result.matched_by == "identity"
    assert result.reordered


def test_identity_matching_reports_docs_by_label() -> None:
    rendered = (flux("b", "10m") + "---\n" + flux("c")).encode()
    fixture = (flux("a") + "---\n" + flux("b")).encode()
    assert compare_yaml_bytes(rendered, fixture).diff_lines() == (
        "[doc 1 Kustomization flux-system/a] missing",
        "[doc 2 Kustomization flux-system/b] spec.interval: '5m' → '10m'",
        "[doc 2 Kustomization flux-system/c] unexpected",
    )


def test_namespace_is_part_of_identity() -> None:
    assert doc_id({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}) is not None
    assert doc_id({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 1}}) is None
    assert doc_id(["list"]) is None
    other_ns = flux("a").replace("flux-system", "other").encode()
    result = compare_yaml_bytes(other_ns, flux("a").encode())
    assert result.matched_by == "identity"
    assert result.diff_lines() == ("[doc 1 Kustomization flux-system/a] missing",
                                   "[doc 1 Kustomization other/a] unexpected")


def test_positional_matching_when_a_document_lacks_identity() -> None:
    anonymous = "resources: [a.yaml]\n"
    rendered = (flux("b") + "---\n" + flux("a") + "---\n" + anonymous).encode()
    fixture = (flux("a") + "---\n" + flux("b") + "---\n" + anonymous).encode()
    result = compare_yaml_bytes(rendered, fixture)
    assert not result.equal
    assert result.matched_by == "position"
    assert "[doc 1 Kustomization flux-system/a] metadata.name: 'a' → 'b'" in result.diff_lines()


def test_positional_matching_when_identities_repeat() -> None:
    rendered = (flux("a") + "---\n" + flux("a", "1m")).encode()
    fixture = (flux("a", "1m") + "---\n" + flux("a")).encode()
    result = compare_yaml_bytes(rendered, fixture)
    assert result.matched_by == "position"
    assert not result.equal


def test_positional_extra_and_missing_documents() -> None:
    assert compare_yaml_bytes(b"a: 1\n---\nb: 2\n", b"a: 1\n").diff_lines() == ("[doc 2] unexpected",)
    assert compare_yaml_bytes(b"a: 1\n", b"a: 1\n---\nkind: X\n").diff_lines() == ("[doc 2 X] missing",)
    assert compare_yaml_bytes(b"", b"a: 1\n").diff_lines() == ("[doc 1] missing",)
    assert compare_yaml_bytes(b"---\n# only a comment\n", b"").equal


@pytest.mark.parametrize(("rendered", "fixture", "sides"), [
    (b"a: [1,\n", b"a: 1\n", ["rendered"]),
    (b"a: 1\n", b"a:\n\t- b\n", ["fixture"]),
    (b"a: 1\na: 2\n", b"a: 1\n", ["rendered"]),
    (b"a: \xff\n", b"a: 1\n", ["rendered"]),
    (b"{{ broken\n", b"a: *missing\n", ["rendered", "fixture"]),
])
def test_parse_failures_are_results_never_byte_fallback(rendered: bytes, fixture: bytes, sides: list[str]) -> None:
    result = compare_yaml_bytes(rendered, fixture, rendered_name="rendered:x.yaml", fixture_name="fixture:x.yaml")
    assert not result.equal
    assert not result.parsed
    assert [p.side for p in result.parse_failures] == sides
    for failure, line in zip(result.parse_failures, result.diff_lines(), strict=True):
        assert line.startswith(f"{failure.side}:x.yaml")
        assert failure.code.startswith(("YAML-", "FILE-"))


@pytest.mark.parametrize(("data", "message"), [
    (b"a: !!int abc\n", "tagged scalar cannot be constructed"),
    (b"a: !!bool maybe\n", "tagged scalar cannot be constructed"),
    (b"a: &x [*x]\n", "recursive alias"),
])
def test_loader_leftovers_are_parse_failures(data: bytes, message: str) -> None:
    result = compare_yaml_bytes(data, b"a: 1\n")
    assert [p.side for p in result.parse_failures] == ["rendered"]
    assert message in result.diff_lines()[0]


def test_parse_messages_never_quote_values() -> None:
    result = compare_yaml_bytes(b"a: !!timestamp PLACEHOLDER-s3cret\n", b"a: 1\n")
    assert "s3cret" not in result.diff_lines()[0]
    assert "…" in result.diff_lines()[0]  # the loader drops quoted scalars from parser messages entirely


def test_plain_aliases_compare_as_their_values() -> None:
    assert lines("a: &x {b: 1}\nc: *x\n", "a: {b: 1}\nc: {b: 1}\n") == ()


def test_normalizer_runs_between_parse_and_compare() -> None:
    def drop_status(rendered: list[Any], fixture: list[Any]) -> None:
        for doc in rendered + fixture:
            doc.pop("status", None)

    assert compare_yaml_bytes(b"a: 1\nstatus: x\n", b"a: 1\nstatus: y\n", normalize=drop_status).equal


def test_text_files_compare_bytes_with_first_line_summary() -> None:
    assert compare_bytes(b'{"a": 1}', b'{"a":1}', "realm.json").summary == "line 1: '{\"a\":1}' → '{\"a\": 1}'"
    assert compare_text_bytes(b"a\nb\n", b"a\nb\nc\n").summary == "line 3: removed 'c' (rendered file ends at line 2)"
    assert compare_text_bytes(b"a\nb\nc\n", b"a\n").summary == "line 2: added 'b' (fixture ends at line 1)"
    assert compare_text_bytes(b"a\r\nb\n", b"a\nb\n").summary == "line 1: line endings differ (LF → CRLF)"
    assert compare_text_bytes(b"\x00\x01", b"\x00\x02").summary.startswith("binary content differs: 2 bytes sha256:")
    assert compare_bytes(b"x: 1", b"x: 1 ", "notes.txt").summary  # not YAML: whitespace matters


# ------------------------------------------------------------------------------------------ properties

@functools.cache
def _roundtrips(value: Any) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return bool(load_documents(yaml.safe_dump({"k": value}), "x") == [{"k": value}]) and bool(
                load_documents(yaml.safe_dump({value: 1}), "x") == [{value: 1}])
        except Exception:
            return False


TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_./:", max_size=12).filter(_roundtrips)
KEYS = st.text(alphabet=string.ascii_lowercase + "-_.", min_size=1, max_size=8).filter(_roundtrips)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9),
                    st.floats(allow_nan=False, allow_infinity=False, width=32), TEXT)
VALUES = st.recursive(SCALARS, lambda children: st.one_of(st.lists(children, max_size=4),
                                                          st.dictionaries(KEYS, children, max_size=4)),
                      max_leaves=20)
DOCS = st.dictionaries(KEYS, VALUES, min_size=1, max_size=6)


def _shuffle(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffle(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffle(v, rng) for v in value]
    return value


def _dump(doc: Any, style: int, seed: int) -> bytes:
    """A formatting-only rewrite of ``doc``: key order, flow/block, indentation, quoting, comments."""
    rng = random.Random(seed)
    options: dict[str, Any] = {"width": 10**6, "allow_unicode": True}
    if style == 0:
        text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, **options)
    elif style == 1:
        text = yaml.safe_dump(_shuffle(doc, rng), sort_keys=False, default_flow_style=True, **options)
    elif style == 2:
        text = yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, indent=4, explicit_start=True,
                              default_style='"', **options)
    else:
        text = yaml.safe_dump(_shuffle(doc, rng), sort_keys=False, default_flow_style=False, indent=3, **options)
        out = []
        for line in text.splitlines():
            out.append(line)
            if rng.random() < 0.3:
                out.append(" " * rng.randint(0, 6) + "# a comment: with {flow} [chars]")
        text = "# leading comment\n" + "\n".join(out) + "\n"
    return str(text).encode()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)))


QUIET = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.filter_too_much])


@QUIET
@given(DOCS, st.integers(0, 3))
def test_property_reflexive(doc: dict[str, Any], style: int) -> None:
    data = _dump(doc, style, 0)
    result = compare_yaml_bytes(data, data)
    assert result.equal
    assert result.byte_identical
    parsed = load_documents(data.decode(), "x")
    assert compare_documents(parsed, copy.deepcopy(parsed)).equal


@QUIET
@given(DOCS, DOCS, st.integers(0, 3), st.integers(0, 3))
def test_property_symmetric(a: dict[str, Any], b: dict[str, Any], style_a: int, style_b: int) -> None:
    da, db = _dump(a, style_a, 1), _dump(b, style_b, 2)
    forward, backward = compare_yaml_bytes(da, db), compare_yaml_bytes(db, da)
    assert forward.equal == backward.equal
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert sorted((flip[c.op], c.path) for c in forward.changes) == sorted((c.op, c.path) for c in backward.changes)


@QUIET
@given(DOCS, st.integers(0, 3), st.integers(0, 3), st.integers(0, 1000))
def test_property_formatting_only_rewrite_is_equal(doc: dict[str, Any], style_a: int, style_b: int,
                                                   seed: int) -> None:
    result = compare_yaml_bytes(_dump(doc, style_a, seed), _dump(doc, style_b, seed + 1))
    assert result.equal, result.diff_lines()


@QUIET
@given(DOCS, SCALARS, st.integers(0, 3), st.data())
def test_property_any_scalar_change_is_unequal(doc: dict[str, Any], new: Any, style: int, data: st.DataObject
                                               ) -> None:
    path = data.draw(st.sampled_from(_leaves(doc)))
    changed = copy.deepcopy(doc)
    node = changed
    for part in path[:-1]:
        node = node[part]
    old = node[path[-1]]
    assume(not _same(old, new))
    node[path[-1]] = new
    result = compare_yaml_bytes(_dump(changed, style, 3), _dump(doc, style, 3))
    assert not result.equal
    assert [c.path for c in result.changes] == [tuple(str(p) if not isinstance(p, int) else p for p in path)]
    assert list(diff_values(old, new)) != []


def test_rules_edit_a_private_copy_of_the_shared_rendered_documents() -> None:
    rendered = b"metadata:\n  annotations: {stamp: '2026'}\nspec: 1\n"
    fixture = b"metadata:\n  annotations: {stamp: '2025'}\nspec: 1\n"

    def drop_stamp(rendered_docs: list[Any], fixture_docs: list[Any]) -> None:
        for docs in (rendered_docs, fixture_docs):
            del docs[0]["metadata"]["annotations"]["stamp"]

    for _ in range(2):  # the second time, the rendered side comes from the shared memo
        assert compare_yaml_bytes(rendered, fixture, normalize=drop_stamp).equal
    assert not compare_yaml_bytes(rendered, fixture).equal  # the memo still has the stamp


@pytest.mark.parametrize("depth", [150, 5000])
def test_data_nested_too_deep_is_a_parse_finding_not_a_crash(depth: int) -> None:
    """Issue 18 item 1: thousands of levels on either side end in a located parse failure (PARITY-PARSE)."""
    deep = ("a: " + "[" * depth + "]" * depth + "\n").encode()
    flat = b"a: []\n"
    for rendered, fixture in ((deep, flat), (flat, deep)):
        result = compare_yaml_bytes(rendered, fixture)
        assert not result.equal
        [failure] = result.parse_failures
        assert failure.code == "YAML-TOO-DEEP"
        assert failure.line == 1
    mapping = ("".join(f"{' ' * i}k:\n" for i in range(depth)) + " " * depth + "v: 1\n").encode()
    assert compare_yaml_bytes(mapping, flat).parse_failures[0].code == "YAML-TOO-DEEP"


def test_a_normalizer_never_edits_the_documents_other_pairs_share() -> None:
    """Parsed sides are memoized by bytes; a normalizer that edits its documents must not change what the
    next comparison of the same bytes sees."""
    rendered = b"kind: ConfigMap\ndata:\n  a: '1'\n  stamp: now\n"
    fixture = b"kind: ConfigMap\ndata: {a: '1', stamp: then}\n"

    def drop_stamp(rendered_docs: list[Any], fixture_docs: list[Any]) -> None:
        for doc in (*rendered_docs, *fixture_docs):
            doc["data"].pop("stamp")

    assert compare_yaml_bytes(rendered, fixture, normalize=drop_stamp).equal
    again = compare_yaml_bytes(rendered, fixture)
    assert not again.equal
    assert [c.pointer for c in again.changes] == ["/data/stamp"]
    assert compare_yaml_bytes(rendered, fixture, normalize=drop_stamp).equal
