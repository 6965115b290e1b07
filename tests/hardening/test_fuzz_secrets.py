"""Fuzzing the secret scanner's decoders: no crash on arbitrary bytes, and a private key is found at every
nesting the scanner promises (harness.secrets.MAX_LAYERS base64 layers, either alphabet, padded or not,
wrapped at any width of 20 or more, at any indentation), in a text file, as a YAML value at any depth, and
in a Secret's ``data``/``stringData`` -- and the finding never carries the material."""

from __future__ import annotations

import base64
import functools
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.findings import Finding
from harness.secrets import MAX_LAYERS, find_key_material, prefilter, scan_bytes, scan_text
from tests.hardening.support import examples
from tests.harness.secret_corpus import Key, assert_no_leak, b64, generate

KEY_CODES = ("SECRET-PRIVATE-KEY", "SECRET-REAL-KEY")
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="
B64_TEXT = st.lists(st.sampled_from([*B64_CHARS, " ", "\n", "\t", "LS0tLS1CRUdJT", "QUdFLVNFQ1JFVC1LRVkt"]),
                    max_size=300).map("".join)


@functools.cache
def _corpus() -> tuple[Path, tuple[Key, ...]]:
    """Keys generated once per process, kept out of the test arguments (so a failure report never prints
    key material); the directory is removed at the end of the module."""
    directory = Path(tempfile.mkdtemp(prefix="overlay-parity-fuzz-corpus-"))
    return directory, tuple(generate(directory))


@pytest.fixture(scope="module", autouse=True)
def _remove_corpus() -> Iterator[None]:
    yield
    if _corpus.cache_info().currsize:
        shutil.rmtree(_corpus()[0], ignore_errors=True)


KEY_INDEX = st.integers(0, 12)


def _key(index: int) -> Key:
    keys = _corpus()[1]
    return keys[index % len(keys)]


def _check(findings: list[Finding]) -> None:
    for finding in findings:
        assert finding.code.startswith("SECRET-")
        assert "\n" not in finding.message
        assert finding.check == "secrets"
        json.dumps(finding.to_dict())


@examples(3.0)
@given(st.binary(max_size=600), st.sampled_from(["x.yaml", "x.txt", "x.json", "x"]))
def test_arbitrary_bytes_never_crash_the_scanner(data: bytes, name: str) -> None:
    _check(scan_bytes(data, name))
    prefilter(data)
    find_key_material(data.decode("latin-1"))


@examples(3.0)
@given(B64_TEXT, st.sampled_from(["x.yaml", "x.txt"]))
def test_base64_looking_noise_never_crashes_the_decoders(text: str, name: str) -> None:
    _check(scan_text(text, name))
    _check(scan_text(f"kind: Secret\ndata:\n  k: {text.strip()!r}\n", name))


LAYER = st.tuples(st.booleans(), st.booleans(), st.one_of(st.just(0), st.just(64), st.just(76),
                                                          st.integers(20, 120)))


def _encode(text: str, layers: list[tuple[bool, bool, int]]) -> str:
    """``text`` base64-encoded once per layer (alphabet, padding, wrap width), innermost first."""
    for urlsafe, pad, wrap in layers:
        text = b64(text, urlsafe=urlsafe, pad=pad, wrap=wrap)
    return text


def _found(findings: list[Finding], key: Key) -> list[Finding]:
    """The key findings: at least one, and every one of the key's own code (REAL when it parses)."""
    hits = [f for f in findings if f.code in KEY_CODES]
    assert hits, "key not found"
    assert all(f.code == key.code for f in hits), (key.name, [f.code for f in hits])
    return hits


# Lines around the value hold a character outside the base64 alphabet (YAML keys, comments, prose): a line
# made only of base64 characters right after a payload reads as its wrapped continuation.
CONTEXT = st.lists(st.text(st.characters(exclude_characters="\r\n"), max_size=30).map(lambda s: s + " # x: y"),
                   max_size=3).map("\n".join).filter(
    lambda s: not any(marker in s for marker in ("AGE-SECRET-KEY-", "BEGIN", "PuTTY")))  # no second key


@examples(2.0)
@given(KEY_INDEX, st.lists(LAYER, max_size=MAX_LAYERS), st.integers(0, 8), CONTEXT, CONTEXT)
def test_key_is_found_at_every_promised_nesting_in_text(index: int, layers: list[tuple[bool, bool, int]],
                                                       indent: int, before: str, after: str) -> None:
    key = _key(index)
    encoded = _encode(key.text, layers)
    body = encoded.replace("\n", "\n" + " " * indent)
    text = f"{before}\nnote: |\n{' ' * indent}{body}\n{after}\n"
    findings = scan_text(text, "notes.txt")
    hits = _found(findings, key)
    assert len({f.extra["fingerprint"] for f in hits}) == 1, "one key, one fingerprint"
    assert hits[0].extra["layer"].count(">") == max(len(layers) - 1, 0)
    assert_no_leak(json.dumps([f.to_dict() for f in findings]), [key])


@examples(2.0)
@given(KEY_INDEX, st.lists(LAYER, max_size=MAX_LAYERS - 1),
       st.lists(st.sampled_from(["spec", "values", "a-b", "x.y", "0"]), min_size=1, max_size=5),
       st.integers(0, 2), st.booleans())
def test_key_is_found_as_a_yaml_value_at_any_depth(index: int, layers: list[tuple[bool, bool, int]],
                                                   path: list[str], position: int, block: bool) -> None:
    key = _key(index)
    encoded = _encode(key.text, layers)
    value: object = encoded if not block else encoded + "\n"
    for part in reversed(path):
        value = {part: value}
    docs: list[dict[str, object]] = [{"kind": "ConfigMap", "metadata": {"name": f"d{i}"}} for i in range(3)]
    docs[position] = {"kind": "ConfigMap", "metadata": {"name": "holder"}, "data": value}
    text = "---\n".join(json.dumps(d) + "\n" for d in docs)
    findings = scan_text(text, "values.yaml")
    hits = _found(findings, key)
    assert any(f.extra.get("key_path", "").startswith("data") for f in hits), [f.extra for f in hits]
    assert_no_leak(json.dumps([f.to_dict() for f in findings]), [key])


@examples(2.0)
@given(KEY_INDEX, st.lists(LAYER, max_size=MAX_LAYERS - 1), st.sampled_from(["data", "stringData"]),
       st.permutations(["apiVersion", "kind", "metadata", "type", "SECTION"]))
def test_key_is_found_in_secret_data_whatever_the_key_order(index: int, layers: list[tuple[bool, bool, int]],
                                                            section: str, order: list[str]) -> None:
    key = _key(index)
    encoded = _encode(key.text, layers)
    value = base64.b64encode(encoded.encode("latin-1")).decode() if section == "data" else encoded
    fields = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
              "SECTION": {"other": "UExBQ0VIT0xERVItb2s=" if section == "data" else "PLACEHOLDER-ok", "key": value}}
    doc = {(section if k == "SECTION" else k): fields[k] for k in order}
    findings = scan_text(json.dumps(doc, indent=2), "secret.yaml")
    hits = _found(findings, key)
    assert any(f.extra.get("key_path") == f"{section}.key" for f in hits), [f.extra for f in hits]
    assert_no_leak(json.dumps([f.to_dict() for f in findings]), [key])


def test_scanner_promises_what_it_decodes() -> None:
    """The pre-filter signs every base64 nesting level the decoder descends (a level it does not sign is
    never even decoded)."""
    from harness.secrets import encoded_re as _encoded_re

    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    for levels in range(1, MAX_LAYERS + 1):
        encoded = text
        for _ in range(levels):
            encoded = base64.b64encode(encoded.encode()).decode()
        assert _encoded_re().search(encoded.encode()), levels


def test_secret_with_a_yaml_12_only_number_lookalike_is_still_checked() -> None:
    """``0o_`` is a string in YAML 1.1 but crashes ruamel's YAML 1.2 round-trip loader (IndexError), which
    the scanner uses for line numbers: the findings come without lines instead of a crash."""
    findings = scan_text("kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: not-a-placeholder\n  b: 0o_\n",
                         "s.yaml")
    assert [f.code for f in findings] == ["SECRET-NOT-PLACEHOLDER"] * 2
