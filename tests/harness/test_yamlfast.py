"""The event-driven fast path must be indistinguishable from ruamel's full loaders: same data (types
included), same line information, and on anything it does not handle the same result or error as the
full loader, because it hands those documents over."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from harness.errors import InputError
from harness.yamlfast import LocatedMap, LocatedSeq, load_plain, reads_as_string
from harness.yamlio import (
    _scalars,
    key_lines,
    line_of,
    load_documents,
    load_documents_full,
    load_located,
    load_roundtrip,
)

REPO = Path(__file__).resolve().parents[2]

# Plain scalars whose YAML 1.1 / 1.2 meaning differs from their text, and texts that need quoting.
TRICKY = ["yes", "No", "on", "OFF", "y", "~", "null", "", "0755", "0o17", "0x1F", "0b101", "1_000", "1:30", "190:20:30",
          "1e3", "1.5e-3", ".inf", "-.Inf", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "-", "true",
          "False", "12", "+12", "-0", "3.", "a b", "<<", "x: y", "- z", "#c", "'q'", '"d"', "@x", "`y", "%z",
          "!t", "&a", "*a", "[1]", "{k: v}", "|", ">", "? k", "long " * 20]
SCALAR_TEXT = st.one_of(st.sampled_from(TRICKY), st.text(st.characters(exclude_categories=["Cs"]), max_size=12))
STYLE = st.sampled_from(["plain", "single", "double", "literal"])


def _scalar(text: str, style: str, indent: int) -> str:
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if style == "literal" and text and "\n" not in text and text.strip() == text:
        return "|-\n" + " " * (indent + 2) + text
    return text  # plain: whatever it means, both loaders must agree (or both refuse)


@st.composite
def documents(draw: st.DrawFn, depth: int = 0, indent: int = 0) -> str:
    """A YAML block mapping or sequence (or a scalar at the top), in varied styles and with decorations
    that force the full loader (anchors, aliases, tags, merge keys, duplicates, flow style)."""
    pad = " " * indent
    kind = draw(st.sampled_from(["map", "seq", "flow"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return _scalar(draw(SCALAR_TEXT), draw(STYLE), indent)
    if kind == "flow":
        items = draw(st.lists(st.sampled_from(["a", "1", "yes", "'q'", "~", "{k: v}", "[x]"]), max_size=4))
        return "{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(items)) + "}" if draw(st.booleans()) \
            else "[" + ", ".join(items) + "]"
    lines = []
    for index in range(draw(st.integers(1, 4))):
        child = draw(documents(depth + 1, indent + 2))
        decoration = draw(st.sampled_from(["", "", "", "&a ", "!!str ", "!custom ", "*a"]))
        if decoration == "*a":
            child, decoration = "*a", ""
        nested = "\n" in child or (child and child[0] not in "{[" and ": " in child and decoration == "")
        if kind == "map":
            key_text = draw(st.one_of(st.sampled_from(["name", "yes", "1", "<<", "a b", "~", "k"]), SCALAR_TEXT))
            key = _scalar(key_text or f"k{index}", draw(st.sampled_from(["plain", "single", "double"])), indent)
            if nested and not child.startswith(("{", "[", "|")):
                lines.append(f"{pad}{key}: {decoration}\n{child}" if decoration else f"{pad}{key}:\n{child}")
            else:
                lines.append(f"{pad}{key}: {decoration}{child.lstrip()}")
        else:
            if nested and not child.startswith(("{", "[", "|")):
                lines.append(f"{pad}- {decoration}\n{child}" if decoration else f"{pad}-\n{child}")
            else:
                lines.append(f"{pad}- {decoration}{child.lstrip()}")
    return "\n".join(lines)


@st.composite
def streams(draw: st.DrawFn) -> str:
    """One or more documents, sometimes with directives, comments, explicit ends and empty documents."""
    parts = [draw(documents()) for _ in range(draw(st.integers(1, 3)))]
    text = "\n---\n".join(parts)
    prefix = draw(st.sampled_from(["", "", "# comment\n", "---\n", "%YAML 1.1\n---\n", "%YAML 1.2\n---\n"]))
    suffix = draw(st.sampled_from(["\n", "\n...\n", "\n---\n", "\n# trailing\n", ""]))
    return prefix + text + suffix


def typed(value: Any) -> Any:
    """A structure equal only for equal data of equal types (``True`` vs ``1``, ``1.0`` vs ``1``); strings
    compare as ``str`` (round-trip block scalars are str subclasses)."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    if isinstance(value, str):
        return ("str", str(value))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def all_lines(data: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """``line_of`` for every key path of located data."""
    out: dict[tuple[Any, ...], int] = {}
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in children:
        out[(*path, key)] = line_of(data, (key,))
        out.update(all_lines(value, (*path, key)))
    return out


def positions(data: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], tuple[int, int]]:
    """Where every container starts (``.lc.line``, ``.lc.col``), by key path."""
    out: dict[tuple[Any, ...], tuple[int, int]] = {}
    if isinstance(data, dict | list):
        out[path] = (data.lc.line, data.lc.col)  # type: ignore[union-attr]
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in children:
        out.update(positions(value, (*path, key)))
    return out


def outcome(load: Any, text: str, shape: Any = typed) -> tuple[str, Any]:
    try:
        return "ok", shape(load(text, "doc.yaml"))
    except InputError as error:
        return "error", error.one_line()


def exact_types(value: Any) -> Any:
    """Like :func:`typed`, but strings keep their own type (``LiteralScalarString`` is not ``str``)."""
    if isinstance(value, dict):
        return ("map", [(exact_types(k), exact_types(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [exact_types(v) for v in value])
    return (type(value).__name__, typed(value))


def load_located_exact(text: str, name: str) -> Any:
    return load_located(text, name, block_scalars_as_str=False)


@given(streams())
def test_safe_load_equals_the_full_loader(text: str) -> None:
    assert outcome(load_documents, text) == outcome(load_documents_full, text)


@given(streams())
def test_located_load_equals_the_roundtrip_loader_values_and_lines(text: str) -> None:
    fast, slow = outcome(load_located, text), outcome(load_roundtrip, text)
    assert fast == slow
    if fast[0] == "ok":
        located, reference = load_located(text, "d"), load_roundtrip(text, "d")
        assert all_lines(located) == all_lines(reference)
        assert positions(located) == positions(reference)
        assert key_lines(located) == key_lines(reference) == {p: line_of(reference, p) for p in key_lines(reference)}


@given(streams())
def test_located_load_without_block_scalars_as_str_has_the_roundtrip_types(text: str) -> None:
    assert outcome(load_located_exact, text, exact_types) == outcome(load_roundtrip, text, exact_types)


def _repository_yaml() -> list[Path]:
    """Every YAML document of the repository (Jinja templates are not YAML until rendered)."""
    roots = ("testdata", "canonicalization", "renderer/descriptors", "harness")
    return sorted(p for root in roots for p in (REPO / root).rglob("*.yaml"))


def test_every_yaml_file_of_the_repository_loads_alike_and_mostly_fast() -> None:
    files = _repository_yaml()
    fast_safe = fast_located = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert outcome(load_documents, text) == outcome(load_documents_full, text), path
        fast_safe += load_plain(text, _scalars(roundtrip=False), max_nodes=10**6) is not None
        if "\n---" not in text:
            assert outcome(load_located, text) == outcome(load_roundtrip, text), path
            fast_located += load_plain(text, _scalars(roundtrip=True), max_nodes=10**6, located=True) is not None
    assert len(files) > 200
    # The fast path is the common path: nearly every real manifest and config is plain YAML.
    assert fast_safe > 0.9 * len(files)
    assert fast_located > 0.5 * len(files)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "base: &b {k: 1}\nmerged:\n  <<: *b\n",  # merge keys
    "a: !!int '3'\n",  # explicit tags
    "k: 1\nk: 2\n",  # duplicate keys
    "? [a, b]\n: 1\n",  # a non-scalar key
    "%YAML 1.2\n---\nx: yes\n",  # a version directive changes what `yes` means
    "a: [1,\n",  # a syntax error
])
def test_what_the_fast_path_hands_over(text: str) -> None:
    assert load_plain(text, _scalars(roundtrip=False), max_nodes=10**6) is None
    assert outcome(load_documents, text) == outcome(load_documents_full, text)


@pytest.mark.parametrize("text", [
    "a:\t1\n",  # a tab as separator: libyaml accepts it, the round-trip parser does not
    "a: 1\t\nb: 2\n",
    "k: [1,\t2]\n",
    "a: b\u2028c\n",  # NEL/LS/PS: line breaks for libyaml, not for the round-trip parser
    "a: b\x85c\n",
    "a: 'x\u2029y'\n",
])
def test_located_load_hands_text_the_two_parsers_read_differently_to_the_roundtrip_loader(text: str) -> None:
    assert outcome(load_located, text) == outcome(load_roundtrip, text)


@given(streams().flatmap(lambda text: st.sampled_from(
    [text, text.replace(": ", ":\t", 1), text.replace("\n", "\t\n", 1), text.replace(" ", "\u2028", 1)])))
def test_located_load_equals_the_roundtrip_loader_with_tabs_and_unicode_breaks(text: str) -> None:
    assert outcome(load_located, text) == outcome(load_roundtrip, text)


def test_yaml11_scalars_and_types() -> None:
    docs = load_plain("a: yes\nb: 0755\nc: 1:30\nd: 2001-12-14\ne: '0755'\nf: =\ng: ~\nh: 1.5e3\n",
                      _scalars(roundtrip=False), max_nodes=100)
    assert docs == [{"a": True, "b": 493, "c": 90, "d": datetime.date(2001, 12, 14), "e": "0755", "f": "=",
                     "g": None, "h": 1500.0}]


def test_located_data_is_plain_dicts_and_lists_with_lines() -> None:
    data = load_located("top:\n  - a\n  - k: v\n    w: x\nother: 2\n", "l.yaml")
    assert isinstance(data, LocatedMap)
    assert isinstance(data["top"], LocatedSeq)
    assert data == {"top": ["a", {"k": "v", "w": "x"}], "other": 2}
    assert [line_of(data, p) for p in [("top",), ("top", 1), ("top", 1, "w"), ("other",)]] == [1, 3, 4, 5]


def test_block_scalars_are_plain_str_unless_asked_otherwise() -> None:
    text = "a: |\n  x\nb: >-\n  y\n"
    assert type(load_located(text, "b.yaml")["a"]) is str
    exact = load_located(text, "b.yaml", block_scalars_as_str=False)
    assert [type(v).__name__ for v in exact.values()] == ["LiteralScalarString", "FoldedScalarString"]
    assert load_plain("a: b\n", _scalars(roundtrip=True), max_nodes=10, located=True, block_scalars=False) is not None


def test_located_containers_know_where_they_start() -> None:
    data = load_located("# c\ntop:\n  - a\n  - {k: v}\n", "p.yaml")
    assert (data.lc.line, data.lc.col) == (1, 0)
    assert (data["top"].lc.line, data["top"].lc.col) == (2, 2)
    assert (data["top"][1].lc.line, data["top"][1].lc.col) == (3, 4)


def test_node_bound_hands_over_to_the_full_loader() -> None:
    text = "[" + ", ".join(["1"] * 50) + "]\n"
    assert load_plain(text, _scalars(roundtrip=False), max_nodes=10) is None
    with pytest.raises(InputError) as info:
        load_documents(text, "big.yaml", max_nodes=10)
    assert info.value.code == "YAML-ALIAS-BOMB"


# ------------------------------------------------------------------------------------- reads_as_string

def _exact_reading(document: str, version: tuple[int, int]) -> Any:
    loader = YAML(typ="safe", pure=True)
    loader.version = version
    try:
        return loader.load(document)
    except YAMLError:
        return "error"


READINGS = ["k8s-dev", "v1.4.2", "1.4", "1", "0x1F", "0o17", "0755", "1_000", "1e3", ".inf", "yes", "no", "on",
            "y", "true", "null", "~", "=", "<<", "2024-01-01", "12:30:00", "a: b", "a #b", "#a", "- a", "-a",
            ":a", "a:", "@a", "`a", "!a", "! a", "!!str a", "&a a", "*a", "%a", "|a", ">a", "'a'", '"a"', "[a]",
            "{a}", "a,b", "a b", "a\u00a0b", "\u00fcn\u00efc\u00f6d\u00e9", "ssh://git@h/o/r.git", "a'b",
            "a\\b", "--- a", "...", "---", ""]


@pytest.mark.parametrize("text", READINGS)
def test_reads_as_string_only_says_yes_when_every_version_reads_the_string(text: str) -> None:
    document = f"k: {text}\n"
    versions = ((1, 1), (1, 2))
    if reads_as_string(document, "k", text, versions):
        assert all(_exact_reading(document, v) == {"k": text} for v in versions)
        assert all(type(_exact_reading(document, v)["k"]) is str for v in versions)


def test_reads_as_string_answers_plain_strings_and_refuses_the_rest() -> None:
    both = ((1, 1), (1, 2))
    assert reads_as_string("k: k8s-dev\n", "k", "k8s-dev", both)
    assert reads_as_string("k: yes\n", "k", "yes", ((1, 2),))
    assert not reads_as_string("k: yes\n", "k", "yes", both)  # a boolean under YAML 1.1
    assert not reads_as_string("k: 0755\n", "k", "0755", ((1, 2),))  # a number
    assert not reads_as_string("k: !!str v\n", "k", "v", both)  # explicit tags: unsure
    assert not reads_as_string("k: v\nj: w\n", "k", "v", both)  # two keys
    assert not reads_as_string("k: v\n---\nk: v\n", "k", "v", both)  # two documents
    assert not reads_as_string("k: [v\n", "k", "v", both)  # a syntax error
    assert not reads_as_string("", "k", "v", both)
