"""The secret scanner on the layouts real encoders write, and on look-alike noise that must stay quiet.

Every generated key (tests/harness/secret_corpus.py) is base64-encoded one to three times, each layer as
``base64 -w N`` (N = 0, 12, 16, 19, 76), ``openssl base64``, Python's ``base64.encodebytes`` or unpadded
URL-safe base64 writes it, and planted in a text file, a YAML literal, folded or plain multi-line scalar,
a JSON string or a Secret's ``data`` -- between lines made only of base64 characters that belong to
something else. It must be found once, at its layer and key path, on the line where its base64 starts,
and no finding may carry its material. Random bytes and certificates in the same layouts find nothing.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import textwrap
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.findings import Finding
from harness.sarif import to_sarif
from harness.secrets import find_key_material, prefilter, scan_text
from tests.harness.secret_corpus import BEGIN, END, Key, assert_no_leak, b64, generate, layer_matches

KEY_CODES = {"SECRET-REAL-KEY", "SECRET-PRIVATE-KEY"}


def _wrapped(width: int) -> Callable[[str], str]:
    """``base64 -w width``: lines of ``width`` characters, ending with a newline (none for ``-w 0``)."""
    return lambda text: b64(text, wrap=width) + ("\n" if width else "")


ENCODERS: dict[str, tuple[Callable[[str], str], str]] = {
    # name: (what the tool writes, the layer the scanner reports)
    "base64 -w 0": (_wrapped(0), "base64"),
    "base64 -w 12": (_wrapped(12), "base64"),
    "base64 -w 16": (_wrapped(16), "base64"),
    "base64 -w 19": (_wrapped(19), "base64"),
    "base64": (_wrapped(76), "base64"),
    "openssl base64": (_wrapped(64), "base64"),
    "base64.encodebytes": (lambda text: base64.encodebytes(text.encode("latin-1")).decode("ascii"), "base64"),
    "urlsafe unpadded": (lambda text: b64(text, urlsafe=True, pad=False), "base64*"),
}
SHORT = ("base64 -w 12", "base64 -w 16", "base64 -w 19")  # wrapped under the 20 characters of a run
LAYOUTS = [combo for layers in (1, 2) for combo in itertools.product(ENCODERS, repeat=layers)] + [
    (inner, middle, outer) for inner, middle, outer in itertools.product(ENCODERS, repeat=3)
    if (inner in SHORT or middle in SHORT) and outer in ("base64 -w 0", "openssl base64", "base64 -w 16")]

# Lines of base64 characters only that belong to something else, around the payload: (before, after).
NEIGHBOURS: list[tuple[str, str]] = [
    ("", "more"),
    ("", "WIDTH"),  # as wide as the payload's lines: reads as one more of them
    ("dG9rZW4=", "Zm9vYmFy"),
    ("0123456789abcdef0123", "abcd"),
    ("abcdefgh", "RANDOM"),  # another base64 payload right after
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def encode(text: str, layout: tuple[str, ...]) -> tuple[str, str]:
    """``text`` through the encoders of ``layout`` (innermost first), and the layer path expected."""
    for name in layout:
        text = ENCODERS[name][0](text)
    return text.rstrip("\n"), ">".join(ENCODERS[name][1] for name in reversed(layout))


def neighbour(line: str, payload: str) -> str:
    """A neighbouring line (or lines) for ``payload``: as wide as its lines, another payload, or as given."""
    if line == "WIDTH":
        return "x" * len(payload.split("\n")[0])
    if line == "RANDOM":
        return b64(random.Random(len(payload)).randbytes(90), wrap=64)
    return line


def planted(before: str, payload: str, after: str) -> list[str]:
    """The lines of ``payload`` between its neighbours."""
    parts = (neighbour(before, payload), payload, neighbour(after, payload))
    return "\n".join(part for part in parts if part).split("\n")


def key_findings(findings: list[Finding], keys: list[Key]) -> list[Finding]:
    """The key findings, after checking that no finding (as JSON or SARIF) carries key material."""
    assert_no_leak(json.dumps([f.to_dict() for f in findings]) + json.dumps(to_sarif(findings, "t")), keys)
    return [f for f in findings if f.code in KEY_CODES]


def assert_one(found: list[Finding], key: Key, layer: str, what: object) -> Finding:
    assert [f.code for f in found] == [key.code], (key.name, what, [f.message for f in found])
    assert layer_matches(layer, found[0].extra["layer"]), (key.name, what, found[0].extra["layer"])
    return found[0]


# ------------------------------------------------------------------------------------------ detection

@pytest.mark.parametrize("layout", LAYOUTS, ids=">".join)
def test_every_key_in_every_layout_between_base64_only_lines(corpus: list[Key], layout: tuple[str, ...]) -> None:
    """One and two layers of every encoder, three with a layer wrapped under 20 characters; the finding's
    line is where the payload starts, not the unrelated base64 line before it."""
    for index, key in enumerate(corpus):
        payload, layer = encode(key.text, layout)
        for before, after in (NEIGHBOURS[index % len(NEIGHBOURS)], NEIGHBOURS[1]):
            text = "notes: see below\n" + "\n".join(planted(before, payload, after)) + "\ntrailing text\n"
            assert prefilter(text.encode()), (key.name, layout)
            found = assert_one(key_findings(scan_text(text, "notes.txt"), corpus), key, layer, (layout, before, after))
            assert found.line == (3 if before else 2), (key.name, layout, before)  # where the payload starts


def test_payload_followed_by_a_base64_only_line(corpus: list[Key]) -> None:
    """A wrapped payload whose next line is base64 of its own (a token, an unrelated value) is still one
    payload: the extra line is not allowed to turn a nested layer into binary noise."""
    for key in corpus:
        for layout in (("base64 -w 0", "base64 -w 0"), ("base64", "openssl base64"), ("urlsafe unpadded",) * 2,
                       ("base64", "base64 -w 16", "openssl base64")):
            payload, layer = encode(key.text, layout)
            for after in ("more", "QUJD", "dG9rZW4=", "x" * 64, "x" * 16, b64(os.urandom(48), wrap=64)):
                text = f"blob:\n{payload}\n{after}\n"
                assert_one(key_findings(scan_text(text, "blob.txt"), corpus), key, layer, (layout, after))


def test_a_line_of_text_after_a_payload_is_not_read_as_its_continuation(corpus: list[Key]) -> None:
    """Binary junk ends a base64 line only in decoded layers; in the text as given, a line starting with
    base64 characters and then a control character or a non-ASCII letter ("Tür") is prose, not payload.
    (Hypothesis found ``h\\x1f # x: y`` after a two-layer payload reported as a bare marker.)"""
    for key in corpus:
        for wraps in ((64, 0), (0,), (76, 76)):
            payload = key.text
            for wrap in wraps:  # standard alphabet, unpadded: nothing marks where the payload ends
                payload = b64(payload, pad=False, wrap=wrap)
            layer = ">".join(["base64*"] * len(wraps))
            for after in ("h\x1f # x: y", "Tür # x: y", "abc\x7f", "Zürich"):
                text = f"note: |\n{payload}\n{after}\n"
                assert_one(key_findings(scan_text(text, "notes.txt"), corpus), key, layer, (wraps, after))


def test_nested_layers_wrapped_under_20_characters(corpus: list[Key]) -> None:
    """A layer wrapped into lines shorter than a decodable run (``base64 -w 16 key | base64``) is
    decoded and descended like any other."""
    for key in corpus:
        for width in (12, 16, 19):
            for layout in ((f"base64 -w {width}", "base64 -w 0"), (f"base64 -w {width}",) * 2,
                           ("base64", f"base64 -w {width}", "base64 -w 0")):
                payload, layer = encode(key.text, layout)
                assert_one(key_findings(scan_text(f"a: b\n{payload}\n", "x.txt"), corpus), key, layer, layout)


def test_a_key_in_the_middle_of_a_wrapped_bundle_encoded_again(corpus: list[Key]) -> None:
    """A key after other text (a certificate bundle, age-keygen's comments) whose base64 is wrapped:
    the line breaks fall anywhere in the marker's base64, and the pre-filter still signs it once the
    bundle is encoded again (two and three layers)."""
    for key in corpus:
        for shift in range(0, 96, 7):
            bundle = "# comment\n" + "c" * shift + "\n" + key.text
            for inner, outer in itertools.product((16, 64, 76), ((0,), (76,), (0, 64))):
                text = b64(bundle, wrap=inner)
                for width in outer:
                    text = b64(text, wrap=width)
                assert prefilter(text.encode()), (key.name, shift, inner, outer)
                found = key_findings(scan_text(text, "bundle.txt"), corpus)
                assert [f.code for f in found] == [key.code], (key.name, shift, inner, outer)


def yaml_contexts(lines: list[str]) -> dict[str, str]:
    """The same lines as the value of ``data.blob`` in each YAML/JSON layout that keeps them."""
    block = textwrap.indent("\n".join(lines), "    ")
    return {
        "literal": f"kind: ConfigMap\ndata:\n  first: x\n  blob: |\n{block}\n  other: x\n",
        "folded": f"kind: ConfigMap\ndata:\n  first: x\n  blob: >-\n{block}\n  other: x\n",
        "plain": "kind: ConfigMap\ndata:\n  first: x\n  blob: " + "\n    ".join(lines) + "\n  other: x\n",
        "json": json.dumps({"kind": "ConfigMap", "data": {"first": "x", "blob": "\n".join(lines) + "\n"}}),
    }


@pytest.mark.parametrize("layout", [("base64",), ("openssl base64", "base64 -w 16"), ("base64 -w 16", "base64"),
                                    ("base64 -w 0", "urlsafe unpadded", "base64.encodebytes")], ids=">".join)
def test_every_key_in_yaml_block_folded_plain_scalars_and_json_strings(corpus: list[Key],
                                                                      layout: tuple[str, ...]) -> None:
    """Found at its key path whatever the scalar style; in a Secret's ``data``, one layer deeper."""
    for index, key in enumerate(corpus):
        payload, layer = encode(key.text, layout)
        before, after = NEIGHBOURS[index % len(NEIGHBOURS)]
        lines = planted(before, payload, after)
        for style, text in yaml_contexts(lines).items():
            name = "cm.json" if style == "json" else "cm.yaml"
            found = assert_one(key_findings(scan_text(text, name), corpus), key, layer, (layout, style))
            assert found.extra["key_path"] == "data.blob", (key.name, layout, style)
        secret = f"kind: Secret\nmetadata:\n  name: s\ndata:\n  key: {b64(payload)}\n"
        found = assert_one(key_findings(scan_text(secret, "s.yaml"), corpus), key, f"base64>{layer}", layout)
        assert found.extra["key_path"] == "data.key"


ENCODER_NAMES = st.sampled_from(sorted(ENCODERS))
NEIGHBOUR_LINES = st.sampled_from(["", "more", "WIDTH", "RANDOM", "dG9rZW4=", "QUJDRA", "a" * 20])


@settings(max_examples=60)
@given(index=st.integers(0, 12), layout=st.lists(ENCODER_NAMES, min_size=1, max_size=3), before=NEIGHBOUR_LINES,
       after=NEIGHBOUR_LINES, indent=st.integers(0, 6), style=st.sampled_from(["text", "literal", "json"]))
def test_any_layout_of_any_key_is_found(corpus: list[Key], index: int, layout: list[str], before: str, after: str,
                                        indent: int, style: str) -> None:
    key = corpus[index % len(corpus)]
    payload, layer = encode(key.text, tuple(layout))
    lines = planted(before, payload, after)
    if style == "text":
        text, name = "x: y\n" + "\n".join(" " * indent + line for line in lines) + "\n", "x.txt"
    else:
        text, name = yaml_contexts(lines)["literal" if style == "literal" else "json"], f"x.{style}"
    assert_one(key_findings(scan_text(text, name), corpus), key, layer, (layout, before, after, style))


def test_one_key_in_many_layouts_is_one_finding_with_one_fingerprint(corpus: list[Key]) -> None:
    """The fingerprint is the key's, whatever its encoding: many layouts in one file are one finding."""
    for key in corpus:
        texts = [encode(key.text, layout)[0] for layout in LAYOUTS[::9]]
        found = key_findings(scan_text("\n".join(texts) + "\n", "all.txt"), corpus)
        assert [f.code for f in found] == [key.code], key.name
        assert len({m.fingerprint for text in texts for m in find_key_material(text)}) == 1, key.name


# ------------------------------------------------------------------------------------------ must stay quiet

@settings(max_examples=80)
@given(data=st.binary(min_size=1, max_size=900), layout=st.lists(ENCODER_NAMES, min_size=1, max_size=3),
       before=NEIGHBOUR_LINES, after=NEIGHBOUR_LINES, style=st.sampled_from(["text", "literal", "folded", "json"]))
def test_random_base64_in_the_same_layouts_finds_nothing(data: bytes, layout: list[str], before: str, after: str,
                                                        style: str) -> None:
    """Decoding every alignment of every run of base64 lines never makes a key out of noise."""
    payload, _ = encode(data.decode("latin-1"), tuple(layout))
    lines = planted(before, payload, after)
    text = "\n".join(lines) + "\n" if style == "text" else yaml_contexts(lines)[style]
    assert scan_text(text, "noise.json" if style == "json" else "noise.yaml") == []


def test_certificates_public_keys_and_near_miss_markers_in_every_layout_find_nothing() -> None:
    """Encoded ``-----BEGIN`` that is not a private key passes the pre-filter and is decoded, not reported."""
    cert = f"{BEGIN}CERTIFICATE-----\n{b64(os.urandom(600), wrap=64)}\n{END}CERTIFICATE-----\n"
    look_alikes = [
        cert * 2,
        f"{BEGIN}PUBLIC KEY-----\n{b64(os.urandom(90), wrap=64)}\n{END}PUBLIC KEY-----\n",
        f"{BEGIN}AGE ENCRYPTED FILE-----\n{b64(os.urandom(200), wrap=64)}\n{END}AGE ENCRYPTED FILE-----\n",
        "notes: BEGIN here, PRIVATE KEY there, AGE-SECRET and KEY- apart\n" * 3,
        "# ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA public key\nage1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs\n",
    ]
    for text in look_alikes:
        for layout in LAYOUTS[::5]:
            payload, _ = encode(text, layout)
            for before, after in NEIGHBOURS:
                assert scan_text("\n".join(planted(before, payload, after)) + "\n", "x.txt") == [], layout
