"""Secret scanner: private-key material in any file, and non-placeholder Secret values in fixture files.

What is found, in any file, at any position:
- private keys of every family in :mod:`harness.secrets.keys` (PEM of every type, OpenSSH, PGP, SSH2,
  PuTTY, ``AGE-SECRET-KEY-1...``), one module per family;
- the same inside base64 (standard or URL-safe alphabet, padded or not, wrapped at any width and
  indentation, in YAML block or folded scalars and JSON strings, next to other base64 lines), nested up
  to :data:`MAX_LAYERS` levels deep.

``-----BEGIN AGE ENCRYPTED FILE-----`` (in every sops-encrypted file) and certificates are not keys.

Findings (``check="secrets"``):
- ``SECRET-REAL-KEY``: the material parses as a real key (``cryptography`` loads the PEM or OpenSSH key,
  or it needs a password to do so; an age key has a valid bech32 checksum), whatever its label says.
- ``SECRET-PRIVATE-KEY``: a private-key marker that does not parse (still forbidden).
- ``SECRET-NOT-PLACEHOLDER``: a value of a ``kind: Secret`` document's ``data`` (after base64 decoding)
  or ``stringData`` that is neither ``PLACEHOLDER-...`` nor SOPS-encrypted (``ENC[...]``).
- ``SECRET-UNSCANNABLE``: a file that may hold secrets but cannot be fully checked (a Secret that does
  not parse as YAML, a file over ``max_file_bytes`` whose pre-filter matched).

Every finding names the file, line, key path (for YAML values), the decoding layer (``literal``,
``base64``, ``base64url>base64``...) and a fingerprint (``sha256:`` + 8 hex) of the matched material.
The material itself never enters a finding, a message or an exception.

The package, one concept per module: :mod:`.prefilter` (one pass over the bytes; most files stop there),
:mod:`.keys` (the key families), :mod:`.base64runs` (decoding), :mod:`.material` (finding keys through
the layers), :mod:`.policy` (the Secret-value policy), :mod:`.scan` (one file),
:mod:`.reading` (reading one), :mod:`.walk` (which files), :mod:`.repository` (the whole repository) and
:mod:`.fanout` (over several processes).
"""

from __future__ import annotations

from harness.secrets.keys.age import is_age_secret_key
from harness.secrets.material import KeyMatch, find_key_material, parses_as_key
from harness.secrets.model import CHECK, PLACEHOLDER_PREFIX
from harness.secrets.prefilter import MAX_LAYERS, base64_signatures, encoded_re, prefilter
from harness.secrets.project import ProjectScan, scan_project
from harness.secrets.repository import repository_files, scan_repository
from harness.secrets.scan import YAML_SUFFIXES, scan_bytes, scan_text
from harness.secrets.walk import DEFAULT_MAX_FILE_BYTES, SKIP_DIRS, fixture_files, is_fixture, scan_file, scan_paths

__all__ = [
    "CHECK",
    "DEFAULT_MAX_FILE_BYTES",
    "MAX_LAYERS",
    "PLACEHOLDER_PREFIX",
    "SKIP_DIRS",
    "YAML_SUFFIXES",
    "KeyMatch",
    "ProjectScan",
    "base64_signatures",
    "encoded_re",
    "find_key_material",
    "fixture_files",
    "is_age_secret_key",
    "is_fixture",
    "parses_as_key",
    "prefilter",
    "repository_files",
    "scan_bytes",
    "scan_file",
    "scan_paths",
    "scan_project",
    "scan_repository",
    "scan_text",
]
