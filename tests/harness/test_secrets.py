"""The fixture secret scanner on a key corpus generated at test time (tests/harness/secret_corpus.py)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import random
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import InputError
from harness.findings import Finding
from harness.sarif import to_sarif
from harness.secrets import (
    base64_signatures,
    find_key_material,
    fixture_files,
    is_age_secret_key,
    prefilter,
    scan_bytes,
    scan_file,
    scan_paths,
    scan_text,
)
from harness.tools import find_tool
from tests.harness.secret_corpus import BEGIN, ENCODINGS, END, Key, assert_no_leak, b64, generate, layer_matches

ROOT = Path(__file__).resolve().parents[2]
KEY_CODES = {"SECRET-REAL-KEY", "SECRET-PRIVATE-KEY"}
FP = "sha256:"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def key_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code in KEY_CODES]


def record(corpus: list[Key], findings: list[Finding]) -> None:
    """Every finding, as JSON and as SARIF, must be free of key material."""
    assert_no_leak(json.dumps([f.to_dict() for f in findings]) + json.dumps(to_sarif(findings, "test")), corpus)


def indent(text: str, spaces: int) -> str:
    return textwrap.indent(text.rstrip("\n"), " " * spaces)


# ------------------------------------------------------------------------------------------ detection

@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_key_in_every_encoding_in_a_text_file(corpus: list[Key], encoding: str) -> None:
    encode, layer = ENCODINGS[encoding]
    for key in corpus:
        text = f"# notes\nsome text before\n{encode(key.text)}\ntrailing text\n"
        assert prefilter(text.encode()), (key.name, encoding)
        findings = scan_text(text, "notes/readme.txt")
        record(corpus, findings)
        found = key_findings(findings)
        assert len(found) == 1, (key.name, encoding, [f.message for f in findings])
        finding = found[0]
        assert finding.code == key.code, (key.name, encoding)
        assert finding.line == 3
        assert finding.extra["key_type"] == key.label
        assert layer_matches(layer, finding.extra["layer"]), (key.name, encoding, finding.extra["layer"])
        assert finding.extra["fingerprint"].startswith(FP)
        assert len(finding.extra["fingerprint"]) == len(FP) + 8
        assert f"layer {finding.extra['layer']}" in finding.message


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_key_in_every_encoding_as_a_yaml_value(corpus: list[Key], encoding: str) -> None:
    encode, layer = ENCODINGS[encoding]
    for key in corpus:
        text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: material\ndata:\n  first: plain\n"
                f"  blob: |\n{indent(encode(key.text), 4)}\n  last: plain\n")
        findings = scan_text(text, "testdata/cm.yaml")
        record(corpus, findings)
        found = key_findings(findings)
        assert [f.code for f in found] == [key.code], (key.name, encoding, [f.message for f in findings])
        assert found[0].extra["key_path"] == "data.blob"
        assert found[0].line == 7
        assert layer_matches(layer, found[0].extra["layer"]), (key.name, encoding, found[0].extra["layer"])


def secret_doc(order: list[str], *, name: str, data: dict[str, str], string_data: dict[str, str]) -> str:
    parts = {
        "apiVersion": "apiVersion: v1\n",
        "kind": "kind: Secret\n",
        "metadata": f"metadata:\n  name: {name}\n  namespace: flux-system\n",
        "type": "type: Opaque\n",
        "data": "data:\n" + "".join(f"  {k}: {v}\n" for k, v in data.items()) if data else "",
        "stringData": "stringData:\n" + "".join(f"  {k}: |\n{indent(v, 4)}\n" for k, v in string_data.items())
        if string_data else "",
    }
    return "".join(parts[k] for k in order)


def test_every_key_in_secret_data_and_string_data_any_order_multi_document(corpus: list[Key]) -> None:
    rng = random.Random(1234)
    for key in corpus:
        order = ["apiVersion", "kind", "metadata", "type", "data", "stringData"]
        rng.shuffle(order)
        items = [("known_hosts", b64("PLACEHOLDER-known-hosts")), ("identity", b64(key.text)),
                 ("identity.pub", b64("PLACEHOLDER-identity-pub"))]
        rng.shuffle(items)
        doc = secret_doc(order, name=f"s-{key.name}", data=dict(items),
                         string_data={"other": "PLACEHOLDER-x", "ssh": key.text})
        text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n---\n" + doc + \
               "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: last\n"
        findings = scan_text(text, "testdata/secret.yaml")
        record(corpus, findings)
        found = {(f.code, f.extra["key_path"]) for f in findings}
        # one key, one finding (issue 13): both places are listed in its positions
        keys = key_findings(findings)
        assert [f.code for f in keys] == [key.code], (key.name, order)
        places = {p["key_path"]: p for p in keys[0].extra["positions"]}
        assert set(places) == {"data.identity", "stringData.ssh"}, (key.name, order)
        assert keys[0].extra["key_path"] in places
        assert ("SECRET-NOT-PLACEHOLDER", "data.identity") in found
        assert ("SECRET-NOT-PLACEHOLDER", "stringData.ssh") in found
        assert not {p for c, p in found if p in ("data.known_hosts", 'data["identity.pub"]', "stringData.other")}
        assert places["data.identity"]["layer"] == "base64"
        assert places["stringData.ssh"]["layer"] == "literal"
        assert keys[0].extra["document"] == 2
        lines = text.splitlines()
        assert lines[places["data.identity"]["line"] - 1].strip().startswith("identity:")
        assert lines[places["stringData.ssh"]["line"] - 1].strip().startswith("ssh:")
        assert lines[keys[0].line - 1].strip().startswith(("identity:", "ssh:"))


def test_every_top_level_key_order_in_one_multi_document_file(corpus: list[Key]) -> None:
    key = next(k for k in corpus if k.name == "ssh-ed25519")
    docs = []
    orders = list(itertools.permutations(["apiVersion", "kind", "metadata", "data", "stringData"]))
    for number, order in enumerate(orders):
        docs.append(secret_doc(list(order), name=f"s{number}", data={"identity": b64(key.text)},
                               string_data={"note": "PLACEHOLDER-note"}))
    text = "---\n".join(docs)
    findings = scan_text(text, "testdata/many.yaml")
    real = [f for f in findings if f.code == "SECRET-REAL-KEY"]
    assert len(real) == 1  # one key, one finding (issue 13), listing its place in every document
    positions = real[0].extra["positions"]
    assert sorted(p["document"] for p in positions) == list(range(1, len(orders) + 1))
    lines = text.splitlines()
    assert all(lines[p["line"] - 1].strip().startswith("identity:") for p in positions)
    assert real[0].line == positions[0]["line"] == min(p["line"] for p in positions)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_nested_base64_in_secret_data(corpus: list[Key], layers: int) -> None:
    for key in corpus:
        value = key.text
        for _ in range(layers):
            value = b64(value)
        findings = scan_text(secret_doc(["apiVersion", "kind", "metadata", "data"], name="n",
                                        data={"identity": b64(value)}, string_data={}), "s.yaml")
        found = key_findings(findings)
        assert [f.code for f in found] == [key.code], key.name
        assert found[0].extra["layer"] == ">".join(["base64"] * (layers + 1))


@pytest.mark.parametrize("shift", range(6))
def test_key_anywhere_inside_an_encoded_payload(corpus: list[Key], shift: int) -> None:
    """Keys after arbitrary text (every byte alignment), wrapped, nested twice, indented in YAML."""
    for key in corpus:
        payload = "config: values\n" + "x" * shift + "\n" + key.text + "\ntrailer: 1\n"
        inner = b64(payload, wrap=76)
        text = f"kind: ConfigMap\ndata:\n  bundle: |\n{indent(b64(inner, wrap=64), 4)}\n"
        found = key_findings(scan_text(text, "cm.yaml"))
        assert [f.code for f in found] == [key.code], (key.name, shift)
        assert found[0].extra["layer"] == "base64>base64"


def test_placeholder_labelled_real_key_is_still_a_real_key(corpus: list[Key]) -> None:
    for key in corpus:
        doc = secret_doc(["kind", "data", "stringData", "metadata", "apiVersion"], name="labelled",
                         data={"identity": b64("PLACEHOLDER-identity\n" + key.text)},
                         string_data={"ssh": "PLACEHOLDER-" + key.text})
        findings = scan_text(doc, "testdata/labelled.yaml")
        record(corpus, findings)
        assert [f.code for f in findings] == [key.code], key.name  # one key, one finding (issue 13)
        assert {p["key_path"] for p in findings[0].extra["positions"]} == {"data.identity", "stringData.ssh"}


def test_markers_that_do_not_parse_are_private_key_findings() -> None:
    for label in ("OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY",
                  "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"):
        fake = f"{BEGIN}{label}-----\nPLACEHOLDER-not-a-key\n{END}{label}-----\n"
        for text in (fake, b64(fake), b64(b64(fake))):
            found = key_findings(scan_text(f"a\n{text}\n", "x.txt"))
            assert [(f.code, f.extra["key_type"]) for f in found] == [("SECRET-PRIVATE-KEY", label)], label
    age_like = "AGE-SECRET-KEY-1" + "Q" * 58
    assert not is_age_secret_key(age_like)
    assert [f.code for f in scan_text(age_like, "x.txt")] == ["SECRET-PRIVATE-KEY"]


def test_age_key_checksum(corpus: list[Key]) -> None:
    key = next(k for k in corpus if k.name == "age")
    assert is_age_secret_key(key.text)
    broken = key.text[:-1] + ("Q" if key.text[-1] != "Q" else "P")
    assert not is_age_secret_key(broken)


# ------------------------------------------------------------------------------------------ must pass

def test_placeholders_sops_values_certificates_and_age_encrypted_blocks_pass(tmp_path: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem"), "-days", "1",
                    "-subj", "/CN=test"], check=True, capture_output=True)
    cert = (tmp_path / "c.pem").read_text()
    age_block = (f"{BEGIN}AGE ENCRYPTED FILE-----\n" + b64(b"age-encryption.org/v1\n-> X25519 abc\n" + os.urandom(64),
                                                          wrap=64) + f"\n{END}AGE ENCRYPTED FILE-----\n")
    clean = {
        "placeholder.yaml": secret_doc(["apiVersion", "kind", "metadata", "data", "stringData"], name="ok",
                                       data={"identity": b64("PLACEHOLDER-identity"), "known_hosts":
                                             b64("PLACEHOLDER-known-hosts\nmore")},
                                       string_data={"token": "PLACEHOLDER-token"}),
        "sops-values.yaml": secret_doc(["apiVersion", "kind", "metadata", "data", "stringData"], name="enc",
                                       data={"identity": sops_value(b"foo")},
                                       string_data={"token": sops_value(b"xyz")})
        + f"sops:\n  age:\n    - recipient: age1xyz\n      enc: |\n{indent(age_block, 8)}\n"
        + "  mac: " + sops_value(os.urandom(32)) + "\n  version: 3.11.0\n",
        "cert.yaml": f"kind: ConfigMap\ndata:\n  ca.crt: {b64(cert)}\n  pem: |\n{indent(cert, 4)}\n",
        "age-block.txt": age_block,
        "store.yaml": "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata:\n  name: s\nspec: {}\n",
        "empty-secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: none\ntype: Opaque\n",
        "random.txt": "\n".join(b64(os.urandom(600), wrap=76) for _ in range(3)),
    }
    for name, text in clean.items():
        assert scan_text(text, f"testdata/{name}") == [], name


def sops_value(data: bytes, kind: str = "str") -> str:
    """An encrypted value in sops' grammar (random iv and tag of sops' sizes)."""
    parts = [base64.b64encode(part).decode() for part in (data, os.urandom(32), os.urandom(16))]
    return f"ENC[AES256_GCM,data:{parts[0]},iv:{parts[1]},tag:{parts[2]},type:{kind}]"


def test_enc_counts_only_in_sops_grammar_in_a_document_with_sops_metadata() -> None:
    """Issue 13: ENC[...] is encrypted only when it follows sops' value grammar with valid base64 parts, in
    a document that carries sops metadata."""
    metadata = "sops:\n  mac: " + sops_value(os.urandom(32)) + "\n  version: 3.11.0\n"
    good = sops_value(b"hunter2")
    bad_values = {
        "short-iv": "ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]",
        "bad-base64": good.replace("data:", "data:!!"),
        "other-cipher": good.replace("AES256_GCM", "ROT13"),
        "no-type": good.split(",type:")[0] + "]",
        "free-text": "ENC[this is not encrypted]",
    }
    for name, value in bad_values.items():
        doc = secret_doc(["apiVersion", "kind", "metadata", "stringData"], name=name, data={},
                         string_data={"token": value}) + metadata
        assert [f.code for f in scan_text(doc, "testdata/s.yaml")] == ["SECRET-NOT-PLACEHOLDER"], name
    plain = secret_doc(["apiVersion", "kind", "metadata", "stringData"], name="x", data={}, string_data={"t": good})
    assert [f.code for f in scan_text(plain, "testdata/s.yaml")] == ["SECRET-NOT-PLACEHOLDER"]  # no metadata
    assert scan_text(plain + metadata, "testdata/s.yaml") == []
    listed = ("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n"
              f"      name: x\n    stringData:\n      k: {good}\n" + metadata)
    assert scan_text(listed, "testdata/list.yaml") == []


def test_a_real_sops_encrypted_secret_passes(tmp_path: Path) -> None:
    sops, age_keygen = find_tool("sops"), find_tool("age-keygen")
    subprocess.run([str(age_keygen), "-o", str(tmp_path / "age.txt")], check=True, capture_output=True)
    recipient = next(line.split(": ")[1] for line in (tmp_path / "age.txt").read_text().splitlines()
                     if line.startswith("# public key"))
    plain = tmp_path / "secret.yaml"
    plain.write_text(secret_doc(["apiVersion", "kind", "metadata", "stringData"], name="s", data={},
                                string_data={"identity": "a real-looking value", "token": "another value"}))
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    encrypted = subprocess.run([str(sops), "--encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$",
                                "--input-type", "yaml", "--output-type", "yaml", str(plain)],
                               check=True, capture_output=True, env=env, cwd=tmp_path).stdout.decode()
    assert "AGE ENCRYPTED FILE" in encrypted
    assert "ENC[" in encrypted
    assert scan_text(encrypted, "testdata/secret.enc.yaml") == []
    assert {f.code for f in scan_text(plain.read_text(), "testdata/secret.yaml")} == {"SECRET-NOT-PLACEHOLDER"}


def test_not_placeholder_values() -> None:
    doc = secret_doc(["apiVersion", "kind", "metadata", "data", "stringData"], name="bad",
                     data={"a": b64("hunter2"), "b": "not base64 !", "c": "'12'", "ok": b64("PLACEHOLDER-c")},
                     string_data={"d": "plain", "e": "ENC[broken"})
    doc += "  f: 42\n  g: ''\n"
    findings = scan_text(doc, "testdata/bad.yaml")
    assert {f.extra["key_path"] for f in findings} == {"data.a", "data.b", "data.c", "stringData.d", "stringData.e",
                                                      "stringData.f", "stringData.g"}
    assert {f.code for f in findings} == {"SECRET-NOT-PLACEHOLDER"}
    assert all(f.line > 0 and f.extra["fingerprint"].startswith(FP) for f in findings)
    assert "hunter2" not in json.dumps([f.to_dict() for f in findings])
    in_list = ("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n"
               "      name: x\n    stringData:\n      k: plain\n")
    listed = scan_text(in_list, "list.yaml")
    assert [(f.code, f.extra["key_path"], f.line) for f in listed] == [
        ("SECRET-NOT-PLACEHOLDER", "items[0].stringData.k", 9)]


def test_unscannable_secret_and_oversize_files(corpus: list[Key], tmp_path: Path) -> None:
    duplicate = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: d\nstringData:\n  a: PLACEHOLDER-a\n  a: x\n"
    findings = scan_text(duplicate, "dup.yaml")
    assert [f.code for f in findings] == ["SECRET-UNSCANNABLE"]
    assert "YAML-DUPLICATE-KEY" in findings[0].message
    assert findings[0].line == 7
    big = tmp_path / "big.txt"
    big.write_text("x: 1\n" * 50_000 + b64(next(k for k in corpus if k.name == "ssh-rsa").text, wrap=76) + "\n")
    assert [f.code for f in scan_file(big, max_file_bytes=100_000)] == ["SECRET-UNSCANNABLE"]
    assert key_findings(scan_file(big, max_file_bytes=10_000_000))
    quiet = tmp_path / "quiet.txt"
    quiet.write_text("x: 1\n" * 50_000)
    assert scan_file(quiet, max_file_bytes=100_000) == []


def test_literal_key_in_a_binary_file_and_in_a_json_string(corpus: list[Key]) -> None:
    key = next(k for k in corpus if k.name == "pkcs8-ec")
    assert [f.code for f in scan_bytes(os.urandom(100) + b"\x00" + key.text.encode() + b"\xff", "blob.bin")] == [
        "SECRET-REAL-KEY"]
    as_json = json.dumps({"kind": "ConfigMap", "data": {"key": key.text}})
    found = scan_text(as_json, "cm.json")
    assert [(f.code, f.extra["key_path"]) for f in found] == [("SECRET-REAL-KEY", "data.key")]


def test_fingerprint_is_of_the_key_material_not_of_its_encoding(corpus: list[Key]) -> None:
    key = next(k for k in corpus if k.name == "traditional-rsa")
    prints = {m.fingerprint for text in (key.text, b64(key.text), b64(b64(key.text), wrap=64),
                                        indent(key.text, 6)) for m in find_key_material(text)}
    expected = "sha256:" + hashlib.sha256(key.text.strip().encode() + b"\n").hexdigest()[:8]
    assert prints == {expected}


# ------------------------------------------------------------------------------------------ pre-filter

def test_prefilter_is_empty_for_ordinary_manifests_and_hits_every_encoded_form(corpus: list[Key]) -> None:
    ordinary = (ROOT / "renderer" / "templates").rglob("*.yaml")
    for path in ordinary:
        data = path.read_bytes()
        if b"Secret" not in data and b"secretGenerator" not in data:  # a secretGenerator makes Secret data
            assert prefilter(data) == set(), path
    assert b"LS0tLS1CRUdJ" in {s[:12] for s in base64_signatures(1)}
    for key in corpus:
        for encoding, (encode, _) in ENCODINGS.items():
            reasons = prefilter(("data:\n  x: |\n" + indent(encode(key.text), 6)).encode())
            assert reasons & {"literal", "encoded"}, (key.name, encoding)


# ------------------------------------------------------------------------------------------ files, CLI

def write_project(tmp_path: Path, corpus: list[Key]) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.overlay-parity]\nfixture_globs = ["testdata/**"]\n')
    fixture = tmp_path / "testdata" / "fx" / "customer-managed" / "sources"
    fixture.mkdir(parents=True)
    rsa = next(k for k in corpus if k.name == "ssh-rsa")
    (fixture / "secret.yaml").write_text(secret_doc(["kind", "data", "apiVersion", "metadata"], name="repo",
                                                    data={"identity": b64(rsa.text)}, string_data={}))
    (fixture / "kustomization.yaml").write_text("resources:\n  - secret.yaml\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "outside.txt").write_text(b64(rsa.text) + "\n")
    return fixture / "secret.yaml"


def test_scan_paths_and_fixture_globs(corpus: list[Key], tmp_path: Path) -> None:
    secret = write_project(tmp_path, corpus)
    files = fixture_files(tmp_path, ["testdata/**"])
    assert [p.name for p in files] == ["kustomization.yaml", "secret.yaml"]
    findings = scan_paths(files, root=tmp_path)
    assert {(f.path, f.code) for f in findings} == {
        ("testdata/fx/customer-managed/sources/secret.yaml", "SECRET-REAL-KEY"),
        ("testdata/fx/customer-managed/sources/secret.yaml", "SECRET-NOT-PLACEHOLDER")}
    assert scan_paths([tmp_path / "docs"], root=tmp_path)[0].path == "docs/outside.txt"
    assert scan_paths([secret.parent / "kustomization.yaml"], root=tmp_path) == []
    with pytest.raises(InputError) as info:
        scan_paths([tmp_path / "nope.yaml"], root=tmp_path)
    assert info.value.code == "FILE-MISSING"


def test_cli_scan_secrets(corpus: list[Key], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    outputs: list[str] = []
    secret = write_project(tmp_path, corpus)
    monkeypatch.chdir(tmp_path)
    assert main(["scan-secrets", "--json", "out/r.json", "--sarif", "out/r.sarif"]) == 1
    out, err = capsys.readouterr()
    outputs.extend([out, err, (tmp_path / "out/r.json").read_text(), (tmp_path / "out/r.sarif").read_text()])
    lines = out.splitlines()
    assert len(lines) == 3  # no path: the whole tree, so the key in docs/ (outside the fixture globs) too
    assert lines[0].startswith("docs/outside.txt:1: SECRET-REAL-KEY ")
    for line in lines[1:]:
        assert line.startswith("testdata/fx/customer-managed/sources/secret.yaml:")
        assert line.split(": ", 2)[1].split()[0] in ("SECRET-REAL-KEY", "SECRET-NOT-PLACEHOLDER")
    for line in lines:
        assert line.endswith("]")
        assert "[sha256:" in line
    assert "scan-secrets:" in err
    report = json.loads((tmp_path / "out/r.json").read_text())
    assert report["summary"]["by_code"] == {"SECRET-NOT-PLACEHOLDER": 1, "SECRET-REAL-KEY": 2}
    sarif = json.loads((tmp_path / "out/r.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == 3
    # explicit paths: docs/ is not a fixture but keys are looked for in every file given (issue 13)
    assert main(["scan-secrets", "docs/outside.txt"]) == 1
    assert main(["scan-secrets", "--only-fixtures", "docs/outside.txt"]) == 1
    assert main(["scan-secrets", "--only-fixtures", str(secret)]) == 1
    assert main(["scan-secrets", "testdata/fx/customer-managed/sources/kustomization.yaml"]) == 0
    assert main(["scan-secrets", "missing.yaml"]) == 2
    out, err = capsys.readouterr()
    outputs.extend([out, err])
    assert "FILE-MISSING" in err
    assert_no_leak("\n".join(outputs), corpus)


def test_the_repository_fixtures_are_clean() -> None:
    """The contract's standing policy: no key material and only placeholders in testdata/."""
    files = fixture_files(ROOT, ["testdata/**"])
    assert files, "testdata/ is empty"
    assert [f"{f.path}:{f.line}: {f.code}" for f in scan_paths(files, root=ROOT)] == []


def test_no_output_or_exception_contains_key_material(corpus: list[Key]) -> None:
    """Findings, reports and exception texts for broken files holding every key leak nothing (the other
    tests check their own findings and CLI output the same way)."""
    everything: list[str] = []
    for key in corpus:
        broken = f"kind: Secret\nstringData:\n  a: {b64(key.text)}\n  a: {key.text!r}\n: [\n"
        everything.extend(f.message for f in scan_text(broken, "broken.yaml"))
        try:
            from harness.yamlio import load_documents

            load_documents(broken, "broken.yaml")
        except InputError as exc:
            everything.append(str(exc))
        findings = scan_text("\n".join(encode(key.text) for encode, _ in ENCODINGS.values()), "all.txt")
        assert len(key_findings(findings)) == 1, key.name  # one key, reported once (by fingerprint)
        everything.append(json.dumps([f.to_dict() for f in findings]))
        everything.append(json.dumps(to_sarif(findings, "test")))
    assert len(everything) > 30
    assert_no_leak("\n".join(everything), corpus)


def test_fixture_files_order_links_skipped_dirs_and_relative_roots(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for rel in ("testdata/a/b.yaml", "testdata/a-b/x.yaml", "testdata/a.yaml", "testdata/.git/config",
                "testdata/node_modules/m.yaml", "canonicalization/inv.yaml", "canonicalization/deep/no.yaml",
                "other/c.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("a: 1\n")
    (tmp_path / "testdata" / "link.yaml").symlink_to(tmp_path / "other" / "c.yaml")
    (tmp_path / "testdata" / "linkdir").symlink_to(tmp_path / "other", target_is_directory=True)
    globs = ["testdata/**", "/canonicalization/*.yaml"]
    expected = [tmp_path / rel for rel in ("canonicalization/inv.yaml", "testdata/a/b.yaml", "testdata/a-b/x.yaml",
                                           "testdata/a.yaml")]
    assert fixture_files(tmp_path, globs) == expected  # sorted as paths: "a/b.yaml" before "a-b/x.yaml"
    monkeypatch.chdir(tmp_path)
    assert fixture_files(Path("."), globs) == [p.relative_to(tmp_path) for p in expected]
    assert fixture_files(Path("testdata"), ["**"]) == [Path("testdata/a/b.yaml"), Path("testdata/a-b/x.yaml"),
                                                       Path("testdata/a.yaml")]
