"""A corpus of private keys GENERATED AT TEST TIME (never committed) and the encodings the scanner must see
through. Used by tests/harness/test_secrets.py, test_sarif.py and test_detect_secrets_plugin.py.

Keys: ssh-keygen ed25519/rsa/ecdsa/dsa (and an encrypted ed25519), ``openssl genpkey`` RSA/EC/ed25519 in
PKCS#8 plus RSA/EC/DSA in the traditional format, an encrypted PKCS#8 key, ``age-keygen``, a real PGP
secret key exported by ``gpg`` (in a throwaway home), and a synthetic PGP private key block (a header and
random body: a marker that does not parse as a key).
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Split so that no scanner flags this source file itself.
BEGIN = "-----" + "BEGIN "
END = "-----" + "END "


@dataclass(frozen=True)
class Key:
    """One generated key: ``text`` is the whole key file (PEM block, or the age secret key line)."""

    name: str
    label: str  # what the scanner reports as the key type
    text: str
    real: bool  # parses as a real key (SECRET-REAL-KEY) rather than a bare marker

    @property
    def code(self) -> str:
        return "SECRET-REAL-KEY" if self.real else "SECRET-PRIVATE-KEY"


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is not installed (scripts/setup.sh installs it)"
    return path


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=120)


def generate(directory: Path) -> list[Key]:
    """Generate the corpus into ``directory`` (a tmp dir) and return the keys."""
    ssh, openssl, age = _tool("ssh-keygen"), _tool("openssl"), _tool("age-keygen")
    d = directory
    for kind, bits in (("ed25519", None), ("rsa", "1024"), ("ecdsa", "256"), ("dsa", None)):
        args = [ssh, "-q", "-t", kind, "-N", "", "-C", "", "-f", str(d / f"ssh_{kind}")]
        if bits:
            args[4:4] = ["-b", bits]
        _run(*args, cwd=d)
    _run(ssh, "-q", "-t", "ed25519", "-N", "corpus-pass", "-C", "", "-f", str(d / "ssh_ed25519_enc"), cwd=d)
    _run(openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa8.pem", cwd=d)
    _run(openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec8.pem", cwd=d)
    _run(openssl, "genpkey", "-algorithm", "ed25519", "-out", "ed8.pem", cwd=d)
    _run(openssl, "pkey", "-in", "rsa8.pem", "-traditional", "-out", "rsa_trad.pem", cwd=d)
    _run(openssl, "pkey", "-in", "ec8.pem", "-traditional", "-out", "ec_trad.pem", cwd=d)
    _run(openssl, "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024",
         "-out", "dsa_params.pem", cwd=d)
    _run(openssl, "genpkey", "-paramfile", "dsa_params.pem", "-out", "dsa8.pem", cwd=d)
    _run(openssl, "pkey", "-in", "dsa8.pem", "-traditional", "-out", "dsa_trad.pem", cwd=d)
    _run(openssl, "pkcs8", "-topk8", "-in", "rsa8.pem", "-v2", "aes-256-cbc", "-passout", "pass:corpus-pass",
         "-out", "enc8.pem", cwd=d)
    _run(age, "-o", "age.txt", cwd=d)
    home = d / "gnupg"
    home.mkdir(mode=0o700)
    gpg = [_tool("gpg"), "--batch", "--homedir", str(home), "--passphrase", ""]
    _run(*gpg, "--quick-gen-key", "Corpus <corpus@example.invalid>", "ed25519", "default", "never", cwd=d)
    try:
        gpg_key = subprocess.run([*gpg, "--export-secret-keys", "--armor"], cwd=d, check=True, capture_output=True,
                                 timeout=120).stdout.decode("ascii")
    finally:  # gpg starts an agent for this home; stop it (it would outlive the test)
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False,
                       timeout=60)
    age_line = next(line for line in (d / "age.txt").read_text().splitlines() if line.startswith("AGE-"))
    body = base64.encodebytes(os.urandom(300)).decode()
    pgp = f"{BEGIN}PGP PRIVATE KEY BLOCK-----\n\n{body}={base64.b64encode(os.urandom(3)).decode()}\n" \
          f"{END}PGP PRIVATE KEY BLOCK-----\n"

    def read(name: str) -> str:
        return (d / name).read_text()

    keys = [
        Key("ssh-ed25519", "OPENSSH PRIVATE KEY", read("ssh_ed25519"), True),
        Key("ssh-rsa", "OPENSSH PRIVATE KEY", read("ssh_rsa"), True),
        Key("ssh-ecdsa", "OPENSSH PRIVATE KEY", read("ssh_ecdsa"), True),
        Key("ssh-dsa", "OPENSSH PRIVATE KEY", read("ssh_dsa"), True),
        Key("ssh-ed25519-encrypted", "OPENSSH PRIVATE KEY", read("ssh_ed25519_enc"), True),
        Key("pkcs8-rsa", "PRIVATE KEY", read("rsa8.pem"), True),
        Key("pkcs8-ec", "PRIVATE KEY", read("ec8.pem"), True),
        Key("pkcs8-ed25519", "PRIVATE KEY", read("ed8.pem"), True),
        Key("traditional-rsa", "RSA PRIVATE KEY", read("rsa_trad.pem"), True),
        Key("traditional-ec", "EC PRIVATE KEY", read("ec_trad.pem"), True),
        Key("traditional-dsa", "DSA PRIVATE KEY", read("dsa_trad.pem"), True),
        Key("pkcs8-encrypted", "ENCRYPTED PRIVATE KEY", read("enc8.pem"), True),
        Key("age", "AGE SECRET KEY", age_line, True),
        Key("pgp-gpg", "PGP PRIVATE KEY BLOCK", gpg_key, True),
        Key("pgp-synthetic", "PGP PRIVATE KEY BLOCK", pgp, False),
    ]
    for key in keys:
        assert key.text.startswith(BEGIN) or key.text.startswith("AGE-SECRET-KEY-1"), key.name
    return keys


# ------------------------------------------------------------------------------------------- encodings

def b64(data: str | bytes, *, urlsafe: bool = False, pad: bool = True, wrap: int = 0) -> str:
    """One base64 layer: standard or URL-safe alphabet, with or without padding, optionally wrapped."""
    raw = data.encode("latin-1") if isinstance(data, str) else data
    text = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode("ascii")
    if not pad:
        text = text.rstrip("=")
    if wrap:
        text = "\n".join(text[i:i + wrap] for i in range(0, len(text), wrap))
    return text


Encoder = Callable[[str], str]

ENCODINGS: dict[str, tuple[Encoder, str]] = {
    # name: (encoder, expected layer)
    "literal": (lambda s: s, "literal"),
    "base64": (lambda s: b64(s), "base64"),
    "base64-unpadded": (lambda s: b64(s, pad=False), "base64"),
    "base64url": (lambda s: b64(s, urlsafe=True), "base64*"),
    "base64url-unpadded": (lambda s: b64(s, urlsafe=True, pad=False), "base64*"),
    "base64-wrap64": (lambda s: b64(s, wrap=64), "base64"),
    "base64-wrap76": (lambda s: b64(s, wrap=76), "base64"),
    "base64-twice": (lambda s: b64(b64(s)), "base64>base64"),
    "base64-twice-wrapped": (lambda s: b64(b64(s, wrap=76), wrap=64), "base64>base64"),
    "base64url-twice-unpadded": (lambda s: b64(b64(s, urlsafe=True, pad=False), urlsafe=True, pad=False),
                                 "base64*>base64*"),
    "base64-three-times": (lambda s: b64(b64(b64(s))), "base64>base64>base64"),
    "base64-three-times-mixed": (lambda s: b64(b64(b64(s, wrap=64), urlsafe=True), wrap=76),
                                 "base64>base64*>base64"),
}


def layer_matches(expected: str, actual: str) -> bool:
    """``base64*`` accepts ``base64`` or ``base64url`` (a URL-safe run may contain neither ``-`` nor ``_``)."""
    want, got = expected.split(">"), actual.split(">")
    return len(want) == len(got) and all(
        g == w or (w == "base64*" and g in ("base64", "base64url")) for w, g in zip(want, got, strict=True))


@functools.cache
def forms(key: Key) -> tuple[str, ...]:
    """Distinctive pieces of a key and of its encodings, for leak checks: the key body lines and
    32-character windows from the middle of each encoding and of its hex (the start of an encoding is only
    the header)."""
    pieces: list[str] = []
    for line in key.text.splitlines():
        line = line.strip()
        if len(line) >= 24 and "PRIVATE KEY" not in line:
            pieces.append(line)
    for encoder, _ in ENCODINGS.values():
        flat = "".join(encoder(key.text).split())
        for start in range(len(flat) // 3, len(flat) - 32, max(1, len(flat) // 6)):
            pieces.append(flat[start:start + 32])
    hexed = key.text.encode("latin-1").hex()
    for start in range(len(hexed) // 3, len(hexed) - 32, max(1, len(hexed) // 6)):
        pieces += [hexed[start:start + 32], hexed[start:start + 32].upper()]
    return tuple(pieces)


def assert_no_leak(text: str, keys: list[Key]) -> None:
    """Fail if ``text`` contains any key's bytes or a piece of any of its base64 encodings."""
    for key in keys:
        for piece in forms(key):
            assert piece not in text, f"output leaks material of generated key {key.name}"
