"""Redaction: fingerprints, masking rules, text redaction (literal and base64 at any alignment)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.redact import (
    fingerprint,
    is_secret_key,
    is_secret_path,
    looks_like_key_material,
    masked,
    redact_text,
    safe_line,
    should_mask,
)
from harness.yamlcompare import compare_yaml_bytes

SECRET = "PLACEHOLDER-very-private-value-123"


def test_fingerprint_format() -> None:
    assert fingerprint("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()[:8]
    assert fingerprint(b"abc") == fingerprint("abc")
    assert re.fullmatch(r"sha256:[0-9a-f]{8}", fingerprint({"b": 1, "a": [1, 2]}))
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({1: "x", "a": "y"}).startswith("sha256:")  # mixed keys do not crash
    assert masked("abc") == f"<redacted {fingerprint('abc')}>"


@pytest.mark.parametrize(("key", "secret"), [
    ("identity", True), ("identity.pub", True), ("known_hosts", True), ("password", True),
    ("adminPassword", True), ("token", True), ("bearer-token", True), ("private_key", True), ("tls.key", True),
    ("clientSecret", True), ("secret", True), ("AWS_SECRET_ACCESS_KEY", True), ("credentials", True),
    ("name", False), ("secretRef", False), ("existingSecret", False), ("url", False), ("replicas", False),
])
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


@pytest.mark.parametrize(("path", "kind", "secret"), [
    (("data", "config.json"), "Secret", True),
    (("stringData", "anything"), "Secret", True),
    (("stringData",), "Secret", True),
    (("data", "config.json"), "ConfigMap", False),
    (("metadata", "name"), "Secret", False),
    (("spec", "values", "secrets", "db", "user"), None, True),
    (("spec", "values", "existingSecrets", 0), None, True),
    (("spec", "values", "auth", "password", "value"), None, True),
    (("secretGenerator", 0, "literals", 0), "Kustomization", True),
    (("secretGenerator", 0, "name"), "Kustomization", False),
    (("spec", "secretRef", "name"), "GitRepository", False),
])
def test_is_secret_path(path: tuple[str | int, ...], kind: str | None, secret: bool) -> None:
    assert is_secret_path(path, doc_kind=kind) is secret


def test_key_material_is_masked_anywhere() -> None:
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"
    assert should_mask(("spec", "values", "note"), pem)
    assert should_mask(("x",), "AGE-SECRET-KEY-1QQQQ")
    assert should_mask(("x",), base64.b64encode(b"-----BEGIN RSA PRIVATE KEY-----").decode())
    assert not should_mask(("x",), "-----BEGIN AGE ENCRYPTED FILE-----")


def test_safe_line() -> None:
    assert safe_line("password=hunter2") == f"password={masked('hunter2')}"
    assert safe_line('  "token": "abc"') == f'  "token": {masked(chr(34) + "abc" + chr(34))}'
    assert safe_line("realm: opencenter") == "realm: opencenter"
    token = "AbCdEfGh1234567890AbCdEfGh12345678"
    assert safe_line(f"value {token}") == f"value {masked(token)}"
    path = "./applications/overlays/k8s-dev/services/harbor-abcdefghijklmnop"
    assert safe_line(path) == path
    assert safe_line("-----BEGIN PRIVATE KEY-----").startswith("<redacted sha256:")
    assert safe_line("x" * 500).endswith("...")


def test_redact_text_literal_and_base64() -> None:
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for prefix in (b"", b"a", b"ab", b"abc"):
            blob = encode(prefix + SECRET.encode() + b"tail").decode()
            text = f"literal {SECRET} and blob {blob}"
            out = redact_text(text, [SECRET])
            assert SECRET not in out
            core = encode(b"\x00" * (len(prefix) % 3) + SECRET.encode()).decode()[4:-4]
            assert core not in out
            assert masked(SECRET) in out


def test_redact_text_ignores_empty_and_tiny_values() -> None:
    assert redact_text("a b c", ["", "a"]) == "a b c"
    assert redact_text("nothing here", []) == "nothing here"


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=40),
       st.text(max_size=20), st.text(max_size=20))
def test_redact_text_removes_every_literal(secret: str, before: str, after: str) -> None:
    assume(secret not in masked(secret))
    assert secret not in redact_text(before + secret + after, [secret])


def test_planted_secret_never_appears_in_diff_lines() -> None:
    fixture = f"""apiVersion: v1
kind: Secret
metadata: {{name: auth, namespace: flux-system}}
stringData:
  identity: {SECRET}
  known_hosts: PLACEHOLDER-hosts
data:
  token: {base64.b64encode(SECRET.encode()).decode()}
""".encode()
    rendered = b"""apiVersion: v1
kind: Secret
metadata: {name: auth, namespace: flux-system}
stringData:
  identity: PLACEHOLDER-other
"""
    diff = compare_yaml_bytes(rendered, fixture).diff_lines()
    text = "\n".join(diff)
    assert SECRET not in text
    assert base64.b64encode(SECRET.encode()).decode() not in text
    assert f"stringData.identity: {masked(SECRET)} → {masked('PLACEHOLDER-other')}" in diff
    assert "data: removed {token: <redacted sha256:" in text
    assert "stringData.known_hosts: removed <redacted sha256:" in text


def test_redaction_follows_the_scanners_model(tmp_path: Path) -> None:
    """Issue 13 item 5: what the scanner treats as secret-bearing is masked: List items' Secret data, the
    last-applied annotation, and key material in every encoding the scanner reads."""
    import gzip
    import subprocess

    assert should_mask(("items", 0, "data", "k"), "dmFsdWU=", doc_kind="List")
    assert should_mask(("items", 3, "stringData", "k"), "value", doc_kind="SecretList")
    assert not should_mask(("items", 0, "spec", "replicas"), "3", doc_kind="List")
    assert should_mask(("metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"), "{}",
                       doc_kind="Secret")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(tmp_path / "k.pem")], check=True,
                   capture_output=True)
    pem = (tmp_path / "k.pem").read_bytes()
    encoded = {
        "hex": pem.hex(),
        "HEX": pem.hex().upper(),
        "gzip+base64": base64.b64encode(gzip.compress(pem)).decode(),
        "base64url, shifted": base64.urlsafe_b64encode(b"xy" + pem).decode(),
        "base64 twice, wrapped": "\n".join(base64.encodebytes(base64.b64encode(pem)).decode().splitlines()),
        "json-escaped twice": pem.decode().replace("\n", "\\\\n"),
    }
    for name, value in encoded.items():
        assert looks_like_key_material(value), name
        assert should_mask(("data", "notes"), value, doc_kind="ConfigMap"), name
        assert safe_line(f"notes: {value}").startswith("<redacted sha256:"), name


def test_redact_text_masks_hex_and_base64_of_base64() -> None:
    secret = "s3cret-value-123"
    once = base64.b64encode(secret.encode()).decode()
    text = f"a {secret} b {once} c {base64.b64encode(once.encode()).decode()} d {secret.encode().hex()} e"
    out = redact_text(text, [secret])
    for piece in (secret, once[:12], secret.encode().hex()):
        assert piece not in out
    assert out.count("<redacted ") == 4


def test_a_kind_that_is_not_a_string_is_not_a_crash() -> None:
    # `kind: {}` in a hand-edited fixture reached is_secret_path as an unhashable dict (TypeError, exit 3);
    # found by the soundness property test of `check --changed`.
    from harness.yamlcompare import Change, format_change

    assert not is_secret_path(("kind",), doc_kind={})
    assert format_change(Change("changed", ("kind",), old="ConfigMap", new={}, kind={})) == "kind: 'ConfigMap' → {}"


def test_yaml_diffs_mask_every_secret_bearing_shape(tmp_path: Path) -> None:
    """The diff face (harness.yamlcompare, used by check, diff, explain and the reports) on the shapes of
    issue 13: a Secret in a List with a quoted kind, a last-applied annotation, a hex-encoded and a
    gzip+base64 key in a ConfigMap; neither side's value appears."""
    import gzip
    import json
    import subprocess

    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    str(tmp_path / "k.pem")], check=True, capture_output=True)
    pem = (tmp_path / "k.pem").read_bytes()
    applied = json.dumps({"kind": "Secret", "stringData": {"password": "hunter2-plain"}})

    def doc(password: str, key_hex: str, key_gz: str, note: str) -> bytes:
        return (f'apiVersion: v1\n"kind": "List"\nitems:\n  - apiVersion: v1\n    "k\\x69nd": "Secret"\n'
                f"    metadata:\n      name: s\n      annotations:\n"
                f"        kubectl.kubernetes.io/last-applied-configuration: {json.dumps(note)}\n"
                f"    stringData:\n      password: {password}\n"
                f"  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: c}}\n"
                f"    data:\n      hex: {key_hex}\n      gz: {key_gz}\n").encode()

    old = doc("PLACEHOLDER-a", "00", "AA==", "{}")
    packed = base64.b64encode(gzip.compress(pem)).decode()
    new = doc("hunter2-plain", pem.hex(), packed, applied)
    text = "\n".join(compare_yaml_bytes(new, old).diff_lines())
    assert "<redacted sha256:" in text
    for leaked in ("hunter2", pem.hex()[40:80], packed[20:60]):
        assert leaked not in text
