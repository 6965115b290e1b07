"""Every shape of a Secret (issue 13 item 2): any YAML spelling of ``kind: Secret`` (the pre-filter is a
superset of them by construction: a Hypothesis property over spellings), List items, the last-applied
annotation, secretGenerator literals/envs/files, UTF-16 files; and ENC[...] only with sops' grammar."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.findings import Finding
from harness.report.sarif import to_sarif
from harness.secrets import prefilter, scan_bytes, scan_paths, scan_text
from harness.secrets.prefilter import may_hold_secret
from harness.yamlio import load_documents
from tests.harness.secret_corpus import Key, assert_no_leak, generate

NOT_PLACEHOLDER = "SECRET-NOT-PLACEHOLDER"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def leak_free(findings: list[Finding], corpus: list[Key]) -> None:
    assert_no_leak(json.dumps([f.to_dict() for f in findings]) + json.dumps(to_sarif(findings, "t")), corpus)


# ------------------------------------------------------------------------------- spellings of a Secret

def _escaped(text: str, which: list[int]) -> str:
    """``text`` as the inside of a double-quoted YAML scalar, the characters at ``which`` escaped."""
    out = []
    for index, char in enumerate(text):
        if index in which:
            out.append(["\\x%02x", "\\u%04x", "\\U%08x"][index % 3] % ord(char))
        else:
            out.append(char)
    return "".join(out)


@st.composite
def scalar(draw: st.DrawFn, text: str, *, as_key: bool) -> str:
    """One YAML spelling of the string ``text`` (a key or a value)."""
    style = draw(st.sampled_from(["plain", "single", "double", "escaped", "tagged"]  # implicit keys: one line
                                 + ([] if as_key else ["continued", "next-line", "literal", "folded"])))
    if style == "plain":
        return text
    if style == "single":
        return f"'{text}'"
    if style == "double":
        return f'"{text}"'
    if style == "escaped":
        which = draw(st.lists(st.integers(0, len(text) - 1), min_size=1, unique=True))
        return '"' + _escaped(text, which) + '"'
    if style == "tagged":
        return f"!!str {text}"
    if style == "continued":  # an escaped line break joins the two pieces without a space
        cut = draw(st.integers(1, len(text) - 1))
        return f'"{text[:cut]}\\\n    {text[cut:]}"'
    if style == "next-line":
        return f"\n  {text}"
    return ("|-" if style == "literal" else ">-") + f"\n  {text}"


@st.composite
def secret_spelling(draw: st.DrawFn) -> str:
    """A Secret whose ``kind`` (key and value) and layout are spelled in one of YAML's equivalent ways."""
    key = draw(scalar("kind", as_key=True))
    value = draw(scalar("Secret", as_key=False))
    layout = draw(st.sampled_from(["block", "flow", "json", "explicit-key", "alias"]))
    if layout == "flow" and "\n" not in value:
        return "{" + f"apiVersion: v1, {key}: {value}, metadata: {{name: s}}, stringData: {{k: plain-value}}" + "}\n"
    if layout == "json":
        json_value = '"' + _escaped("Secret", draw(st.lists(st.integers(0, 5), unique=True))) + '"'
        return '{"apiVersion": "v1", "kind": ' + json_value + ', "stringData": {"k": "plain-value"}}\n'
    if layout == "explicit-key":
        return f"apiVersion: v1\n? {key}\n: {value.strip()}\nstringData:\n  k: plain-value\n"
    if layout == "alias":
        return f"apiVersion: v1\nmetadata:\n  labels:\n    type: &t Secret\n{key}: *t\nstringData:\n  k: plain-value\n"
    return f"apiVersion: v1\n{key}: {value}\nstringData:\n  k: plain-value\n"


@settings(max_examples=300, deadline=None)
@given(secret_spelling())
def test_every_yaml_spelling_of_a_secret_passes_the_prefilter_and_is_checked(text: str) -> None:
    docs = load_documents(text, "s.yaml")
    assert docs[0]["kind"] == "Secret", text  # the spelling is really a Secret to a YAML reader
    assert may_hold_secret(text.encode()), text
    assert "secret" in prefilter(text.encode())
    assert [f.code for f in scan_text(text, "testdata/s.yaml")] == [NOT_PLACEHOLDER], text


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120))
def test_a_document_the_prefilter_skips_is_never_a_secret(text: str) -> None:
    """The other direction of the superset: whatever parses to a Secret (or a secretGenerator) was not
    skipped. Random text seldom parses to one, so the spellings above carry the weight; this catches a
    pre-filter that is too clever."""
    if may_hold_secret(text.encode()):
        return
    try:
        docs = load_documents(text, "x.yaml")
    except Exception:
        return
    assert not any(isinstance(d, dict) and (d.get("kind") == "Secret" or "secretGenerator" in d) for d in docs)


# ------------------------------------------------------------------------------------------------ shapes

def test_secret_list_items_with_and_without_their_own_kind() -> None:
    text = ("apiVersion: v1\nkind: SecretList\nitems:\n  - metadata: {name: a}\n    stringData: {k: plain}\n"
            "  - kind: Secret\n    metadata: {name: b}\n    data: {k: " + base64.b64encode(b"x").decode() + "}\n")
    found = scan_text(text, "testdata/list.yaml")
    assert sorted(f.extra["key_path"] for f in found) == ["items[0].stringData.k", "items[1].data.k"]


def test_last_applied_configuration_is_parsed_checked_and_masked(corpus: list[Key]) -> None:
    key = next(k for k in corpus if k.name == "pkcs8-ec")
    applied = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                          "stringData": {"password": "hunter2-plain"},
                          "data": {"tls.key": base64.b64encode(key.text.encode()).decode()}})
    text = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n"
            f"    kubectl.kubernetes.io/last-applied-configuration: {json.dumps(applied)}\n"
            "stringData:\n  password: PLACEHOLDER-password\n")
    found = scan_text(text, "testdata/applied.yaml")
    leak_free(found, corpus)
    annotation = 'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]'
    policy = {f.extra["key_path"] for f in found if f.code == NOT_PLACEHOLDER}
    assert f"{annotation}.stringData.password" in policy
    assert f'{annotation}.data["tls.key"]' in policy
    assert [f.code for f in found if f.extra.get("key_type")] == ["SECRET-REAL-KEY"]
    assert "hunter2" not in json.dumps([f.to_dict() for f in found])
    from harness.redact import should_mask

    plain = json.dumps({"kind": "Secret", "stringData": {"password": "hunter2-plain"}})
    assert should_mask(("metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"), plain,
                       doc_kind="Secret")


def test_secret_generator_literals_envs_and_files(tmp_path: Path) -> None:
    fixture = tmp_path / "testdata" / "app"
    fixture.mkdir(parents=True)
    (fixture / "kustomization.yaml").write_text(
        "secretGenerator:\n  - name: creds\n    literals:\n      - user=PLACEHOLDER-user\n      - password=hunter2\n"
        "    envs:\n      - app.env\n    files:\n      - tls.key=key.txt\n      - values.yaml\n      - ok.txt\n")
    (fixture / "app.env").write_text("# comment\nUSER=PLACEHOLDER-user\nTOKEN=s3cr3t-token\n")
    (fixture / "key.txt").write_text("not a placeholder\n")
    (fixture / "ok.txt").write_text("PLACEHOLDER-ok\n")
    (fixture / "values.yaml").write_text("replicas: 2\ntoken_url: https://id.example.invalid/token\n"
                                         "auth:\n  adminPassword: plain-admin\n  secretName: tls\n")
    found = scan_paths([tmp_path / "testdata"], root=tmp_path, fixture_globs=["testdata/**"])
    got = {(f.path, f.line, f.extra["key_path"]) for f in found}
    assert got == {("testdata/app/kustomization.yaml", 5, "secretGenerator[0].literals[1]"),
                   ("testdata/app/app.env", 3, "TOKEN"),
                   ("testdata/app/key.txt", 1, ""),
                   ("testdata/app/values.yaml", 0, "auth.adminPassword")}, got
    assert all(f.code == NOT_PLACEHOLDER for f in found)
    text = json.dumps([f.to_dict() for f in found])
    for value in ("hunter2", "s3cr3t", "plain-admin"):
        assert value not in text
    # outside the fixture globs the policy does not apply (keys would still be found)
    assert scan_paths([tmp_path / "testdata"], root=tmp_path, fixture_globs=["other/**"]) == []


def test_sops_encrypted_env_file_passes(tmp_path: Path) -> None:
    iv, tag = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(16)).decode()
    enc = f"ENC[AES256_GCM,data:{base64.b64encode(b'x').decode()},iv:{iv},tag:{tag},type:str]"
    (tmp_path / "kustomization.yaml").write_text("secretGenerator:\n  - name: c\n    envs: [app.env]\n")
    (tmp_path / "app.env").write_text(f"TOKEN={enc}\nsops_mac={enc}\nsops_version=3.11.0\n")
    assert scan_paths([tmp_path], root=tmp_path, fixture_globs=["**"]) == []
    (tmp_path / "app.env").write_text(f"TOKEN={enc}\n")  # ENC[...] without sops metadata is not encrypted
    assert [f.extra["key_path"] for f in scan_paths([tmp_path], root=tmp_path, fixture_globs=["**"])] == ["TOKEN"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_utf16_and_utf32_secrets_are_read(codec: str, corpus: list[Key]) -> None:
    key = next(k for k in corpus if k.name == "ssh-ed25519")
    text = "apiVersion: v1\nkind: Secret\nstringData:\n  k: plain\n  ssh: |\n" + \
        "".join(f"    {line}\n" for line in key.text.splitlines())
    found = scan_bytes(text.encode(codec), "testdata/s.yaml")
    assert {f.code for f in found} == {NOT_PLACEHOLDER, "SECRET-REAL-KEY"}
    leak_free(found, corpus)
