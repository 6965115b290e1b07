"""Fuzzing the path normalizers of canonicalization rules: gitignore-style globs and RFC 6901 pointers.

(tests/harness/test_globs.py already checks GlobSet against a linear scan; these add the failure
contract and differential oracles.)"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.globs import GlobError, compile_glob, compile_pattern, has_magic
from harness.pointers import Pointer, PointerError, format_pointer, locate, parse_pointer, remove_all, resolve
from tests.hardening.strategies import VALUES, assert_well_formed
from tests.hardening.support import examples

SEGMENT_CHARS = st.sampled_from([*list("abcxyz019._-"), "é", " "])
SEGMENTS = st.text(SEGMENT_CHARS, min_size=1, max_size=6).filter(lambda s: s not in (".", "..") and s.strip() == s)
PATHS = st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join)
PATTERN_TEXT = st.lists(st.sampled_from([*list("ab*?[]!^-/\\."), "**", "\x00", "\n", " "]), max_size=12).map("".join)
WILD_SEGMENT = st.text(alphabet=st.sampled_from([*list("abc."), "*", "?"]), min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and "**" not in s)


# ------------------------------------------------------------------------------------------- globs

@examples(3.0)
@given(st.one_of(PATTERN_TEXT, st.text(max_size=20)))
def test_glob_compile_is_a_glob_or_a_located_one_line_error(pattern: str) -> None:
    try:
        glob = compile_pattern(pattern)
    except GlobError as exc:
        reason = str(exc)
    else:
        for path in ("a", "a/b", "a/b/c", "ab/c.d", ""):
            assert glob.match(path) in (True, False)
        return
    assert reason
    assert "\n" not in reason
    with pytest.raises(InputError) as info:
        compile_glob(pattern, file="inventory.yaml", line=4)
    [line] = assert_well_formed(info.value, codes=("INVENTORY-INVALID",))
    assert line.startswith("inventory.yaml:4: INVENTORY-INVALID: bad glob")


@examples(2.0)
@given(PATHS)
def test_literal_path_matches_itself_and_everything_below(path: str) -> None:
    assume(not has_magic(path))
    glob = compile_pattern(path)
    assert glob.literal == path
    assert glob.match(path)
    assert glob.match(path + "/child.yaml")
    assert not glob.match(path + "x") or path.endswith("/")
    assert compile_pattern("/" + path).match(path)
    assert compile_pattern("**/" + path).match("deep/er/" + path)


@examples(2.0)
@given(PATHS)
def test_escaped_path_matches_exactly_that_path(path: str) -> None:
    escaped = "".join("\\" + c if c in "*?[\\" else c for c in path)
    glob = compile_pattern(escaped)
    assert glob.match(path)


@examples(3.0)
@given(WILD_SEGMENT, SEGMENTS, SEGMENTS)
def test_single_segment_wildcards_agree_with_fnmatch(pattern: str, name: str, parent: str) -> None:
    """A pattern without '/' matches a file name as fnmatch does, at any depth, and everything below a
    directory it matches."""
    glob = compile_pattern(pattern)
    expected = fnmatch.fnmatchcase(name, pattern)
    assert glob.match(name) == expected
    assert glob.match(f"{parent}/{name}") == (expected or fnmatch.fnmatchcase(parent, pattern))


@examples(2.0)
@given(SEGMENTS, PATHS)
def test_double_star_spans_directories_but_star_does_not(first: str, rest: str) -> None:
    assume(not has_magic(first) and not has_magic(rest))
    assert compile_pattern(f"{first}/**").match(f"{first}/{rest}")
    assert compile_pattern(f"**/{rest}").match(f"{first}/{rest}")
    assert compile_pattern(f"{first}/**/{rest.split('/')[-1]}").match(f"{first}/{rest}")
    single = compile_pattern(f"/{first}/*")
    assert single.match(f"{first}/{rest}")  # gitignore: a matched directory takes everything below it
    assert not compile_pattern(f"/*/{first}").match(first)


# ------------------------------------------------------------------------------------------- pointers

TOKENS = st.text(alphabet=st.sampled_from([*list("ab01~/-"), "é", " "]), max_size=5)


@examples(3.0)
@given(st.one_of(st.text(max_size=20), st.text(alphabet="/~01ab-", max_size=12)))
def test_pointer_parse_is_a_pointer_or_a_pointer_error(text: str) -> None:
    pointer: Pointer | None = None
    try:
        pointer = parse_pointer(text)
    except PointerError as exc:
        reason = str(exc)
    if pointer is None:
        assert reason
        assert "\n" not in reason
        return
    assert pointer.text == text
    assert text.startswith("/")
    assert format_pointer(pointer.tokens) == text  # canonical escaping round-trips


@examples(3.0)
@given(st.lists(TOKENS, min_size=1, max_size=4))
def test_pointer_tokens_round_trip(tokens: list[str]) -> None:
    assume("-" not in tokens)
    pointer = parse_pointer(format_pointer(tokens))
    assert list(pointer.tokens) == tokens


def _pointers_into(data: Any, picks: list[int]) -> list[Pointer]:
    paths: list[list[str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if path:
            paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str):
                    walk(value, [*path, key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)])

    walk(data, [])
    chosen = [paths[p % len(paths)] for p in picks if paths]
    # A "-" token is refused when the pointer is parsed (it names no list item), even for a mapping key "-".
    return [parse_pointer(format_pointer(path)) for path in chosen if "-" not in path]


def _strictly_inside(inner: Pointer, outer: Pointer) -> bool:
    return len(outer.tokens) < len(inner.tokens) and inner.tokens[: len(outer.tokens)] == outer.tokens


@examples(3.0)
@given(VALUES, st.lists(st.integers(0, 1000), max_size=4), st.lists(st.text(alphabet="/ab01~", max_size=8),
                                                                         max_size=2))
def test_remove_all_removes_what_the_pointers_named_before(data: Any, picks: list[int], extra: list[str]) -> None:
    """Pointers are read against the unmodified data: the positions reported are those that resolved before,
    a value nothing else was removed from is reported as it was, and its mapping key is gone afterwards.
    (A value that also contained another removed pointer is reported as it is after that removal.)"""
    pointers = _pointers_into(data, picks)
    for text in extra:
        with contextlib.suppress(PointerError):
            pointers.append(parse_pointer(text))
    before = copy.deepcopy(data)
    resolved = [p for p in pointers if resolve(before, p)[0]]
    containers = [locate(data, p) for p in pointers]  # the live parents, before anything is removed
    removed = remove_all(data, pointers)
    assert [i for i, _ in removed] == [i for i, p in enumerate(pointers) if resolve(before, p)[0]]
    for index, value in removed:
        pointer = pointers[index]
        if not any(_strictly_inside(other, pointer) for other in resolved):
            assert value == resolve(before, pointer)[1]
        place = containers[index]
        assert place is not None
        if isinstance(place[0], dict):
            assert place[1] not in place[0]
