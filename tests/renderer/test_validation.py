"""Validation keys (renderer.validation): texts that differ only by the cluster's name are valid or invalid
together, so the renderer may parse one of them for all; anything that could break that is keyed by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.yamlio import load_documents
from renderer.render import yaml_problem
from renderer.validation import PLACEHOLDER, ValidOutputs

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5}){1,3}", fullmatch=True)
PIECES = ["{n}", "x-{n}", "{n}.yaml", "'{n}'", '"{n}"', "[{n}, a]", "{{a: {n}}}", "# {n}", "./overlays/{n}/x",
          "1", "yes", "- {n}", "{n}:", "{n}: 1", "&a {n}", "*a", "|", "  ", ":", "-", "? {n}", "''", "[", "}"]


def _valid(text: str) -> bool:
    try:
        load_documents(text, "<t>")
    except InputError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(first=NAMES, second=NAMES, lines=st.lists(st.tuples(st.sampled_from(["", "  ", "    ", "- "]),
                                                             st.sampled_from(["k", "{n}", "k-{n}", "k2"]),
                                                             st.sampled_from(PIECES)), min_size=1, max_size=8))
def test_texts_with_the_same_key_are_valid_together(first: str, second: str,
                                                   lines: list[tuple[str, str, str]]) -> None:
    template = "".join(f"{indent}{key.format(n='{n}')}: {value}\n" for indent, key, value in lines)
    a, b = template.replace("{n}", first), template.replace("{n}", second)
    key_a, key_b = ValidOutputs.key(a, first), ValidOutputs.key(b, second)
    if key_a == key_b:
        assert _valid(a) == _valid(b)
    if key_a != a:
        assert _valid(key_a) == _valid(a)


@pytest.mark.parametrize(("text", "cluster"), [
    ("a: !!str k8s-dev\n", "k8s-dev"),          # a tag may constrain content
    ("a: k8s\n", "k8s"),                        # no '-': could read as something other than a string
    ("a: 1-dev\n", "1-dev"),                    # starts with a digit
    (f"a: k8s-dev {PLACEHOLDER}\n", "k8s-dev"),  # the placeholder is already there: not reversible
    ("a: " + "k8s-dev " * 200 + "\n", "k8s-dev"),  # a line near the implicit-key length limit
    ("a: other\n", "k8s-dev"),                  # the name does not occur
])
def test_texts_that_could_read_differently_are_keyed_by_themselves(text: str, cluster: str) -> None:
    assert ValidOutputs.key(text, cluster) == text


def test_the_key_replaces_the_cluster_name() -> None:
    assert ValidOutputs.key("path: ./overlays/k8s-dev-1/x # k8s-dev-1\n", "k8s-dev-1") == \
        f"path: ./overlays/{PLACEHOLDER}/x # {PLACEHOLDER}\n"


def test_an_invalid_output_is_reported_from_its_own_text() -> None:
    valid, invalid = "a: k8s-aa-1\nb: 1\n", "a: k8s-bb-2\na: 1\n"
    assert yaml_problem(valid, "k8s-aa-1") is None
    problem = yaml_problem(invalid, "k8s-bb-2")
    assert problem is not None
    assert problem[0] == 2
    assert yaml_problem("a: k8s-cc-3\nb: 1\n", "k8s-cc-3") is None  # same key as the valid one


def test_the_memo_is_bounded() -> None:
    memo = ValidOutputs(budget=10)
    memo.add("abcdef")
    memo.add("ghijkl")
    assert "abcdef" not in memo
    assert "ghijkl" in memo


def test_a_valid_output_is_parsed_once_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A validation key found valid is remembered (by digest) for later processes of the same code; an invalid
    text is parsed, and worded, every time."""
    import renderer.render as render
    from harness.digest_store import DigestStore

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    parsed: list[str] = []

    def counting(text: str, name: str) -> object:
        parsed.append(text)
        return load_documents(text, name)

    monkeypatch.setattr(render, "load_documents", counting)

    def new_process() -> None:
        monkeypatch.setattr(render, "_VALID_OUTPUTS", ValidOutputs())
        monkeypatch.setattr(render, "KNOWN_VALID", DigestStore("valid-outputs", "test-code"))

    good, bad = "kind: ConfigMap\nmetadata: {name: k8s-dev-a}\n", "a: 1\na: 2\n"
    new_process()
    assert yaml_problem(good, "k8s-dev-a") is None
    assert yaml_problem(bad, "k8s-dev-a") is not None
    render.KNOWN_VALID.flush()
    assert len(parsed) == 2
    new_process()
    assert yaml_problem(good.replace("k8s-dev-a", "k8s-prod-b"), "k8s-prod-b") is None  # same key: not parsed
    assert len(parsed) == 2
    assert yaml_problem(bad, "k8s-dev-a") == yaml_problem(bad, "k8s-dev-a")
    assert len(parsed) == 4
    monkeypatch.setattr(render, "_VALID_OUTPUTS", ValidOutputs())
    monkeypatch.setattr(render, "KNOWN_VALID", DigestStore("valid-outputs", "other-code"))
    assert yaml_problem(good, "k8s-dev-a") is None  # other code: parsed again
    assert len(parsed) == 5
