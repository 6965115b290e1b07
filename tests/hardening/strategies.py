"""Hypothesis strategies and checks shared by the fuzz tests: YAML-ish values, structure-aware mutations of
real documents (so the fuzzer gets past the parser into schema, trust-policy and semantic checks), and the
shape every bad-input error must have."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from harness.codes import CODES
from harness.errors import InputError, InputErrors

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["yes", "no", "on", "off", "~", "0755", "1e3", "true", "=", "-", "..", "/etc/passwd",
                     "a/../b", "{{ x }}", "*", "&a", "!!int", "PLACEHOLDER-x", "ssh://git@h/x.git", ""]),
)
KEYS = st.one_of(st.text(min_size=1, max_size=12),
                 st.sampled_from(["name", "path", "output", "when", "field", "op", "value", "enabled", "id",
                                  "kind", "pointers", "to", "version", "excludes", "files", "roots", "secrets"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)


def _locations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _locations(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _locations(value, (*path, index))
    return found


def _apply(base: Any, edits: list[tuple[str, int, Any, Any]]) -> Any:
    data = copy.deepcopy(base)
    for op, pick, value, key in edits:
        places = _locations(data)
        path = places[pick % len(places)]
        if not path:
            if op == "set":
                data = value
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "set":
            parent[last] = value
        elif op == "delete":
            del parent[last]
        elif op == "insert" and isinstance(parent[last], dict):
            parent[last][key] = value
        elif op == "insert" and isinstance(parent[last], list):
            parent[last].insert(pick % (len(parent[last]) + 1), value)
        elif op == "retype":
            parent[last] = [parent[last]] if not isinstance(parent[last], list) else {"k": parent[last]}
    return data


def mutations(base: Any, max_edits: int = 3) -> st.SearchStrategy[Any]:
    """``base`` with up to ``max_edits`` random structural edits (set, delete, insert, retype a node)."""
    edit = st.tuples(st.sampled_from(["set", "delete", "insert", "retype"]), st.integers(0, 10**6), VALUES, KEYS)
    return st.lists(edit, min_size=1, max_size=max_edits).map(lambda edits: _apply(base, edits))


def error_lines(error: InputError) -> list[str]:
    return error.lines() if isinstance(error, InputErrors) else [error.one_line()]


def assert_well_formed(error: InputError, *, codes: tuple[str, ...] = ()) -> list[str]:
    """Every problem is one printable line with a registered code (one of ``codes`` when given)."""
    problems = error.errors if isinstance(error, InputErrors) else [error]
    lines = error_lines(error)
    assert lines
    for problem, line in zip(problems, lines, strict=True):
        assert problem.code in CODES, problem.code
        if codes:
            assert problem.code in codes or problem.code.startswith(("YAML-", "FILE-")), problem.code
        assert "\n" not in line, line
        assert "\r" not in line, line
        assert line.isprintable() or all(c.isprintable() or c == "\t" for c in line), repr(line)
        assert f"{problem.code}: " in line
    assert "\n" not in str(error)
    return lines


# ------------------------------------------------------------------ deep nesting (issue 18 class 1)

DEEP_SHAPES = ("flow-seq", "flow-map", "block-map", "block-seq", "mixed-flow", "json")


def deep_yaml(shape: str, depth: int, leaf: str = "x") -> str:
    """A YAML (or JSON) text nesting ``depth`` containers under the key ``deep`` of a top-level mapping."""
    if shape == "flow-seq":
        return "deep: " + "[" * depth + leaf + "]" * depth + "\n"
    if shape == "flow-map":
        return "deep: " + "{k: " * depth + leaf + "}" * depth + "\n"
    if shape == "mixed-flow":
        opens = "".join("[" if i % 2 else "{k: " for i in range(depth))
        closes = "".join("]" if i % 2 else "}" for i in reversed(range(depth)))
        return "deep: " + opens + leaf + closes + "\n"
    if shape == "json":
        return '{"deep": ' + '{"k": ' * depth + f'"{leaf}"' + "}" * depth + "}\n"
    if shape == "block-map":
        return "deep:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(depth - 1)) + " " * depth + f"k: {leaf}\n"
    lines = [" " * i + "-" for i in range(depth - 1)]  # block-seq: "-" items nested by indentation
    return "deep:\n" + "\n".join(lines) + ("\n" if lines else "") + " " * (depth - 1) + f"- {leaf}\n"


def deep_documents(max_depth: int = 400) -> st.SearchStrategy[tuple[str, int]]:
    """(text, depth of the deepest container counting the top-level mapping)."""
    return st.tuples(st.sampled_from(DEEP_SHAPES), st.integers(1, max_depth)).map(
        lambda pair: (deep_yaml(pair[0], pair[1]), pair[1] + 1))


def nested_data(depth: int) -> Any:
    """Plain data nesting ``depth`` containers (alternating mappings and lists), built without recursion."""
    data: Any = "leaf"
    for level in range(depth):
        data = {"k": data} if level % 2 else [data]
    return data
