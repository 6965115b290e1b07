"""Every encoding (issue 13 item 3) of every generated key, inside and outside the fixture globs: hex
(plain, wrapped, upper case, under base64), gzip+base64 (once and twice), JSON-escaped newlines at any
depth, base64 with whitespace anywhere inside a Secret value, URL-safe base64; one key is one finding
with every position (item 4); no output carries key bytes or any base64/hex slice of them."""

from __future__ import annotations

import base64
import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.findings import Finding
from harness.report.sarif import to_sarif
from harness.secrets import prefilter, scan_paths, scan_text
from tests.harness.secret_corpus import Key, assert_no_leak, generate

KEY_CODES = {"SECRET-REAL-KEY", "SECRET-PRIVATE-KEY"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def _spaced(text: str) -> str:
    """base64 with whitespace at random places inside it (not only at line ends)."""
    rng = random.Random(len(text))
    out = []
    for char in base64.b64encode(text.encode("latin-1")).decode():
        out.append(char)
        if rng.random() < 0.05:
            out.append(rng.choice([" ", "  ", "\t", "\n  "]))
    return "".join(out)


def _json_escaped(depth: int) -> Callable[[str], str]:
    def encode(text: str) -> str:
        value: str = text
        for _ in range(depth):
            value = json.dumps(value)[1:-1]
        return value
    return encode


ENCODINGS: dict[str, tuple[Callable[[str], str], str]] = {
    "hex": (lambda s: s.encode("latin-1").hex(), "hex"),
    "hex-upper": (lambda s: s.encode("latin-1").hex().upper(), "hex"),
    "hex-wrapped": (lambda s: "\n".join(s.encode("latin-1").hex()[i:i + 60]
                                        for i in range(0, len(s) * 2, 60)), "hex"),
    "base64-of-hex": (lambda s: base64.b64encode(s.encode("latin-1").hex().encode()).decode(), "base64>hex"),
    "gzip-base64": (lambda s: base64.b64encode(gzip.compress(s.encode("latin-1"), mtime=0)).decode(), "base64>gzip"),
    "gzip-base64-twice": (lambda s: base64.b64encode(base64.b64encode(gzip.compress(s.encode("latin-1"), mtime=0)))
                          .decode(), "base64>base64>gzip"),
    "json-escaped-1": (_json_escaped(1), "literal"),
    "json-escaped-2": (_json_escaped(2), "literal"),
    "json-escaped-3": (_json_escaped(3), "literal"),
}


def record(findings: list[Finding], corpus: list[Key]) -> None:
    text = json.dumps([f.to_dict() for f in findings]) + json.dumps(to_sarif(findings, "t"))
    text += "\n".join(f"{f.path}:{f.line}: {f.code} {f.message} [{f.extra.get('fingerprint')}]" for f in findings)
    assert_no_leak(text, corpus)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_key_in_every_new_encoding_in_text_and_yaml(corpus: list[Key], encoding: str) -> None:
    encode, layer = ENCODINGS[encoding]
    for key in corpus:
        encoded = encode(key.text)
        assert prefilter(encoded.encode()) & {"literal", "encoded"}, (key.name, encoding)
        for name, text in (("clusters/prod/notes.txt", f"notes\n{encoded}\nend\n"),
                           ("clusters/prod/cm.json", json.dumps({"kind": "ConfigMap", "data": {"k": encoded}}))):
            findings = scan_text(text, name)
            record(findings, corpus)
            keys = [f for f in findings if f.code in KEY_CODES]
            assert [f.code for f in keys] == [key.code], (key.name, encoding, name, [f.message for f in findings])
            assert keys[0].extra["layer"].startswith(layer) or layer == "literal", (key.name, encoding, keys[0].extra)


def test_base64_with_whitespace_anywhere_and_url_safe_in_secret_data(corpus: list[Key]) -> None:
    for key in corpus:
        for value in (_spaced(key.text), base64.urlsafe_b64encode(key.text.encode("latin-1")).decode().rstrip("=")):
            doc = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": value}})
            findings = scan_text(doc, "testdata/s.json")
            record(findings, corpus)
            keys = [f for f in findings if f.code in KEY_CODES]
            assert [f.code for f in keys] == [key.code], key.name
            assert keys[0].extra["key_path"] == "data.k"


def test_one_key_in_every_encoding_is_one_finding_listing_every_position(corpus: list[Key], tmp_path: Path) -> None:
    for key in corpus:
        encodings = [encode(key.text) for encode, _ in ENCODINGS.values()]
        text = "\n".join(f"line {i}\n{encoded}" for i, encoded in enumerate(encodings)) + "\n"
        target = tmp_path / "clusters" / "prod" / f"{key.name}.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="latin-1")
        findings = scan_paths([target], root=tmp_path, fixture_globs=["testdata/**"])
        record(findings, corpus)
        assert [f.code for f in findings] == [key.code], key.name
        positions = findings[0].extra["positions"]
        assert len(positions) >= len(encodings) - 1, (key.name, positions)  # hex and HEX may share a line run
        assert findings[0].line == positions[0]["line"]
        assert len({p["line"] for p in positions}) == len(positions)
