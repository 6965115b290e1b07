"""Scan one file's text or bytes: pre-filter, then (only on a match) find key material, parse YAML for
key paths and the Secret-value policy, and turn what was found into findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.findings import Finding
from harness.secrets.base64runs import FOLDED_RE
from harness.secrets.keys import marker_re
from harness.secrets.material import KeyMatch, find_key_material
from harness.secrets.model import CHECK, HINTS, Located, key_text
from harness.secrets.policy import secret_documents, secret_policy
from harness.secrets.prefilter import prefilter

YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})


def key_finding(match: KeyMatch, where: str) -> tuple[str, str]:
    """(code, message) of a key finding; ``where`` says where it is (`` in data.x``)."""
    code = "SECRET-REAL-KEY" if match.real else "SECRET-PRIVATE-KEY"
    what = f"real {match.label}" if match.real else f"private-key marker ({match.label})"
    return code, f"{what}{where}, layer {match.layer}"


def scan_text(text: str, name: str, *, as_yaml: bool | None = None) -> list[Finding]:
    """Scan one file's text (``name`` is shown in findings). YAML parsing (key paths, Secret policy) is
    used when ``as_yaml`` is true, or by default for ``.yaml/.yml/.json`` names and ``kind: Secret`` texts."""
    try:
        data = text.encode("utf-8", "surrogateescape")  # undoes a surrogateescape decode
    except UnicodeEncodeError:  # a lone surrogate outside that range (e.g. from a "\ud800" escape)
        data = text.encode("utf-8", "surrogatepass")
    return _scan(data, name, as_yaml=as_yaml, text=text)


def scan_bytes(data: bytes, name: str, *, as_yaml: bool | None = None) -> list[Finding]:
    """Scan one file's bytes: pre-filter, then (only on a match) decode, parse and check."""
    return _scan(data, name, as_yaml=as_yaml)


def _scan(data: bytes, name: str, *, as_yaml: bool | None, text: str | None = None) -> list[Finding]:
    reasons = prefilter(data)
    if not reasons:
        return []
    secret_kind = "secret" in reasons
    yaml_text: str | None = text
    if yaml_text is None:
        try:
            yaml_text = data.decode("utf-8")
        except UnicodeDecodeError:
            yaml_text = None
    scan_as_text = yaml_text if yaml_text is not None else data.decode("latin-1")
    text_matches = find_key_material(scan_as_text) if reasons & {"literal", "encoded"} else []
    if as_yaml is None:
        as_yaml = Path(name).suffix.lower() in YAML_SUFFIXES or secret_kind
    wants_yaml = as_yaml and (secret_kind or bool(text_matches))  # parse only for policy or key paths
    located: list[Located] = []
    findings: list[Finding] = []
    docs: list[Any] | None = None
    if wants_yaml and yaml_text is not None:
        from harness.yamlio import load_documents

        try:
            docs = load_documents(yaml_text, name)
        except InputError as exc:
            if secret_kind:
                findings.append(Finding(
                    code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                    line=exc.location.line if exc.location else 0,
                    message=f"looks like a Secret but does not parse as YAML ({exc.code}); its values cannot be "
                            "checked", hint=HINTS["SECRET-UNSCANNABLE"]))
    elif secret_kind and yaml_text is None:
        findings.append(Finding(code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                                message="looks like a Secret but is not UTF-8 text; its values cannot be checked",
                                hint=HINTS["SECRET-UNSCANNABLE"]))
    seen: set[str] = set()
    if docs is not None:
        multi = len(docs) > 1
        for number, doc in enumerate(docs):
            located.extend(_scan_document(doc, number, multi, seen))
    for match in text_matches:
        if match.fingerprint in seen:
            continue  # already reported with its key path
        seen.add(match.fingerprint)
        code, message = key_finding(match, "")
        line = scan_as_text.count("\n", 0, match.start) + 1
        findings.append(Finding(code=code, message=message, check=CHECK, path=name, line=line, hint=HINTS[code],
                                extra={"layer": match.layer, "key_path": "", "fingerprint": match.fingerprint,
                                       "key_type": match.label}))
    if located:
        lines = _RoundTripLines(yaml_text or "", name)
        for item in located:
            findings.append(Finding(code=item.code, message=item.message, check=CHECK, path=name,
                                    line=lines.line(item.doc, item.key), hint=item.hint, extra=item.extra))
    return sorted(findings, key=lambda f: (f.line, f.code, f.extra.get("key_path", ""), f.message))


def _scan_document(doc: Any, number: int, multi: bool, seen: set[str]) -> list[Located]:
    from harness.yamlio import iter_paths  # loaded already: the document was parsed with it

    located: list[Located] = []
    suffix = f" (document {number + 1})" if multi else ""
    for key, value in iter_paths(doc):
        if not isinstance(value, str) or len(value) < 15:
            continue
        for match in find_key_material(_unfolded(value)):
            seen.add(match.fingerprint)
            code, message = key_finding(match, f" in {key_text(key)}{suffix}")
            located.append(Located(code, message, HINTS[code], number, key, {
                "layer": match.layer, "key_path": key_text(key), "fingerprint": match.fingerprint,
                "key_type": match.label, "document": number + 1}))
    for path, secret in secret_documents(doc):
        located.extend(secret_policy(secret, path, number, suffix))
    return located


def _unfolded(value: str) -> str:
    """A YAML string value with base64 lines that a folded (``>``) or multi-line plain scalar joined with
    spaces put back on their lines (same length, so spans hold)."""
    if " " in value and FOLDED_RE.fullmatch(value) and not marker_re().search(value):
        return value.replace(" ", "\n")
    return value


class _RoundTripLines:
    """Line numbers of key paths, from a round-trip parse done once and only when a finding needs one."""

    def __init__(self, text: str, name: str) -> None:
        self._text = text
        self._name = name
        self._docs: list[Any] | None = None

    def line(self, doc: int, key: tuple[str | int, ...]) -> int:
        if self._docs is None:
            self._docs = self._load()
        if doc >= len(self._docs):
            return 0
        from harness.yamlio import line_of

        node = self._docs[doc]
        line = line_of(node, key)
        if not line:
            lc = getattr(node, "lc", None)
            line = int(lc.line) + 1 if lc is not None else 0
        return line

    def _load(self) -> list[Any]:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            loader = YAML(typ="rt")
            return [d for d in loader.load_all(self._text) if d is not None]
        except (YAMLError, RecursionError, ValueError, IndexError):  # IndexError: ruamel on ``0o_`` (YAML 1.2)
            return []
