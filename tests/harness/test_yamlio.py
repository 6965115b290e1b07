from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.yamlio import (
    DocumentMemo,
    iter_paths,
    key_lines,
    line_of,
    load_documents,
    load_file,
    load_located,
    load_roundtrip,
    read_text,
)


def test_multi_document_yaml11_scalars() -> None:
    docs = load_documents("a: on\nmode: 0755\n---\n---\nb: [1, 2]\n", "x.yaml")
    assert docs == [{"a": True, "mode": 493}, {"b": [1, 2]}]


def test_duplicate_key_is_located_and_never_echoes_the_value() -> None:
    with pytest.raises(InputError) as info:
        load_documents("token: first\ntoken: s3cr3t-value\n", "d.yaml")
    assert info.value.code == "YAML-DUPLICATE-KEY"
    assert info.value.one_line().startswith("d.yaml:2:1: YAML-DUPLICATE-KEY: duplicate key 'token'")
    assert "s3cr3t" not in info.value.one_line()


def test_tab_indentation_is_a_located_syntax_error() -> None:
    with pytest.raises(InputError) as info:
        load_documents("a:\n\tb: 1\n", "t.yaml")
    assert info.value.code == "YAML-INVALID"
    assert info.value.location is not None
    assert info.value.location.line == 2
    assert "tabs" in info.value.hint


def test_alias_bomb_is_bounded() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    with pytest.raises(InputError) as info:
        load_documents("\n".join(lines) + "\n", "bomb.yaml")
    assert info.value.code == "YAML-ALIAS-BOMB"


def test_shared_aliases_below_the_bound_are_fine() -> None:
    assert load_documents("a: &a {k: v}\nb: *a\n", "ok.yaml") == [{"a": {"k": "v"}, "b": {"k": "v"}}]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"a: 1\n\x00\x01", "FILE-BINARY"), (b"a: 1\nb: \xff\xfe\n", "FILE-NOT-UTF8")],
)
def test_binary_and_non_utf8(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_file(path)
    assert info.value.code == code
    assert info.value.location is not None
    assert info.value.location.line == 2


def test_size_limit_and_missing_file_and_symlink(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" * 100)
    with pytest.raises(InputError, match="FILE-TOO-LARGE"):
        read_text(big, max_bytes=10)
    with pytest.raises(InputError, match="FILE-MISSING"):
        read_text(tmp_path / "nope.yaml")
    link = tmp_path / "link.yaml"
    link.symlink_to(big)
    with pytest.raises(InputError, match="FILE-SYMLINK"):
        read_text(link)


def test_roundtrip_line_numbers() -> None:
    data = load_roundtrip("a:\n  b:\n    - x\n    - y\nc: 1\n", "r.yaml")
    assert line_of(data, ("c",)) == 5
    assert line_of(data, ("a", "b", 1)) == 4
    assert line_of(data, ("missing", "x")) == 0


def test_key_lines_is_line_of_for_every_path() -> None:
    # Merged keys have no line of their own: line_of stops at them, and so does every path below them.
    text = "base: &b\n  x: {y: 1}\nm:\n  <<: *b\n  z:\n    - 2\n"
    data = load_roundtrip(text, "m.yaml")
    lines = key_lines(data)
    assert lines == {("base",): 1, ("base", "x"): 2, ("base", "x", "y"): 2, ("m",): 3, ("m", "z"): 5,
                     ("m", "z", 0): 6, ("m", "x"): 3, ("m", "x", "y"): 3}
    assert lines == {path: line_of(data, path) for path in lines}
    assert key_lines({"plain": [{"a": 1}]}) == {("plain",): 0, ("plain", 0): 0, ("plain", 0, "a"): 0}


def test_a_yaml_directive_does_not_outlive_its_document() -> None:
    # ruamel keeps the last %YAML version on its reused loader; each text must be read on its own terms.
    assert load_roundtrip("%YAML 1.1\n---\na: yes\nb: 0755\n", "v11.yaml") == {"a": True, "b": 493}
    assert load_roundtrip("x: yes\ny: 0755\n", "v12.yaml") == {"x": "yes", "y": 755}
    assert load_located("p: on\nq: 0644\n", "v12.yaml") == {"p": "on", "q": 644}


def test_iter_paths() -> None:
    assert list(iter_paths({"a": {"b": [1, {"c": 2}]}})) == [(("a", "b", 0), 1), (("a", "b", 1, "c"), 2)]


@pytest.mark.parametrize("text", ["a: !!int s3cr3t\n", "a: !!float s3cr3t\n", "a: !!timestamp s3cr3t\n",
                                  "a: !!bool s3cr3t\n"])
def test_bad_tagged_scalar_is_one_line_without_the_value(text: str) -> None:
    with pytest.raises(InputError) as info:
        load_documents(text, "tag.yaml")
    assert info.value.code == "YAML-INVALID"
    assert "s3cr3t" not in info.value.one_line()


def test_recursive_alias_is_rejected() -> None:
    with pytest.raises(InputError, match="recursive alias"):
        load_documents("a: &a [1, *a]\n", "rec.yaml")


def test_plain_equals_sign_is_a_string_as_in_go_yaml() -> None:
    assert load_documents("matchType: =\n", "am.yaml") == [{"matchType": "="}]


def test_ruamel_warnings_that_quote_the_document_are_silenced(recwarn: pytest.WarningsRecorder) -> None:
    # A reused anchor makes ruamel warn with the source lines around it, values included.
    load_roundtrip("a: &x s3cr3t-one\nb: &x s3cr3t-two\n", "w.yaml")
    load_documents("a: &x s3cr3t-one\nc: 1e3\n", "w.yaml")
    assert not [str(w.message) for w in recwarn]


# ------------------------------------------------------------------------------------- the shared memo

def test_memo_parses_a_text_once_and_shares_it_read_only() -> None:
    memo = DocumentMemo()
    text = "a: [1, 2]\n---\nb: {c: d}\n"
    first = memo.documents(text, "one.yaml")
    again = memo.documents(text, "two.yaml")
    assert first == again == load_documents(text, "x")
    assert first[0] is again[0]  # the same objects: parsed once


def test_memo_private_copies_can_be_edited_without_touching_the_memo() -> None:
    memo = DocumentMemo()
    text = "metadata:\n  annotations: {a: '1', b: '2'}\nitems: [1, 2]\n"
    mine = memo.documents(text, "x.yaml", private=True)
    del mine[0]["metadata"]["annotations"]["a"]
    mine[0]["items"].pop()
    assert memo.documents(text, "x.yaml") == load_documents(text, "x")


def test_memo_private_documents_with_anchors_keep_their_aliases_shared() -> None:
    memo = DocumentMemo()
    text = "base: &b {k: v}\nother: *b\n"
    shared = memo.documents(text, "x.yaml")
    assert shared[0]["base"] is shared[0]["other"]
    mine = memo.documents(text, "x.yaml", private=True)
    assert mine[0]["base"] is mine[0]["other"]
    assert mine[0]["base"] is not shared[0]["base"]


def test_memo_errors_name_each_caller_and_are_not_kept() -> None:
    memo = DocumentMemo()
    for name in ("first.yaml", "second.yaml"):
        with pytest.raises(InputError) as info:
            memo.documents("a: 1\na: 2\n", name)
        assert info.value.one_line().startswith(f"{name}:2:")


def test_memo_is_bounded_by_text_size() -> None:
    memo = DocumentMemo(budget=30, max_text=20)
    texts = [f"key{i}: value{i}\n" for i in range(5)]  # 13 characters each: two fit
    for text in texts:
        memo.documents(text, "x.yaml")
    big = "k: " + "v" * 40 + "\n"
    memo.documents(big, "x.yaml")
    kept = list(memo._entries)
    assert kept == texts[-2:]  # the oldest went first; the text over max_text was never kept
    assert sum(map(len, kept)) <= 30
