"""Files and literals that become Secret data through a kustomize ``secretGenerator``.

- ``literals: [key=value]``: each value is held to the Secret-value policy, like ``stringData``;
- ``envs: [file]``: each ``KEY=value`` line of the file is held to it (a sops-encrypted dotenv file carries
  ``sops_mac=`` and ``sops_version=`` lines);
- ``files: [[key=]file]``: the file's content becomes one Secret value. Plain text must be a
  ``PLACEHOLDER-...`` value or a sops-encrypted file; a YAML or JSON input (a values file) is structured
  data, so its string values under credential-named keys (``password``, ``adminPassword``, ``token``,
  ``clientSecret``, ``apiKey``..., see :func:`credential_key`) are held to the policy instead.

Key material is looked for in these files anyway (as in every file); this adds the policy.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from harness.fingerprints import digest, fingerprint
from harness.secrets.model import HINTS, Located, key_text
from harness.secrets.policy import KeyPath, has_sops_metadata, policy_problem, secret_documents, value_problem

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_STRUCTURED = frozenset({".yaml", ".yml", ".json"})
_CREDENTIAL_ENDINGS = ("password", "passwd", "passphrase", "secret", "token", "private_key", "privatekey", "api_key",
                       "apikey", "access_key", "accesskey", "secret_key", "secretkey", "credential", "credentials")


_CREDENTIAL_KEY = re.compile("(?:" + "|".join(ending.replace("_", "[_.-]?") for ending in _CREDENTIAL_ENDINGS)
                             + r"|identity|known[_.-]?hosts)[\"']?\s*:")
"""A credential-named key in the lower-cased YAML or JSON text (:func:`may_name_credential`)."""


def may_name_credential(text: str) -> bool:
    """Whether ``text`` may have a mapping key that :func:`credential_key` accepts: one written out, whose
    lower-cased form (as :func:`credential_key` compares it) ends the same way in the lower-cased text, before
    the end of the key; or an escape, which might spell one. (Searched case-sensitively in ``text.lower()``:
    an ignore-case search of every ending at every position took longer than parsing the file.)"""
    return "\\" in text or _CREDENTIAL_KEY.search(text.lower()) is not None


def credential_key(name: str) -> bool:
    """Whether a mapping key names a credential value itself (``adminPassword``, ``client_secret``), not
    something about one (``secretName``, ``token_url``, ``passwordPolicy``)."""
    normal = name.lower().replace("-", "_").replace(".", "_")
    return normal.endswith(_CREDENTIAL_ENDINGS) or normal in {"identity", "known_hosts"}


@dataclass(frozen=True)
class GeneratorInput:
    """A file a secretGenerator reads: ``mode`` is ``files`` or ``envs``; ``path`` is as written (relative
    to the kustomization's directory); ``generator`` names the Secret it becomes."""

    mode: str
    path: str
    generator: str
    key: KeyPath


def _generators(doc: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    generators = doc.get("secretGenerator") if isinstance(doc, dict) else None
    if isinstance(generators, list):
        for index, generator in enumerate(generators):
            if isinstance(generator, dict):
                yield index, generator


def _name(generator: dict[str, Any]) -> str:
    name = generator.get("name")
    return name if isinstance(name, str) else "(unnamed)"


def generator_inputs(doc: Any) -> list[GeneratorInput]:
    """The ``files:`` and ``envs:`` inputs of every secretGenerator of a kustomization document."""
    found: list[GeneratorInput] = []
    for index, generator in _generators(doc):
        for mode in ("files", "envs"):
            entries = generator.get(mode)
            for position, entry in enumerate(entries if isinstance(entries, list) else ()):
                if isinstance(entry, str) and entry.strip():
                    path = entry.split("=", 1)[1] if mode == "files" and "=" in entry else entry
                    found.append(GeneratorInput(mode, path.strip(), _name(generator),
                                                ("secretGenerator", index, mode, position)))
    return found


def literal_findings(doc: Any, number: int, suffix: str) -> list[Located]:
    """Policy findings for ``secretGenerator[*].literals`` entries of a document."""
    located: list[Located] = []
    for index, generator in _generators(doc):
        literals = generator.get("literals")
        for position, entry in enumerate(literals if isinstance(literals, list) else ()):
            if not isinstance(entry, str) or "=" not in entry:
                continue
            name, value = entry.split("=", 1)
            problem = value_problem(value.strip().strip("\"'"), encrypted=has_sops_metadata(doc))
            if problem:
                key = ("secretGenerator", index, "literals", position)
                located.append(_located(f"secretGenerator {_name(generator)}: literal {name.strip()} {problem}{suffix}",
                                        number, key, value))
    return located


def _located(message: str, number: int, key: KeyPath, value: Any) -> Located:
    return Located("SECRET-NOT-PLACEHOLDER", message, HINTS["SECRET-NOT-PLACEHOLDER"], number, key,
                   {"key_path": key_text(key), "layer": "literal", "fingerprint": fingerprint(value),
                    "digest": digest(value), "document": number + 1})


def input_findings(text: str, item: GeneratorInput, source: str) -> list[tuple[int, str, str, str]]:
    """Policy problems of one generator input's ``text``: (line, key path, problem, digest) each.
    ``source`` is the kustomization that reads it (named in messages by the caller)."""
    if item.mode == "envs":
        return list(_env_problems(text))
    if _structured(item.path):
        return list(_structured_problems(text, source))
    if _sops_file(text):
        return []
    problem = value_problem(text.strip(), encrypted=False)
    return [(1, "", "content " + problem, digest(text))] if problem else []


@functools.lru_cache(maxsize=1024)
def _structured(path: str) -> bool:
    """Whether a generator input is structured data (YAML or JSON), by its name (a fleet repeats names)."""
    return PurePosixPath(path).suffix.lower() in _STRUCTURED


def _sops_file(text: str) -> bool:
    """A whole file encrypted by sops (binary/text store): its JSON carries ``data`` and ``sops`` metadata."""
    import json

    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return has_sops_metadata(doc)


def _env_problems(text: str) -> Iterator[tuple[int, str, str, str]]:
    lines = text.splitlines()
    encrypted = any(line.startswith("sops_mac=") for line in lines) and \
        any(line.startswith("sops_version=") for line in lines)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped or stripped.startswith("sops_"):
            continue
        name, value = stripped.split("=", 1)
        problem = value_problem(value.strip().strip("\"'"), encrypted=encrypted)
        if problem:
            yield number, name.strip(), problem, digest(value)


def _structured_problems(text: str, source: str) -> Iterator[tuple[int, str, str, str]]:
    if not may_name_credential(text):
        return  # no credential-named key anywhere in the text (escapes aside): nothing to parse for
    from harness.errors import InputError
    from harness.yamlio import iter_paths, load_documents

    try:
        docs = load_documents(text, source)
    except InputError:
        return  # not parseable: the YAML checks report it; key material was looked for anyway
    for doc in docs:
        encrypted = has_sops_metadata(doc)
        for key, value in iter_paths(doc):
            names = [part for part in key if isinstance(part, str)]
            if not names or names[0] == "sops" or not credential_key(names[-1]) or not isinstance(value, str) \
                    or not value:
                continue
            problem = value_problem(value, encrypted=encrypted)
            if problem:
                yield 0, key_text(key), problem, digest(value)


def opaque_generator_inputs(kustomizations: Iterable[tuple[str, bytes]]) -> set[str]:
    """The tree-relative POSIX paths of the secretGenerator inputs in ``kustomizations`` ((tree-relative
    path, bytes) of kustomization files) whose whole content is Secret data: every ``envs:`` file and every
    ``files:`` input that is not structured YAML/JSON (a values file is structured data, masked by key as
    :mod:`harness.redact` masks any document). A face shows these by fingerprint only. A kustomization
    that does not parse names no input."""
    from harness.errors import InputError
    from harness.yamlio import load_documents

    found: set[str] = set()
    for path, data in kustomizations:
        if b"secretGenerator" not in data:
            continue
        try:
            docs = load_documents(data.decode("utf-8", errors="replace"), path)
        except InputError:
            continue
        base = posixpath.dirname(path)
        for doc in docs:
            for item in generator_inputs(doc):
                if item.mode == "envs" or PurePosixPath(item.path).suffix.lower() not in _STRUCTURED:
                    found.add(posixpath.normpath(posixpath.join(base, item.path)))
    return found


def holds_secret_values(documents: Iterable[Any]) -> bool:
    """Whether built objects (``kubectl kustomize`` output) hold a Secret value that the fixture policy would
    refuse in the source it was built from: a ``data``/``stringData`` value that is neither ``PLACEHOLDER-...``
    nor sops-encrypted, unless it is a whole sops file, or a YAML/JSON file (by its key's name, as
    ``secretGenerator`` ``files:`` name them) whose credential-named keys all pass, as for a generator
    input (:func:`input_findings`)."""
    for document in documents:
        encrypted = has_sops_metadata(document)
        for _, secret in secret_documents(document):
            for section in ("data", "stringData"):
                values = secret.get(section)
                if values is None:
                    continue
                if not isinstance(values, dict):
                    return True
                if any(_refused(section, str(key), value, encrypted) for key, value in values.items()):
                    return True
    return False


def _refused(section: str, key: str, value: Any, encrypted: bool) -> bool:
    if not policy_problem(section, value, encrypted=encrypted):
        return False
    if not isinstance(value, str):
        return True
    text = value if section == "stringData" else _base64_text(value)
    if text is None:
        return True
    if _sops_file(text):
        return False
    return not _structured(key) or any(True for _ in _structured_problems(text, key))


def _base64_text(value: str) -> str | None:
    """A ``data`` value decoded to text, None when it is not base64 of UTF-8."""
    import base64
    import binascii

    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
