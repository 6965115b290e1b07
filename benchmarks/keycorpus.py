"""A recall corpus of real private keys, generated at run time (never committed): one key per file.

Keys come from the real tools (``ssh-keygen``, ``openssl``, ``age-keygen``, ``gpg`` when it works offline)
into a temporary directory. Each key is planted in five positions, one file each:

- ``literal``: PEM text in a ConfigMap value (YAML block scalar);
- ``base64``: the base64 of the PEM in a ConfigMap value (one line);
- ``nested``: base64 of base64 of the PEM, wrapped at 76 columns in a block scalar;
- ``secret-data``: a ``kind: Secret`` whose ``data`` holds the base64 of the PEM, keys out of the usual order;
- ``secret-stringdata``: a Secret whose ``stringData`` holds the PEM text;
- ``hex``: the hex of the PEM (``xxd -p`` style, 60 columns) in a ConfigMap value;
- ``gzip-base64``: ``gzip | base64`` of the PEM in a Secret's ``data``;
- ``json-escaped``: the PEM in a JSON file, escaped twice (a JSON string inside a JSON string);
- ``last-applied``: the PEM only in a Secret's ``kubectl.kubernetes.io/last-applied-configuration`` annotation;
- ``list-item``: base64 of the PEM in the ``data`` of a Secret inside a ``kind: List``, ``kind`` quoted.

Files go to paths like ``clusters/prod/<key>/...``: nothing marks them as fixtures. Recall of a scanner =
planted files it flags / planted files.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POSITIONS = ("literal", "base64", "nested", "secret-data", "secret-stringdata", "hex", "gzip-base64", "json-escaped",
             "last-applied", "list-item")
TIMEOUT = 60


@dataclass(frozen=True)
class Planted:
    """One corpus file: which key, which position, where."""

    key: str
    position: str
    path: Path


def _run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, check=True, capture_output=True, timeout=TIMEOUT)


def _ssh(kind: str, *extra: str) -> Callable[[Path], str]:
    def make(work: Path) -> str:
        target = work / f"ssh-{kind}-{len(list(work.iterdir()))}"
        _run(["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "bench@example.invalid", "-f", str(target)])
        return target.read_text(encoding="ascii")
    return make


def _openssl(*argv: str) -> Callable[[Path], str]:
    def make(work: Path) -> str:
        return _run(["openssl", *argv]).stdout.decode("ascii")
    return make


def _age(work: Path) -> str:
    target = work / f"age-{len(list(work.iterdir()))}.txt"
    _run(["age-keygen", "-o", str(target)])
    return target.read_text(encoding="ascii")


def _gpg(work: Path) -> str:
    home = work / "gnupg"
    home.mkdir(mode=0o700, exist_ok=True)
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    try:
        _run([*base, "--quick-gen-key", "bench <bench@example.invalid>", "ed25519", "sign", "never"])
        return _run([*base, "--armor", "--export-secret-keys"]).stdout.decode("ascii")
    finally:  # stop the agent this homedir may have started
        if shutil.which("gpgconf"):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False,
                           timeout=TIMEOUT)


GENERATORS: dict[str, Callable[[Path], str]] = {
    "openssh-ed25519": _ssh("ed25519"),
    "openssh-rsa": _ssh("rsa", "-b", "2048"),
    "openssh-ecdsa": _ssh("ecdsa", "-b", "256"),
    "pem-rsa-traditional": _ssh("rsa", "-b", "2048", "-m", "PEM"),
    "pkcs8-rsa": _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
    "pkcs8-ec": _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
    "pkcs8-ed25519": _openssl("genpkey", "-algorithm", "ed25519"),
    "sec1-ec": _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout"),
    "pkcs8-encrypted": _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256",
                                "-pass", "pass:bench-only"),
    "age": _age,
    "pgp": _gpg,
}


def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(text.rstrip("\n") + "\n", " " * spaces)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def plant(material: str, position: str, name: str) -> str:
    """A YAML manifest holding ``material`` in ``position``."""
    if position == "literal":
        return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key.pem: |\n"
                f"{_indent(material, 4)}")
    if position == "base64":
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key.b64: {_b64(material)}\n"
    if position == "nested":
        wrapped = textwrap.fill(_b64(_b64(material)), 76)
        return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key.b64.b64: |\n"
                f"{_indent(wrapped, 4)}")
    if position == "secret-data":
        return (f"data:\n  zz-note: {_b64('PLACEHOLDER-note')}\n  identity: {_b64(material)}\ntype: Opaque\n"
                f"metadata:\n  namespace: flux-system\n  name: {name}\napiVersion: v1\nkind: Secret\n")
    if position == "secret-stringdata":
        return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: flux-system\n"
                f"stringData:\n  identity: |\n{_indent(material, 4)}")
    if position == "hex":
        wrapped = textwrap.fill(material.encode("ascii").hex(), 60)
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key.hex: |\n{_indent(wrapped, 4)}"
    if position == "gzip-base64":
        packed = base64.b64encode(gzip.compress(material.encode("ascii"), mtime=0)).decode("ascii")
        return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ndata:\n  key.gz: {packed}\n"
    if position == "json-escaped":
        return json.dumps({"name": name, "config": json.dumps({"key": material})}) + "\n"
    if position == "last-applied":
        applied = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                              "stringData": {"identity": material}})
        return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  annotations:\n"
                f"    kubectl.kubernetes.io/last-applied-configuration: {json.dumps(applied)}\n"
                "stringData:\n  identity: PLACEHOLDER-identity\n")
    if position == "list-item":
        return (f'apiVersion: v1\n"kind": "List"\nitems:\n  - apiVersion: v1\n    "kind": "Secret"\n'
                f"    metadata:\n      name: {name}\n    data:\n      identity: {_b64(material)}\n")
    raise ValueError(f"unknown position {position!r}")


def build_corpus(out: Path, keys: tuple[str, ...] | None = None) -> tuple[list[Planted], list[str]]:
    """Generate keys and write one file per (key, position) under ``out``; returns (files, skipped keys).

    A key type whose tool is missing or fails (e.g. ``gpg`` without a usable agent) is skipped and named.
    """
    out.mkdir(parents=True, exist_ok=True)
    planted: list[Planted] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as scratch:
        work = Path(scratch)
        for key, make in GENERATORS.items():
            if keys is not None and key not in keys:
                continue
            tool = {"age": "age-keygen", "pgp": "gpg"}.get(key, "ssh-keygen" if key.startswith(("openssh", "pem"))
                                                           else "openssl")
            if shutil.which(tool) is None:
                skipped.append(key)
                continue
            try:
                material = make(work)
            except (subprocess.SubprocessError, OSError, UnicodeDecodeError):
                skipped.append(key)
                continue
            for position in POSITIONS:
                suffix = "json" if position == "json-escaped" else "yaml"
                path = out / "clusters" / "prod" / key / f"{key}--{position}.{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(plant(material, position, f"bench-{key}"), encoding="ascii")
                planted.append(Planted(key, position, path))
    return planted, skipped
